package snsapi

import (
	"context"
	"encoding/xml"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsproto"
	"github.com/sesamehq/sesame/internal/api/caller"
	"github.com/sesamehq/sesame/internal/fault"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestWireShapes: every shape's tags parse, and every operation's input
// is a tagged struct.
func TestWireShapes(t *testing.T) {
	for name, op := range operations() {
		in := op.newInput()
		if _, err := awsproto.Members(reflect.TypeOf(in).Elem()); err != nil {
			t.Errorf("%s input: %v", name, err)
		}
		if op.op.Name != name || op.op.RequestURI != "/" {
			t.Errorf("operation %s: %+v", name, op.op)
		}
	}
	for _, v := range []any{Tag{}, Topic{}, Subscription{}, MessageAttributeValue{}, ListTopicsOutput{}, ListSubscriptionsOutput{},
		GetTopicAttributesOutput{}, PublishOutput{}, ListTagsForResourceOutput{}} {
		if _, err := awsproto.Members(reflect.TypeOf(v)); err != nil {
			t.Errorf("%T: %v", v, err)
		}
	}
}

// TestGolden: the XML documents SNS clients parse, byte for byte.
func TestGolden(t *testing.T) {
	ops := operations()
	cases := []struct {
		name string
		op   string
		out  any
		err  *apierr.Error
	}{
		{name: "CreateTopic", op: "CreateTopic", out: &CreateTopicOutput{TopicArn: "arn:aws:sns:us-east-1:123456789012:events"}},
		{name: "DeleteTopic", op: "DeleteTopic"},
		{name: "TagResource", op: "TagResource", out: &TagResourceOutput{}},
		{name: "GetTopicAttributes", op: "GetTopicAttributes", out: &GetTopicAttributesOutput{Attributes: map[string]string{
			"TopicArn": "arn:aws:sns:us-east-1:123456789012:events", "DisplayName": "", "SubscriptionsPending": "1"}}},
		{name: "ListSubscriptions", op: "ListSubscriptions", out: &ListSubscriptionsOutput{NextToken: "dG9rZW4", Subscriptions: []Subscription{
			{SubscriptionArn: "PendingConfirmation", Owner: "123456789012", Protocol: "https", Endpoint: "https://example.com/hook?a=1&b=2", TopicArn: "arn:aws:sns:us-east-1:123456789012:events"}}}},
		{name: "ListTopics_empty", op: "ListTopics", out: &ListTopicsOutput{Topics: []Topic{}}},
		{name: "Publish", op: "Publish", out: &PublishOutput{MessageId: "5f2b1d0c-2b3e-4e3f-9a8b-7c6d5e4f3a2b"}},
		{name: "error_NotFound", err: wireError(topicMissing(), false).(*apierr.Error)},
		{name: "error_ValidationError", err: decode(url.Values{}, new(DeleteTopicInput)).(*apierr.Error)},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		if c.err != nil {
			writeError(w, c.err, "req-1")
		} else if err := writeResponse(w, ops[c.op].op, c.out, "req-1"); err != nil {
			t.Fatal(err)
		}
		if w.Header().Get("Content-Type") != "text/xml" || w.Header().Get("x-amzn-RequestId") != "req-1" {
			t.Errorf("%s: headers %v", c.name, w.Header())
		}
		if err := xml.Unmarshal(w.Body.Bytes(), new(struct{})); err != nil {
			t.Errorf("%s: not XML: %v", c.name, err)
		}
		path := filepath.Join("testdata", c.name+".golden")
		if *update {
			if err := os.WriteFile(path, w.Body.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if got := w.Body.String(); got != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, want)
		}
	}
}

// TestServeRequests: what the SDKs check client-side, answered in SNS's
// words when a raw client sends it.
func TestServeRequests(t *testing.T) {
	h := New(nil, nil) // no service: every case fails before the domain
	ctx := caller.With(context.Background(), caller.Caller{AccountID: "123456789012"})
	cases := []struct {
		form   string
		status int
		code   string
		msg    string
	}{
		{"Action=Frobnicate&Version=2010-03-31", 400, "InvalidAction", "Could not find operation Frobnicate for version 2010-03-31"},
		{"Version=2010-03-31", 400, "MissingAction", ""},
		{"Action=ListTopics&Version=2010-12-01", 400, "NoSuchVersion", ""},
		{"Action=DeleteTopic&Version=2010-03-31", 400, "ValidationError", "1 validation error detected: Value null at 'topicArn' failed to satisfy constraint: Member must not be null"},
		{"Action=Subscribe&TopicArn=arn&Protocol=http&ReturnSubscriptionArn=maybe", 400, "InvalidParameter", ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.Serve(ctx, w, r, []byte(c.form), "req")
		var doc struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v: %s", c.form, err, w.Body)
		}
		if w.Code != c.status || doc.Code != c.code || (c.msg != "" && doc.Message != c.msg) {
			t.Errorf("%s: %d %s %q, want %d %s %q", c.form, w.Code, doc.Code, doc.Message, c.status, c.code, c.msg)
		}
		if !strings.Contains(w.Body.String(), `<ErrorResponse xmlns="`+Namespace+`">`) {
			t.Errorf("%s: not in SNS's namespace: %s", c.form, w.Body)
		}
	}
	// Without a caller the adapter refuses to act.
	w := httptest.NewRecorder()
	h.Serve(context.Background(), w, httptest.NewRequest(http.MethodPost, "/", nil), nil, "req")
	if w.Code != 500 {
		t.Errorf("no caller: %d", w.Code)
	}
}

// TestMessageAttributesForm: SNS's Name/Value map entries decode.
func TestMessageAttributesForm(t *testing.T) {
	form, _ := url.ParseQuery("Message=m&TopicArn=a" +
		"&MessageAttributes.entry.1.Name=kind&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=bounce" +
		"&MessageAttributes.entry.2.Name=raw&MessageAttributes.entry.2.Value.DataType=Binary&MessageAttributes.entry.2.Value.BinaryValue=aGk%3D")
	var in PublishInput
	if err := decode(form, &in); err != nil {
		t.Fatal(err)
	}
	want := map[string]MessageAttributeValue{"kind": {DataType: "String", StringValue: "bounce"}, "raw": {DataType: "Binary", BinaryValue: []byte("hi")}}
	if !reflect.DeepEqual(in.MessageAttributes, want) {
		t.Errorf("MessageAttributes %+v", in.MessageAttributes)
	}
}

func topicMissing() error {
	return fault.Named(fault.NotFound, "arn:aws:sns:us-east-1:123456789012:gone", "Topic does not exist")
}

func TestIsPublic(t *testing.T) {
	cases := map[string]bool{
		"GET /?Action=ConfirmSubscription&TopicArn=a&Token=t":  true,
		"GET /?Action=Unsubscribe&SubscriptionArn=a":           true,
		"HEAD /sns/SimpleNotificationService-x.pem":            true,
		"GET /?Action=ListTopics":                              false,
		"HEAD /?Action=Unsubscribe&SubscriptionArn=a":          false,
		"POST /?Action=ConfirmSubscription":                    false,
		"GET /?Action=Unsubscribe&X-Amz-Signature=abc":         false,
		"GET /v2/email/identities":                             false,
		"GET /x?Action=Unsubscribe":                            false,
		"GET /?Action=SendEmail":                               false,
		"GET /?Action=ConfirmSubscription&X-Amz-Credential=ab": false,
	}
	for req, want := range cases {
		method, target, _ := strings.Cut(req, " ")
		r := httptest.NewRequest(method, target, nil)
		if got := IsPublic(r); got != want {
			t.Errorf("%s: %v, want %v", req, got, want)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/?Action=Unsubscribe", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 …")
	if IsPublic(r) {
		t.Error("a signed request is public")
	}
}
