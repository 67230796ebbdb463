package app_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/testkit/certs"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// csWant asserts that err is the SDK's typed exception E, sent with status.
func csWant[E error](t *testing.T, err error, status int) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want %T", err, err, e)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("%T: response %v, want HTTP %d", e, re, status)
	}
	return e
}

func csCreate(t *testing.T, s *stack.Stack, name string, opts ...func(*sesv2.CreateConfigurationSetInput)) {
	t.Helper()
	in := &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(name)}
	for _, o := range opts {
		o(in)
	}
	if _, err := s.SESv2.CreateConfigurationSet(context.Background(), in); err != nil {
		t.Fatalf("CreateConfigurationSet %s: %v", name, err)
	}
}

func requireTLS(in *sesv2.CreateConfigurationSetInput) {
	in.DeliveryOptions = &sesv2types.DeliveryOptions{TlsPolicy: sesv2types.TlsPolicyRequire}
}

// csRecorded returns the configuration set stored on an accepted message.
func csRecorded(t *testing.T, s *stack.Stack, id string) string {
	t.Helper()
	m, err := s.App.Queue.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("loading %s: %v", id, err)
	}
	return m.ConfigSet
}

func csSendV1(s *stack.Stack, set string) (string, error) {
	in := simpleSend("me@example.com", "you@example.net")
	if set != "" {
		in.ConfigurationSetName = aws.String(set)
	}
	out, err := s.SES.SendEmail(context.Background(), in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}

func csSendV2(s *stack.Stack, set string) (string, error) {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("me@example.com"),
		Destination:      &sesv2types.Destination{ToAddresses: []string{"you@example.net"}},
		Content: &sesv2types.EmailContent{Simple: &sesv2types.Message{Subject: &sesv2types.Content{Data: aws.String("s")},
			Body: &sesv2types.Body{Text: &sesv2types.Content{Data: aws.String("b")}}}},
	}
	if set != "" {
		in.ConfigurationSetName = aws.String(set)
	}
	out, err := s.SESv2.SendEmail(context.Background(), in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}

// A set made with one API is the set the other reads, changes and deletes.
func TestConfigSetSharedBetweenAPIs(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	if _, err := s.SES.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &sestypes.ConfigurationSet{Name: aws.String("shared")}}); err != nil {
		t.Fatal(err)
	}
	g, err := s.SESv2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("shared")})
	if err != nil {
		t.Fatalf("v2 reading a v1 set: %v", err)
	}
	if aws.ToString(g.ConfigurationSetName) != "shared" || !g.SendingOptions.SendingEnabled || g.DeliveryOptions.TlsPolicy != sesv2types.TlsPolicyOptional {
		t.Errorf("v2 view = %+v", g)
	}
	list, err := s.SESv2.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{})
	if err != nil || !slices.Equal(list.ConfigurationSets, []string{"shared"}) {
		t.Errorf("v2 list = %v, %v", list, err)
	}

	// v2 changes, v1 sees them; what v1 cannot name it leaves out.
	if _, err := s.SESv2.PutConfigurationSetDeliveryOptions(ctx, &sesv2.PutConfigurationSetDeliveryOptionsInput{
		ConfigurationSetName: aws.String("shared"), TlsPolicy: sesv2types.TlsPolicyRequire}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SESv2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{
		ConfigurationSetName: aws.String("shared"), CustomRedirectDomain: aws.String("t.example.com")}); err != nil {
		t.Fatal(err)
	}
	topic := aws.String("arn:aws:sns:" + stack.Region + ":" + account.RootAccountID + ":events")
	for name, d := range map[string]*sesv2types.EventDestinationDefinition{
		"sns": {Enabled: true, MatchingEventTypes: []sesv2types.EventType{sesv2types.EventTypeSend, sesv2types.EventTypeDeliveryDelay},
			SnsDestination: &sesv2types.SnsDestination{TopicArn: topic}},
		"bus": {Enabled: true, MatchingEventTypes: []sesv2types.EventType{sesv2types.EventTypeBounce},
			EventBridgeDestination: &sesv2types.EventBridgeDestination{EventBusArn: aws.String("arn:aws:events:" + stack.Region + ":" + account.RootAccountID + ":event-bus/default")}},
	} {
		if _, err := s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
			ConfigurationSetName: aws.String("shared"), EventDestinationName: aws.String(name), EventDestination: d}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.SES.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("shared"),
		ConfigurationSetAttributeNames: []sestypes.ConfigurationSetAttribute{sestypes.ConfigurationSetAttributeEventDestinations,
			sestypes.ConfigurationSetAttributeDeliveryOptions, sestypes.ConfigurationSetAttributeTrackingOptions}})
	if err != nil {
		t.Fatal(err)
	}
	if d.DeliveryOptions.TlsPolicy != sestypes.TlsPolicyRequire || aws.ToString(d.TrackingOptions.CustomRedirectDomain) != "t.example.com" || len(d.EventDestinations) != 2 {
		t.Fatalf("v1 view = %+v", d)
	}
	for _, e := range d.EventDestinations {
		switch aws.ToString(e.Name) {
		case "sns":
			if !slices.Equal(e.MatchingEventTypes, []sestypes.EventType{sestypes.EventTypeSend}) || aws.ToString(e.SNSDestination.TopicARN) != aws.ToString(topic) {
				t.Errorf("sns in v1 = %+v", e)
			}
		case "bus":
			if e.SNSDestination != nil || e.CloudWatchDestination != nil || e.KinesisFirehoseDestination != nil {
				t.Errorf("EventBridge shown to v1 as %+v", e)
			}
		}
	}
	// v1 creating tracking options the set already has (made by v2) is refused.
	_, err = s.SES.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{ConfigurationSetName: aws.String("shared"),
		TrackingOptions: &sestypes.TrackingOptions{CustomRedirectDomain: aws.String("u.example.com")}})
	csWant[*sestypes.TrackingOptionsAlreadyExistsException](t, err, 400)

	if _, err := s.SES.DeleteConfigurationSet(ctx, &ses.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SESv2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("shared")})
	csWant[*sesv2types.NotFoundException](t, err, 404)
}

// Every send passes its configuration set through the same checks, whichever
// API or SMTP carries it, and the set it used is recorded on the message.
func TestSendAppliesConfigSet(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	ctx := context.Background()

	_, err := csSendV1(s, "nope")
	e := csWant[*sestypes.ConfigurationSetDoesNotExistException](t, err, 400)
	if aws.ToString(e.Message) != "Configuration set <nope> does not exist." || aws.ToString(e.ConfigurationSetName) != "nope" {
		t.Errorf("v1 unknown set: %q / %q", aws.ToString(e.Message), aws.ToString(e.ConfigurationSetName))
	}
	_, err = csSendV2(s, "nope")
	csWant[*sesv2types.NotFoundException](t, err, 404)

	csCreate(t, s, "paused", func(in *sesv2.CreateConfigurationSetInput) {
		in.SendingOptions = &sesv2types.SendingOptions{SendingEnabled: false}
	})
	_, err = csSendV1(s, "paused")
	p := csWant[*sestypes.ConfigurationSetSendingPausedException](t, err, 400)
	if aws.ToString(p.ConfigurationSetName) != "paused" || aws.ToString(p.Message) != "Sending is paused for this configuration set." {
		t.Errorf("v1 paused: %+v", p)
	}
	_, err = csSendV2(s, "paused")
	csWant[*sesv2types.SendingPausedException](t, err, 400)

	csCreate(t, s, "marketing")
	for api, send := range map[string]func(*stack.Stack, string) (string, error){"v1": csSendV1, "v2": csSendV2} {
		id, err := send(s, "marketing")
		if err != nil {
			t.Fatalf("%s send with a set: %v", api, err)
		}
		if got := csRecorded(t, s, id); got != "marketing" {
			t.Errorf("%s: recorded set %q", api, got)
		}
		id, err = send(s, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := csRecorded(t, s, id); got != "" {
			t.Errorf("%s without a set: recorded %q", api, got)
		}
	}

	// The X-SES-CONFIGURATION-SET header of a raw message names the set too.
	raw := "From: me@example.com\r\nTo: you@example.net\r\nSubject: raw\r\nX-SES-CONFIGURATION-SET: marketing\r\n\r\nbody\r\n"
	out, err := s.SES.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &sestypes.RawMessage{Data: []byte(raw)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := csRecorded(t, s, aws.ToString(out.MessageId)); got != "marketing" {
		t.Errorf("raw header: recorded %q", got)
	}
	_, err = s.SES.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &sestypes.RawMessage{Data: []byte(strings.Replace(raw, "marketing", "nope", 1))}})
	csWant[*sestypes.ConfigurationSetDoesNotExistException](t, err, 400)

	// The From identity's default set applies when the send names none; a
	// named set wins; a paused default refuses.
	csCreate(t, s, "default-set")
	setDefault := func(name string) {
		t.Helper()
		if _, err := s.SESv2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{
			EmailIdentity: aws.String("me@example.com"), ConfigurationSetName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	setDefault("default-set")
	id, err := csSendV2(s, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := csRecorded(t, s, id); got != "default-set" {
		t.Errorf("identity default: recorded %q", got)
	}
	if id, err = csSendV1(s, "marketing"); err != nil || csRecorded(t, s, id) != "marketing" {
		t.Errorf("named over default: %v, %q", err, csRecorded(t, s, id))
	}
	if _, err := s.SESv2.PutConfigurationSetSendingOptions(ctx, &sesv2.PutConfigurationSetSendingOptionsInput{
		ConfigurationSetName: aws.String("default-set"), SendingEnabled: false}); err != nil {
		t.Fatal(err)
	}
	_, err = csSendV1(s, "")
	csWant[*sestypes.ConfigurationSetSendingPausedException](t, err, 400)
	// A default set that was deleted is skipped, not an error.
	if _, err := s.SESv2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("default-set")}); err != nil {
		t.Fatal(err)
	}
	if id, err = csSendV1(s, ""); err != nil || csRecorded(t, s, id) != "" {
		t.Errorf("deleted default: %v, %q", err, csRecorded(t, s, id))
	}

	// SMTP submission goes through the same send.
	if _, err := csSMTP(t, s, "nope"); err == nil {
		t.Error("SMTP accepted an unknown configuration set")
	} else if se, ok := err.(*smtp.SMTPError); !ok || se.Code != 554 || !strings.Contains(se.Message, "Configuration set <nope> does not exist.") {
		t.Errorf("SMTP unknown set: %v", err)
	}
	id, err = csSMTP(t, s, "marketing")
	if err != nil {
		t.Fatal(err)
	}
	if got := csRecorded(t, s, id); got != "marketing" {
		t.Errorf("SMTP: recorded %q", got)
	}
}

// csSMTP submits one message through Sesame's SMTP interface with an
// X-SES-CONFIGURATION-SET header and returns the MessageId of "250 Ok <id>".
func csSMTP(t *testing.T, s *stack.Stack, set string) (string, error) {
	t.Helper()
	c, err := smtp.DialStartTLS(s.SMTPAddr(t), s.SMTPTLSConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", s.Root.ID, s.SMTPPassword())); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("me@example.com", nil); err != nil {
		return "", err
	}
	if err := c.Rcpt("you@example.net", nil); err != nil {
		return "", err
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	msg := "From: me@example.com\r\nTo: you@example.net\r\nSubject: smtp\r\nX-SES-CONFIGURATION-SET: " + set + "\r\n\r\nbody\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return "", err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	id, ok := strings.CutPrefix(resp.StatusText, "Ok ")
	if !ok {
		t.Fatalf("SMTP reply %q", resp.StatusText)
	}
	return id, nil
}

// TlsPolicy REQUIRE against a receiver without STARTTLS: nothing is sent in
// plaintext; the message stays queued with a DeliveryDelay, while mail
// without the set is delivered to the same receiver.
func TestRequireTLSNotMetStaysQueued(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	csCreate(t, s, "tls", requireTLS)

	secure, err := csSendV2(s, "tls")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := csSendV2(s, "")
	if err != nil {
		t.Fatal(err)
	}
	if ds := waitState(t, s, plain); ds[0].State != queue.Delivered {
		t.Fatalf("control message: %+v", ds)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		evs := eventTypes(t, s, secure)
		if slices.Contains(evs, "Delivery") {
			t.Fatalf("the TLS-only message was delivered: %v", evs)
		}
		if slices.Contains(evs, "DeliveryDelay") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DeliveryDelay for the TLS-only message: %v", evs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ds, err := s.App.Queue.Deliveries(context.Background(), secure)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].State != queue.Queued || ds[0].Status != "4.7.4" || !strings.Contains(ds[0].Text, "TLS required") {
		t.Errorf("TLS-only message: %+v", ds)
	}
	for _, m := range s.Sink.Messages() {
		if strings.Contains(string(m.Data), secure) {
			t.Fatal("the TLS-only message was delivered in plaintext")
		}
	}
}

// TlsPolicy REQUIRE against a receiver offering STARTTLS: delivered, over TLS.
func TestRequireTLSDeliveredOverTLS(t *testing.T) {
	s := stack.Start(t, stack.SinkOptions(smtpsink.WithTLS(certs.SelfSigned(t).TLS)))
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	csCreate(t, s, "tls", requireTLS)
	id, err := csSendV1(s, "tls")
	if err != nil {
		t.Fatal(err)
	}
	if ds := waitState(t, s, id); ds[0].State != queue.Delivered {
		t.Fatalf("state = %+v", ds)
	}
	found := false
	for _, m := range s.Sink.Messages() {
		if strings.Contains(string(m.Data), id) {
			found = true
			if !m.TLS {
				t.Error("delivered without TLS")
			}
		}
	}
	if !found {
		t.Fatal("message not at the sink")
	}
}
