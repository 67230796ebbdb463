package restjson

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsproto"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

func request(t *testing.T, method, target string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://127.0.0.1"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func badRequest(t *testing.T, err error) string {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != "BadRequestException" || ae.Status != 400 || !ae.Sender {
		t.Fatalf("error %v is not a BadRequestException", err)
	}
	return ae.Message
}

// decodeRoute routes and decodes a request the way an adapter does.
func decodeRoute(t *testing.T, method, target, body string) (any, error) {
	t.Helper()
	r := request(t, method, target)
	op, params, ok := v2Router(t).Match(method, r.URL.EscapedPath())
	if !ok {
		t.Fatalf("no route for %s %s", method, target)
	}
	in, _ := v2wire.NewInput(op.Name)
	return in, Decode(r, []byte(body), op, params, in)
}

func TestDecodeLabelsQueryAndBody(t *testing.T) {
	in, err := decodeRoute(t, "GET", "/v2/email/suppression/addresses?Reason=BOUNCE&Reason=COMPLAINT&StartDate=2024-01-02T03:04:05Z&EndDate=2024-02-01T00:00:00.5%2B01:00&PageSize=10&NextToken=a%2Bb", "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	end := time.Date(2024, 1, 31, 23, 0, 0, 500_000_000, time.UTC)
	want := &v2wire.ListSuppressedDestinationsRequest{Reasons: []string{"BOUNCE", "COMPLAINT"}, StartDate: &start, EndDate: &end, PageSize: ptr[int64](10), NextToken: "a+b"}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("got  %#v\nwant %#v", in, want)
	}

	in, err = decodeRoute(t, "PUT", "/v2/email/identities/a%40b.com/dkim/signing", `{
		"SigningAttributesOrigin": "EXTERNAL",
		"SigningAttributes": {"DomainSigningSelector": "s1", "DomainSigningPrivateKey": "QUJD", "NextSigningKeyLength": null},
		"Unknown": {"deep": [1, 2, 3]}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	dkim := in.(*v2wire.PutEmailIdentityDkimSigningAttributesRequest)
	if dkim.EmailIdentity != "a@b.com" || dkim.SigningAttributesOrigin != "EXTERNAL" ||
		dkim.SigningAttributes.DomainSigningSelector != "s1" || dkim.SigningAttributes.DomainSigningPrivateKey != "QUJD" {
		t.Errorf("%#v %#v", dkim, dkim.SigningAttributes)
	}

	// Timestamps in JSON: epoch seconds, or ISO 8601 strings.
	for _, ts := range []string{`1704164645.678`, `"2024-01-02T03:04:05.678Z"`} {
		in, err = decodeRoute(t, "POST", "/v2/email/metrics/batch", `{"Queries":[{"Id":"q","Namespace":"VDM","Metric":"SEND","StartDate":`+ts+`,"EndDate":1704164645,"Dimensions":{"ISP":"x"}}]}`)
		if err != nil {
			t.Fatal(err)
		}
		q := in.(*v2wire.BatchGetMetricDataRequest).Queries[0]
		if !q.StartDate.Equal(time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)) || q.EndDate.Unix() != 1704164645 ||
			!reflect.DeepEqual(q.Dimensions, map[string]string{"ISP": "x"}) {
			t.Errorf("%s: %+v", ts, q)
		}
	}

	// A GET binds no body: a stray one is ignored.
	if _, err := decodeRoute(t, "GET", "/v2/email/suppression/addresses?PageSize=5", "not json"); err != nil {
		t.Errorf("stray GET body: %v", err)
	}

	// The POST form of ListEmailIdentities carries query members in the body.
	in, err = decodeRoute(t, "POST", "/v2/email/list-identities", `{"PageSize": 1e2, "NextToken": "t"}`)
	if err != nil {
		t.Fatal(err)
	}
	if li := in.(*v2wire.ListEmailIdentitiesRequest); *li.PageSize != 100 || li.NextToken != "t" {
		t.Errorf("%#v", li)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, method, target, body, message string }{
		{"malformed JSON", "POST", "/v2/email/outbound-emails", `{"Content":`, "The request body is not valid JSON."},
		{"trailing data", "POST", "/v2/email/outbound-emails", `{} {}`, "The request body is not valid JSON."},
		{"not an object", "POST", "/v2/email/outbound-emails", `[1]`, "The request body must be a JSON object."},
		{"wrong type", "POST", "/v2/email/outbound-emails", `{"Content":{"Simple":{"Subject":{"Data":5}}}}`,
			"Invalid value at 'Content.Simple.Subject.Data': expected a string."},
		{"wrong list", "POST", "/v2/email/outbound-emails", `{"ReplyToAddresses":"a"}`, "Invalid value at 'ReplyToAddresses': expected a list."},
		{"wrong list element", "POST", "/v2/email/outbound-emails", `{"Destination":{"ToAddresses":["a@example.com",7]}}`,
			"Invalid value at 'Destination.ToAddresses.2': expected a string."},
		{"wrong map value", "POST", "/v2/email/vdm/recommendations", `{"Filter":{"TYPE":["x"]}}`,
			"Invalid value at 'Filter.TYPE': expected a string."},
		{"bad blob", "POST", "/v2/email/outbound-emails", `{"Content":{"Raw":{"Data":"!!"}}}`,
			"Invalid value at 'Content.Raw.Data': expected base64 data."},
		{"wrong boolean", "PUT", "/v2/email/account/sending", `{"SendingEnabled":"yes"}`,
			"Invalid value at 'SendingEnabled': expected a boolean."},
		{"fractional JSON integer", "PUT", "/v2/email/dedicated-ips/192.0.2.1/warmup", `{"WarmupPercentage":1.5}`,
			"Invalid value at 'WarmupPercentage': expected an integer."},
		{"fractional integer", "GET", "/v2/email/suppression/addresses?PageSize=1.5", "", "Invalid value at 'PageSize': expected an integer."},
		{"bad query integer", "GET", "/v2/email/suppression/addresses?PageSize=ten", "", "Invalid value at 'PageSize': expected an integer."},
		{"bad query timestamp", "GET", "/v2/email/suppression/addresses?StartDate=later", "", "Invalid value at 'StartDate': expected a timestamp."},
		{"bad query enum", "GET", "/v2/email/suppression/addresses?Reason=SPAM", "",
			"1 validation error detected: Value 'SPAM' at 'reasons.1.member' failed to satisfy constraint: Member must satisfy enum value set: [BOUNCE, COMPLAINT]"},
		{"missing required", "POST", "/v2/email/outbound-emails", `{"FromEmailAddress":"a@example.com"}`,
			"1 validation error detected: Value null at 'content' failed to satisfy constraint: Member must not be null"},
		{"malformed query", "GET", "/v2/email/suppression/addresses?a=%zz", "", "The query string is malformed."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeRoute(t, tc.method, tc.target, tc.body)
			if got := badRequest(t, err); got != tc.message {
				t.Errorf("message %q\nwant    %q", got, tc.message)
			}
		})
	}
}

// headerShape exercises header and query-map bindings; the SES v2 model has
// none, but the protocol does.
type headerShape struct {
	Token  string            `aws:"X-Token,loc=header"`
	Since  *time.Time        `aws:"If-Modified-Since,loc=header"`
	Count  *int64            `aws:"X-Count,loc=header"`
	Parts  []string          `aws:"X-Parts,loc=header"`
	Meta   map[string]string `aws:"X-Meta-,loc=headers"`
	Named  string            `aws:"named,loc=querystring"`
	Others map[string]string `aws:"Others,loc=querystring"`
	Body   *bool             `aws:"Body"`
}

func TestDecodeHeadersAndQueryMap(t *testing.T) {
	r := request(t, "POST", "/h?named=n&a=1&b=2&b=3")
	r.Header.Set("X-Token", "tok")
	r.Header.Set("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT")
	r.Header.Set("X-Count", "3")
	r.Header.Add("X-Parts", "a, b")
	r.Header.Add("X-Parts", "c")
	r.Header.Set("X-Meta-Color", "blue")
	var in headerShape
	if err := Decode(r, []byte(`{"Body":true}`), awsproto.Operation{Name: "H"}, nil, &in); err != nil {
		t.Fatal(err)
	}
	since := time.Unix(1700000000, 0).UTC()
	want := headerShape{Token: "tok", Since: &since, Count: ptr[int64](3), Parts: []string{"a", "b", "c"},
		Meta: map[string]string{"Color": "blue"}, Named: "n", Others: map[string]string{"a": "1", "b": "2"}, Body: ptr(true)}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("got  %#v\nwant %#v", in, want)
	}
	r.Header.Set("X-Count", "many")
	if msg := badRequest(t, Decode(r, nil, awsproto.Operation{Name: "H"}, nil, &headerShape{})); msg != "Invalid value at 'X-Count': expected an integer." {
		t.Errorf("%q", msg)
	}
	if err := Decode(r, nil, awsproto.Operation{Name: "H"}, nil, headerShape{}); err == nil || strings.Contains(err.Error(), "BadRequest") {
		t.Errorf("non-pointer: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
