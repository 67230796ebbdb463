package awsquery

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/v1wire"
)

func form(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func apiError(t *testing.T, err error) *apierr.Error {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *apierr.Error", err, err)
	}
	return ae
}

func TestDecodeFlattening(t *testing.T) {
	f := form(t, "Action=SendEmail&Version=2010-12-01&Source=a%40example.com"+
		"&Destination.ToAddresses.member.1=x%40example.com&Destination.ToAddresses.member.2=y%40example.com"+
		"&Destination.ToAddresses.member.4=gap%40example.com"+ // after a gap: ignored
		"&Destination.CcAddresses="+ // empty list
		"&Message.Subject.Data=Hi&Message.Body.Html.Data=%3Cb%3E&Message.Body.Html.Charset=UTF-8"+
		"&Tags.member.1.Name=n1&Tags.member.1.Value=v1&Tags.member.2.Name=n2&Tags.member.2.Value=v2"+
		"&Unknown.Param=1&Message.Nope=2")
	var in v1wire.SendEmailRequest
	if err := Decode(f, &in); err != nil {
		t.Fatal(err)
	}
	want := v1wire.SendEmailRequest{
		Source:      "a@example.com",
		Destination: &v1wire.Destination{ToAddresses: []string{"x@example.com", "y@example.com"}, CcAddresses: []string{}},
		Message: &v1wire.Message{
			Subject: &v1wire.Content{Data: "Hi"},
			Body:    &v1wire.Body{Html: &v1wire.Content{Data: "<b>", Charset: "UTF-8"}},
		},
		Tags: []v1wire.MessageTag{{Name: "n1", Value: "v1"}, {Name: "n2", Value: "v2"}},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("got  %#v\nwant %#v", in, want)
	}
}

func TestDecodeScalars(t *testing.T) {
	var dkim v1wire.SetIdentityDkimEnabledRequest
	if err := Decode(form(t, "Identity=example.com&DkimEnabled=False"), &dkim); err != nil {
		t.Fatal(err)
	}
	if dkim.DkimEnabled == nil || *dkim.DkimEnabled {
		t.Errorf("DkimEnabled %v", dkim.DkimEnabled)
	}
	for _, data := range []string{"aGn%2F%2Fw%3D%3D", "aGn__w", "aGn%2F%2Fw", "aGn__w%3D%3D"} {
		var raw v1wire.SendRawEmailRequest
		if err := Decode(form(t, "RawMessage.Data="+data), &raw); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if string(raw.RawMessage.Data) != "hi\xff\xff" {
			t.Errorf("%s: %q", data, raw.RawMessage.Data)
		}
	}
	var list v1wire.ListIdentitiesRequest
	if err := Decode(form(t, "MaxItems=7&IdentityType=Domain&NextToken="), &list); err != nil {
		t.Fatal(err)
	}
	if *list.MaxItems != 7 || list.IdentityType != "Domain" || list.NextToken != "" {
		t.Errorf("%+v", list)
	}
	// An empty value of a non-string member counts as absent.
	list = v1wire.ListIdentitiesRequest{}
	if err := Decode(form(t, "MaxItems="), &list); err != nil || list.MaxItems != nil {
		t.Errorf("MaxItems= gave %v, %v", list.MaxItems, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, form, code, message string
		in                        any
	}{
		{"bad integer", "MaxItems=ten", "InvalidParameterValue",
			"Invalid value 'ten' for parameter MaxItems: expected an integer.", &v1wire.ListIdentitiesRequest{}},
		{"bad boolean", "Identity=x&DkimEnabled=yes", "InvalidParameterValue",
			"Invalid value 'yes' for parameter DkimEnabled: expected true or false.", &v1wire.SetIdentityDkimEnabledRequest{}},
		{"bad blob", "RawMessage.Data=%21%21", "InvalidParameterValue",
			"Invalid value '!!' for parameter RawMessage.Data: expected base64 data.", &v1wire.SendRawEmailRequest{}},
		{"missing top-level", "Destination.ToAddresses.member.1=a", "MissingParameter",
			"The request must contain the parameter Source.", &v1wire.SendEmailRequest{}},
		{"missing nested", "Source=a&Destination.ToAddresses.member.1=b&Message.Subject.Charset=UTF-8&Message.Body.Text.Data=x", "MissingParameter",
			"The request must contain the parameter Message.Subject.Data.", &v1wire.SendEmailRequest{}},
		{"missing in list element", "RuleSetName=rs&Rule.Name=r&Rule.Actions.member.1.S3Action.ObjectKeyPrefix=p", "MissingParameter",
			"The request must contain the parameter Rule.Actions.member.1.S3Action.BucketName.", &v1wire.CreateReceiptRuleRequest{}},
		{"range", "MaxResults=51", "InvalidParameterValue",
			"1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50",
			&v1wire.ListCustomVerificationEmailTemplatesRequest{}},
		{"enum", "IdentityType=Bogus", "InvalidParameterValue",
			"1 validation error detected: Value 'Bogus' at 'identityType' failed to satisfy constraint: Member must satisfy enum value set: [EmailAddress, Domain]",
			&v1wire.ListIdentitiesRequest{}},
		{"long value quoted briefly", "MaxItems=" + strings.Repeat("9", 100), "InvalidParameterValue",
			"Invalid value '" + strings.Repeat("9", 64) + "...' for parameter MaxItems: expected an integer.", &v1wire.ListIdentitiesRequest{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := apiError(t, Decode(form(t, tc.form), tc.in))
			if ae.Code != tc.code || ae.Message != tc.message || ae.Status != 400 || !ae.Sender {
				t.Errorf("got %s %d %q", ae.Code, ae.Status, ae.Message)
			}
		})
	}
	if err := Decode(url.Values{}, v1wire.ListIdentitiesRequest{}); err == nil {
		t.Error("Decode into a non-pointer accepted")
	}
}

// mapShape exercises map decoding; no v1 input has a map.
type mapShape struct {
	Attrs map[string]mapValue `aws:"Attrs"`
	Plain map[string]string   `aws:"Plain"`
	When  *time.Time          `aws:"When"`
}

type mapValue struct {
	Token string   `aws:"Token"`
	List  []string `aws:"List"`
}

func TestDecodeMapsAndTimestamps(t *testing.T) {
	var in mapShape
	err := Decode(form(t, "Attrs.entry.1.key=a&Attrs.entry.1.value.Token=t1&Attrs.entry.1.value.List.member.1=x"+
		"&Attrs.entry.2.key=b&Plain.entry.1.key=k&Plain.entry.1.value=v&Plain.entry.3.key=skipped&When=2024-01-02T03:04:05.678Z"), &in)
	if err != nil {
		t.Fatal(err)
	}
	want := mapShape{
		Attrs: map[string]mapValue{"a": {Token: "t1", List: []string{"x"}}, "b": {}},
		Plain: map[string]string{"k": "v"},
		When:  ptr(time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)),
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("got  %#v\nwant %#v", in, want)
	}
	ae := apiError(t, Decode(form(t, "Plain.entry.1.value=v"), &mapShape{}))
	if ae.Code != "InvalidParameterValue" || ae.Message != "The parameter Plain.entry.1.key is missing." {
		t.Errorf("%+v", ae)
	}
	ae = apiError(t, Decode(form(t, "When=soon"), &mapShape{}))
	if ae.Message != "Invalid value 'soon' for parameter When: expected a timestamp." {
		t.Errorf("%+v", ae)
	}
}

func TestParseFormAndResolve(t *testing.T) {
	post := func(ct, body string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/?Version=2010-12-01", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	f, err := ParseForm(post("application/x-www-form-urlencoded; charset=utf-8", "Action=ListIdentities&MaxItems=5"), []byte("Action=ListIdentities&MaxItems=5"))
	if err != nil {
		t.Fatal(err)
	}
	op, err := Resolve(f, v1wire.LookupOperation)
	if err != nil || op.Name != "ListIdentities" || f.Get("MaxItems") != "5" {
		t.Fatalf("%+v %v %v", op, f, err)
	}
	get, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/?Action=GetSendQuota", nil)
	if f, err := ParseForm(get, nil); err != nil || f.Get("Action") != "GetSendQuota" {
		t.Errorf("GET: %v %v", f, err)
	}
	for _, tc := range []struct {
		form, code, message string
		status              int
	}{
		{"Version=2010-12-01", "MissingAction", "The request must contain the parameter Action.", 400},
		{"Action=Nope&Version=2010-12-01", "InvalidAction", "Could not find operation Nope for version 2010-12-01", 400},
		{"Action=SendEmail&Version=2019-09-27", "NoSuchVersion", "The requested version (2019-09-27) of service AmazonSimpleEmailService does not exist", 400},
	} {
		_, err := Resolve(form(t, tc.form), v1wire.LookupOperation)
		ae := apiError(t, err)
		if ae.Code != tc.code || ae.Message != tc.message || ae.Status != tc.status {
			t.Errorf("%s: %+v", tc.form, ae)
		}
	}
	if _, err := ParseForm(post("application/json", "{}"), []byte("{}")); apiError(t, err).Code != "MalformedQueryString" {
		t.Errorf("JSON body accepted: %v", err)
	}
	if _, err := ParseForm(post("", "a=%zz"), []byte("a=%zz")); apiError(t, err).Status != 404 {
		t.Errorf("bad escape: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
