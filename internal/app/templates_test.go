package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	gomail "github.com/emersion/go-message/mail"

	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// templatedMessage waits up to 15 s for the sink to receive the message SES
// id id, found by the Message-ID Sesame writes.
func templatedMessage(t *testing.T, s *stack.Stack, id string) smtpsink.Received {
	t.Helper()
	want := []byte("Message-ID: <" + id + "@" + stack.Hostname + ">")
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range s.Sink.Messages() {
			if bytes.Contains(m.Data, want) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("message %s not delivered", id)
	return smtpsink.Received{}
}

func subjectOf(t *testing.T, data []byte) string {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Header.Subject()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func createTemplate(t *testing.T, s *stack.Stack, name, subject, text, html string) {
	t.Helper()
	tpl := &sestypes.Template{TemplateName: aws.String(name), SubjectPart: aws.String(subject), TextPart: aws.String(text)}
	if html != "" {
		tpl.HtmlPart = aws.String(html)
	}
	if _, err := s.SES.CreateTemplate(context.Background(), &ses.CreateTemplateInput{Template: tpl}); err != nil {
		t.Fatal(err)
	}
}

// A templated send arrives rendered — subject, text and HTML, values
// inserted verbatim — and goes the way every message goes: the ordinary
// Send event, a Delivery.
func TestTemplatedEmailDelivered(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "orders@example.com")
	createTemplate(t, s, "Shipped", "Order {{order.id}} shipped, {{name}}",
		"Hi {{name}},\n{{#each order.items}}{{@index}}: {{this}}\n{{/each}}{{#unless express}}Standard delivery.{{/unless}}",
		"<p>Hi <b>{{name}}</b></p>{{#with order}}<p>#{{id}}</p>{{/with}}")

	out, err := s.SES.SendTemplatedEmail(context.Background(), &ses.SendTemplatedEmailInput{
		Source:       aws.String("orders@example.com"),
		Destination:  &sestypes.Destination{ToAddresses: []string{"customer@example.net"}},
		Template:     aws.String("Shipped"),
		TemplateData: aws.String(`{"name":"Ann & <Bob>","express":false,"order":{"id":"A-17","items":["kettle","mug"]}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	m := templatedMessage(t, s, id)
	if got := subjectOf(t, m.Data); got != "Order A-17 shipped, Ann & <Bob>" {
		t.Errorf("Subject = %q", got)
	}
	body := stack.BodyText(t, m.Data)
	for _, want := range []string{"Hi Ann & <Bob>,\r\n0: kettle\r\n1: mug\r\nStandard delivery.", "<p>Hi <b>Ann & <Bob></b></p><p>#A-17</p>"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%q", want, body)
		}
	}
	waitState(t, s, id)
	if got := eventTypes(t, s, id); !slices.Equal(got, []string{"Send", "Delivery"}) {
		t.Errorf("events = %v", got)
	}
	stored, err := s.App.Queue.Load(context.Background(), id)
	if err != nil || stored.Operation != "SendTemplatedEmail" {
		t.Errorf("operation = %q (%v)", stored.Operation, err)
	}
}

// SendBulkTemplatedEmail: each destination gets its own message, rendered
// with its ReplacementTemplateData over the defaults; an invalid destination
// fails alone, with its status in its place.
func TestBulkTemplatedEmail(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "news@example.com")
	createTemplate(t, s, "Digest", "{{greeting}} {{name}}", "{{greeting}} {{name}}, your city: {{city}}", "")

	dest := func(to, data string) sestypes.BulkEmailDestination {
		return sestypes.BulkEmailDestination{Destination: &sestypes.Destination{ToAddresses: []string{to}}, ReplacementTemplateData: aws.String(data)}
	}
	out, err := s.SES.SendBulkTemplatedEmail(context.Background(), &ses.SendBulkTemplatedEmailInput{
		Source:              aws.String("news@example.com"),
		Template:            aws.String("Digest"),
		DefaultTemplateData: aws.String(`{"greeting":"Hello","name":"reader","city":"Oslo"}`),
		Destinations: []sestypes.BulkEmailDestination{
			dest("ann@example.net", `{"name":"Ann"}`),
			dest("not-an-address", `{"name":"Nobody"}`),
			dest("bob@example.net", `{"name":"Bob","city":"Rome"}`),
			dest("cy@example.net", `{"greeting":"Hi"}`),
			dest("dee@example.net", `{"name":`), // accepted, then not rendered
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := out.Status
	if len(st) != 5 {
		t.Fatalf("%d statuses for 5 destinations", len(st))
	}
	if st[4].Status != sestypes.BulkEmailStatusSuccess || st[4].MessageId == nil {
		t.Errorf("destination with bad data: %+v", st[4])
	} else if evs := eventTypes(t, s, aws.ToString(st[4].MessageId)); !slices.Equal(evs, []string{"Rendering Failure"}) {
		t.Errorf("destination with bad data: events %v", evs)
	}
	if st[1].Status != sestypes.BulkEmailStatusInvalidParameterValue || st[1].MessageId != nil || aws.ToString(st[1].Error) == "" {
		t.Errorf("invalid destination: %+v", st[1])
	}
	want := map[int]struct{ to, subject, body string }{
		0: {"ann@example.net", "Hello Ann", "Hello Ann, your city: Oslo"},
		2: {"bob@example.net", "Hello Bob", "Hello Bob, your city: Rome"},
		3: {"cy@example.net", "Hi reader", "Hi reader, your city: Oslo"},
	}
	for i, w := range want {
		if st[i].Status != sestypes.BulkEmailStatusSuccess || st[i].MessageId == nil {
			t.Fatalf("destination %d: %+v", i, st[i])
		}
		m := templatedMessage(t, s, aws.ToString(st[i].MessageId))
		if !slices.Equal(m.To, []string{w.to}) || subjectOf(t, m.Data) != w.subject || !strings.Contains(stack.BodyText(t, m.Data), w.body) {
			t.Errorf("destination %d: to %v, subject %q, body %q", i, m.To, subjectOf(t, m.Data), stack.BodyText(t, m.Data))
		}
	}
}

// A missing attribute at send time is SES's Rendering Failure: the call
// succeeds with a MessageId, the event names the template and the attribute,
// and nothing is delivered — while the next good message is.
func TestRenderingFailureNotDelivered(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "sender@example.com")
	createTemplate(t, s, "Fav", "Hello {{name}}", "Your favorite color is {{favoritecolor}}.", "")
	send := func(data string) string {
		out, err := s.SES.SendTemplatedEmail(context.Background(), &ses.SendTemplatedEmailInput{
			Source:       aws.String("sender@example.com"),
			Destination:  &sestypes.Destination{ToAddresses: []string{"jane@example.net"}},
			Template:     aws.String("Fav"),
			TemplateData: aws.String(data),
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.MessageId)
	}
	failed := send(`{"name":"Jane","favoritenumber":"10"}`)
	if !strings.HasSuffix(failed, "-000000") {
		t.Errorf("MessageId %q", failed)
	}
	evs, err := s.App.Queue.Events(context.Background(), failed)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != "Rendering Failure" {
		t.Fatalf("events = %+v", evs)
	}
	var failure struct{ TemplateName, ErrorMessage string }
	if err := json.Unmarshal([]byte(evs[0].Payload), &failure); err != nil {
		t.Fatal(err)
	}
	if failure.TemplateName != "Fav" || failure.ErrorMessage != "Attribute 'favoritecolor' is not present in the rendering data." {
		t.Errorf("failure = %+v", failure)
	}
	if ds, err := s.App.Queue.Deliveries(context.Background(), failed); err != nil || len(ds) != 0 {
		t.Errorf("deliveries of the failed message: %+v %v", ds, err)
	}
	// Bad JSON is a rendering failure too, not an API error.
	badJSON := send(`{"name":`)
	if evs := eventTypes(t, s, badJSON); !slices.Equal(evs, []string{"Rendering Failure"}) {
		t.Errorf("bad JSON events = %v", evs)
	}

	good := send(`{"name":"Jane","favoritecolor":"teal"}`)
	templatedMessage(t, s, good)
	for _, m := range s.Sink.Messages() {
		for _, id := range []string{failed, badJSON} {
			if bytes.Contains(m.Data, []byte(id)) {
				t.Errorf("failed message %s was delivered", id)
			}
		}
	}
}
