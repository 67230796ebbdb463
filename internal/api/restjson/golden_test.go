package restjson

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsproto"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const reqID = "a1b2c3d4-0000-4000-8000-000000000003"

// golden compares got with testdata/<name>.golden (rewritten with -update)
// and checks that it is valid JSON.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if !json.Valid(got) {
		t.Fatalf("%s: invalid JSON: %s", name, got)
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

func TestGoldenResponses(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	t1 := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name string
		out  any
	}{
		{"SendEmail", &v2wire.SendEmailResponse{MessageId: "010001-v2-000000"}},
		{"GetEmailIdentity", &v2wire.GetEmailIdentityResponse{
			IdentityType: "DOMAIN", FeedbackForwardingStatus: ptr(true), VerifiedForSendingStatus: ptr(false),
			DkimAttributes: &v2wire.DkimAttributes{SigningEnabled: ptr(true), Status: "SUCCESS", Tokens: []string{"t1", "t2"},
				SigningAttributesOrigin: "AWS_SES", CurrentSigningKeyLength: "RSA_2048_BIT", LastKeyGenerationTimestamp: &t0},
			MailFromAttributes: &v2wire.MailFromAttributes{MailFromDomain: "m.example.com", MailFromDomainStatus: "SUCCESS", BehaviorOnMxFailure: "REJECT_MESSAGE"},
			Policies:           map[string]string{"b": `{"x":"<&>"}`, "a": ""},
			Tags:               []v2wire.Tag{{Key: "k", Value: "v"}},
			VerificationStatus: "SUCCESS",
		}},
		{"ListSuppressedDestinations", &v2wire.ListSuppressedDestinationsResponse{
			SuppressedDestinationSummaries: []v2wire.SuppressedDestinationSummary{
				{EmailAddress: "b@example.com", Reason: "BOUNCE", LastUpdateTime: &t0},
				{EmailAddress: "c@example.com", Reason: "COMPLAINT", LastUpdateTime: &t1},
			},
			NextToken: "bmV4dA==",
		}},
		{"ListSuppressedDestinations_empty", &v2wire.ListSuppressedDestinationsResponse{SuppressedDestinationSummaries: []v2wire.SuppressedDestinationSummary{}}},
		{"GetAccount", &v2wire.GetAccountResponse{SendingEnabled: ptr(true), ProductionAccessEnabled: ptr(false),
			SendQuota: &v2wire.SendQuota{Max24HourSend: ptr(200.0), MaxSendRate: ptr(1.5), SentLast24Hours: ptr(math.Inf(1))}}},
		{"empty_output", &v2wire.DeleteEmailIdentityResponse{}},
		{"nil_output", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, header, err := MarshalResponse(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if len(header) != 0 {
				t.Errorf("header %v", header)
			}
			golden(t, "response_"+tc.name, append(body, '\n'))
		})
	}
}

func TestGoldenErrors(t *testing.T) {
	for name, e := range map[string]*apierr.Error{
		"NotFound":   v2wire.ErrNotFound("Email identity a@example.com does not exist."),
		"Validation": BadRequest(awsproto.ValidationMessage([]awsproto.Violation{{Path: []awsproto.PathElem{{Member: "PageSize"}}, Value: "5000", HasValue: true, Constraint: "Member must have value less than or equal to 1000"}})),
		"Fields":     {Status: 400, Code: "X", Message: "say \"hi\"\n", Fields: []apierr.Field{{Name: "Extra", Value: "1"}, {Name: "message", Value: "dropped"}}},
	} {
		t.Run(name, func(t *testing.T) { golden(t, "error_"+name, append(MarshalError(e), '\n')) })
	}
}

// outShape has a header-located output member; no SES v2 output does.
type outShape struct {
	ETag  string            `aws:"ETag,loc=header"`
	When  *time.Time        `aws:"Last-Modified,loc=header"`
	Parts []string          `aws:"X-Parts,loc=header"`
	Meta  map[string]string `aws:"X-Meta-,loc=headers"`
	Data  []byte            `aws:"Data"`
	Stamp *time.Time        `aws:"Stamp,ts=iso8601"`
	List  []string          `aws:"List,req"`
}

func TestWriteResponseHeaders(t *testing.T) {
	when := time.Unix(1700000000, 0)
	rec := httptest.NewRecorder()
	out := &outShape{ETag: `"v1"`, When: &when, Parts: []string{"a", "b"}, Meta: map[string]string{"Color": "blue"}, Data: []byte("hi"), Stamp: &when}
	if err := WriteResponse(rec, awsproto.Operation{Name: "Out"}, out, reqID); err != nil {
		t.Fatal(err)
	}
	h := rec.Header()
	if rec.Code != 200 || h.Get("Content-Type") != "application/json" || h.Get("x-amzn-RequestId") != reqID ||
		h.Get("ETag") != `"v1"` || h.Get("Last-Modified") != "Tue, 14 Nov 2023 22:13:20 GMT" || h.Get("X-Parts") != "a, b" || h.Get("X-Meta-Color") != "blue" {
		t.Errorf("%d %v", rec.Code, h)
	}
	if got := rec.Body.String(); got != `{"Data":"aGk=","Stamp":"2023-11-14T22:13:20.000Z","List":[]}` {
		t.Errorf("body %s", got)
	}
	if err := WriteResponse(httptest.NewRecorder(), awsproto.Operation{Name: "Out"}, "text", reqID); err == nil {
		t.Error("non-struct output accepted")
	}
}

func TestWriteError(t *testing.T) {
	for _, tc := range []struct {
		e      *apierr.Error
		status int
		code   string
	}{
		{v2wire.ErrNotFound("m"), 404, "NotFoundException"},
		{v2wire.ErrTooManyRequests("m"), 429, "TooManyRequestsException"},
		{nil, 500, "InternalServiceErrorException"},
		{&apierr.Error{Code: "Oops", Sender: true}, 400, "Oops"},
		{&apierr.Error{Code: "Boom"}, 500, "Boom"},
		{UnknownOperation(), 404, "UnknownOperationException"},
		{MethodNotAllowed("PATCH"), 405, "MethodNotAllowedException"},
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, tc.e, reqID)
		var body struct{ Message *string }
		if rec.Code != tc.status || rec.Header().Get("x-amzn-ErrorType") != tc.code || rec.Header().Get("x-amzn-RequestId") != reqID ||
			json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Message == nil {
			t.Errorf("%+v: %d %v %s", tc.e, rec.Code, rec.Header(), rec.Body)
		}
	}
}
