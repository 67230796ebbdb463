package awsquery

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsproto"
	"github.com/sesamehq/sesame/internal/api/v1wire"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const reqID = "7d6c2d52-7bb8-11e3-9b5b-2d8e8ac2a6a0"

// golden compares got with testdata/<name>.golden (rewritten with -update)
// and checks that it is well-formed XML.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(got))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed: %v\n%s", name, err, got)
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

func op(t *testing.T, name string) awsproto.Operation {
	t.Helper()
	o, ok := v1wire.LookupOperation(name)
	if !ok {
		t.Fatalf("no operation %s", name)
	}
	return o
}

func TestGoldenResponses(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	t1 := time.Date(2024, 1, 2, 3, 19, 5, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name string
		op   string
		out  any
	}{
		{"SendEmail", "SendEmail", &v1wire.SendEmailResponse{MessageId: "010001-abc-000000"}},
		{"ListIdentities", "ListIdentities", &v1wire.ListIdentitiesResponse{Identities: []string{"a@example.com", "example.com"}, NextToken: "eyJrIjoiZXhhbXBsZS5jb20ifQ=="}},
		{"ListIdentities_empty", "ListIdentities", &v1wire.ListIdentitiesResponse{}},
		{"GetIdentityVerificationAttributes", "GetIdentityVerificationAttributes", &v1wire.GetIdentityVerificationAttributesResponse{
			VerificationAttributes: map[string]v1wire.IdentityVerificationAttributes{
				"example.com":   {VerificationStatus: "Pending", VerificationToken: "QGVt+Z2hPhSxYc="},
				"a@example.com": {VerificationStatus: "Success"},
			}}},
		{"GetIdentityPolicies", "GetIdentityPolicies", &v1wire.GetIdentityPoliciesResponse{Policies: map[string]string{
			"allow-all": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ses:SendEmail"}]}`,
			"empty":     "",
		}}},
		{"GetSendStatistics", "GetSendStatistics", &v1wire.GetSendStatisticsResponse{SendDataPoints: []v1wire.SendDataPoint{
			{Timestamp: &t0, DeliveryAttempts: ptr[int64](10), Bounces: ptr[int64](1), Complaints: ptr[int64](0), Rejects: ptr[int64](2)},
			{Timestamp: &t1, DeliveryAttempts: ptr[int64](3)},
		}}},
		{"GetSendQuota", "GetSendQuota", &v1wire.GetSendQuotaResponse{Max24HourSend: ptr(200.0), MaxSendRate: ptr(14.5), SentLast24Hours: ptr(0.0)}},
		{"DescribeConfigurationSet", "DescribeConfigurationSet", &v1wire.DescribeConfigurationSetResponse{
			ConfigurationSet: &v1wire.ConfigurationSet{Name: "cs<&>\"'"},
			EventDestinations: []v1wire.EventDestination{{
				Name: "ed", Enabled: ptr(false), MatchingEventTypes: []string{"send", "bounce"},
				CloudWatchDestination: &v1wire.CloudWatchDestination{DimensionConfigurations: []v1wire.CloudWatchDimensionConfiguration{
					{DimensionName: "d", DimensionValueSource: "messageTag", DefaultDimensionValue: "x"},
				}},
			}},
			TrackingOptions:   &v1wire.TrackingOptions{},
			ReputationOptions: &v1wire.ReputationOptions{SendingEnabled: ptr(true), LastFreshStart: &t0},
		}},
		{"DeleteIdentity_empty_result", "DeleteIdentity", &v1wire.DeleteIdentityResponse{}},
		{"DeleteIdentity_nil_output", "DeleteIdentity", nil},
		{"VerifyEmailAddress_no_output_shape", "VerifyEmailAddress", &v1wire.VerifyEmailAddressOutput{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := MarshalResponse(op(t, tc.op), tc.out, reqID)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "response_"+tc.name, body)
		})
	}
}

func TestGoldenErrors(t *testing.T) {
	for name, e := range map[string]*apierr.Error{
		"MessageRejected":              v1wire.ErrMessageRejected("Email address is not verified. The following identities failed the check in region US-EAST-1: sender@example.com"),
		"AlreadyExists":                v1wire.ErrAlreadyExists("Rule set <rs1> already exists.", "rs1"),
		"EventDestinationDoesNotExist": v1wire.ErrEventDestinationDoesNotExist("No such event destination.", "cs1", "ed1"),
		"InvalidAction":                InvalidAction("Frobnicate"),
		"InternalFailure":              InternalFailure(),
		"Throttling":                   Throttling("Maximum sending rate exceeded."),
		"BadFieldName":                 {Status: 400, Code: "X", Message: "m", Sender: true, Fields: []apierr.Field{{Name: "ok", Value: "1"}, {Name: "<bad>", Value: "2"}}},
	} {
		t.Run(name, func(t *testing.T) { golden(t, "error_"+name, MarshalError(e, reqID)) })
	}
}

func TestWriteResponseAndError(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := WriteResponse(rec, op(t, "SendEmail"), &v1wire.SendEmailResponse{MessageId: "m"}, reqID); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/xml" || rec.Header().Get("x-amzn-RequestId") != reqID ||
		!bytes.Contains(rec.Body.Bytes(), []byte("<MessageId>m</MessageId>")) {
		t.Errorf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if err := WriteResponse(httptest.NewRecorder(), op(t, "SendEmail"), 42, reqID); err == nil {
		t.Error("non-struct output accepted")
	}
	for _, tc := range []struct {
		e      *apierr.Error
		status int
		typ    string
	}{
		{v1wire.ErrLimitExceeded("x"), 400, "<Type>Sender</Type>"},
		{nil, 500, "<Code>InternalFailure</Code>"},
		{&apierr.Error{Code: "Boom", Message: "m"}, 500, "<Type>Receiver</Type>"},
		{&apierr.Error{Code: "Oops", Message: "m", Sender: true}, 400, "<Type>Sender</Type>"},
		{ServiceUnavailable(), http.StatusServiceUnavailable, "<Type>Receiver</Type>"},
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, tc.e, reqID)
		if rec.Code != tc.status || !bytes.Contains(rec.Body.Bytes(), []byte(tc.typ)) || rec.Header().Get("x-amzn-RequestId") != reqID {
			t.Errorf("%+v: %d %s", tc.e, rec.Code, rec.Body)
		}
	}
}
