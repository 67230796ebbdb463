package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// waitState polls a message's deliveries until every one is in a final
// state, or fails after 20 s.
func waitState(t *testing.T, s *stack.Stack, id string) []queue.DeliveryState {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds, err := s.App.Queue.Deliveries(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		done := len(ds) > 0
		for _, d := range ds {
			done = done && d.State != queue.Queued
		}
		if done {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s still queued: %+v", id, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func eventTypes(t *testing.T, s *stack.Stack, id string) []string {
	t.Helper()
	evs, err := s.App.Queue.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	return types
}

// A 4xx is retried with backoff and the message is delivered once, with a
// DeliveryDelay on its timeline.
func TestTemporaryFailureRetried(t *testing.T) {
	s := stack.Start(t, stack.SinkOptions(smtpsink.WithScript(smtpsink.FailFirst("DATA", 2,
		&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}))))
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com") // its verification mail absorbs the first failures
	out, err := s.SES.SendEmail(context.Background(), simpleSend("me@example.com", "you@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	ds := waitState(t, s, id)
	if ds[0].State != queue.Delivered {
		t.Fatalf("state = %+v", ds[0])
	}
	n := 0
	for _, m := range s.Sink.Messages() {
		if strings.Contains(string(m.Data), id) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("delivered %d times", n)
	}
	if got := strings.Join(eventTypes(t, s, id), ","); got != "Send,Delivery" && !strings.HasPrefix(got, "Send,DeliveryDelay") {
		t.Fatalf("events = %s", got)
	}
}

// A 5xx for one recipient is a permanent bounce recorded with the remote
// reply; the other recipient of the same message is delivered.
func TestPermanentFailureBounces(t *testing.T) {
	s := stack.Start(t, stack.SinkOptions(smtpsink.WithScript(smtpsink.RejectRcpt(
		&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, "gone@example.net"))))
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	out, err := s.SES.SendEmail(context.Background(), simpleSend("me@example.com", "gone@example.net", "here@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	ds := waitState(t, s, id)
	byRcpt := map[string]queue.DeliveryState{}
	for _, d := range ds {
		byRcpt[d.Rcpt] = d
	}
	if g := byRcpt["gone@example.net"]; g.State != queue.Bounced || g.Code != 550 || g.Status != "5.1.1" {
		t.Fatalf("bounced recipient: %+v", g)
	}
	if h := byRcpt["here@example.net"]; h.State != queue.Delivered {
		t.Fatalf("other recipient: %+v", h)
	}
	evs, err := s.App.Queue.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var bounce struct {
		BounceType        string `json:"bounceType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	}
	for _, e := range evs {
		if e.Type == "Bounce" {
			if err := json.Unmarshal([]byte(e.Payload), &bounce); err != nil {
				t.Fatal(err)
			}
		}
	}
	if bounce.BounceType != "Permanent" || len(bounce.BouncedRecipients) != 1 || bounce.BouncedRecipients[0].EmailAddress != "gone@example.net" ||
		!strings.HasPrefix(bounce.BouncedRecipients[0].DiagnosticCode, "smtp; 550 5.1.1") {
		t.Fatalf("bounce event = %+v", bounce)
	}
}

// Without a relay, mail goes to the recipient domain's MX, or to its address
// when it has no MX (RFC 5321 §5.1), found through the configured DNS server.
func TestDeliveryThroughMX(t *testing.T) {
	s := stack.Start(t, stack.MX())
	s.ApproveProduction(t)
	s.PublishMX("example.com") // the sender's domain, for its verification mail
	s.PublishMX("mx.example")
	s.DNS.AddA("a-only.example", "127.0.0.1")
	s.VerifyEmail(t, "me@example.com")
	out, err := s.SES.SendEmail(context.Background(), simpleSend("me@example.com", "x@mx.example", "y@a-only.example", "z@nowhere.example"))
	if err != nil {
		t.Fatal(err)
	}
	ds := waitState(t, s, aws.ToString(out.MessageId))
	want := map[string]string{"x@mx.example": queue.Delivered, "y@a-only.example": queue.Delivered, "z@nowhere.example": queue.Bounced}
	for _, d := range ds {
		if d.State != want[d.Rcpt] {
			t.Errorf("%s: %s (%s), want %s", d.Rcpt, d.State, d.Text, want[d.Rcpt])
		}
	}
}

// --dev keeps mail instead of delivering it and lists it at /_aws/ses.
func TestDevModeCaptures(t *testing.T) {
	s := stack.Start(t, stack.Dev())
	s.ApproveProduction(t)
	if _, err := s.SESv2.GetAccount(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SES.VerifyEmailIdentity(context.Background(), &sesVerify{}); err == nil {
		t.Fatal("empty address accepted")
	}
	if _, err := s.SES.VerifyEmailIdentity(context.Background(), verifyInput("dev@example.com")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/_aws/ses?email=no-reply-aws@" + stack.Hostname)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Messages []queue.CapturedMessage `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(body.Messages) == 1 && body.Messages[0].Destination[0] == "dev@example.com" && strings.Contains(body.Messages[0].RawData, "/verify-email?") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("captured = %+v", body.Messages)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(s.Sink.Messages()); n != 0 {
		t.Fatalf("--dev delivered %d messages", n)
	}
}

type sesVerify = ses.VerifyEmailIdentityInput

func verifyInput(addr string) *ses.VerifyEmailIdentityInput {
	return &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(addr)}
}
