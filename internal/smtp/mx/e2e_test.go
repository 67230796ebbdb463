package mx_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// testID is the message id written in the feedback package's testdata;
// the tests put the id of a message they sent in its place.
const testID = "0100018ffa1b2c3d-5f0e8a4e-3c2b-4d1a-9e8f-7a6b5c4d3e2f-000000"

// report reads a testdata report and makes it about message id, sent to
// the given recipient address in place of the testdata's.
func report(t *testing.T, name, id string, replace ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "feedback", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), testID, id)
	return []byte(strings.NewReplacer(replace...).Replace(s))
}

// send sends one message through the SES v2 API and waits until every
// recipient's copy is delivered to the sink (the relay), as it is before a
// remote MTA bounces it; it returns a copy the sink received.
func send(t *testing.T, s *stack.Stack, from string, to ...string) (string, smtpsink.Received) {
	t.Helper()
	ctx := context.Background()
	out, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &sesv2types.Destination{ToAddresses: to},
		Content: &sesv2types.EmailContent{Simple: &sesv2types.Message{
			Subject: &sesv2types.Content{Data: aws.String("News")},
			Body:    &sesv2types.Body{Text: &sesv2types.Content{Data: aws.String("This week's news.")}},
		}},
	})
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	id := aws.ToString(out.MessageId)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds, err := s.App.Queue.Deliveries(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		done := len(ds) == len(to)
		for _, d := range ds {
			done = done && d.State == queue.Delivered
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s not delivered: %+v", id, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, m := range s.Sink.Messages() {
		if strings.Contains(string(m.Data), id) {
			return id, m
		}
	}
	t.Fatalf("message %s delivered but not at the sink", id)
	return "", smtpsink.Received{}
}

// deliver talks to Sesame's MX as a remote MTA does, over STARTTLS with
// the certificate Sesame presents, and returns the reply to DATA or the
// first refusal.
func deliver(t *testing.T, s *stack.Stack, from, rcpt string, msg []byte) error {
	t.Helper()
	c, err := smtp.DialStartTLS(s.MXAddr(t), s.SMTPTLSConfig(t))
	if err != nil {
		t.Fatalf("MX STARTTLS: %v", err)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = 10*time.Second, 10*time.Second
	if err := c.Hello("mx.example.net"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}

// events returns the message's events of one type, decoded.
func events[T any](t *testing.T, s *stack.Stack, id, typ string) []T {
	t.Helper()
	evs, err := s.App.Queue.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, e := range evs {
		if e.Type != typ {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(e.Payload), &v); err != nil {
			t.Fatalf("%s event %s: %v", typ, e.Payload, err)
		}
		out = append(out, v)
	}
	return out
}

// SES's bounce and complaint objects (SES-BEHAVIOR §8.3), as far as the
// tests look.
type bounceEvent struct {
	BounceType        string `json:"bounceType"`
	BounceSubType     string `json:"bounceSubType"`
	ReportingMTA      string `json:"reportingMTA"`
	FeedbackID        string `json:"feedbackId"`
	BouncedRecipients []struct {
		EmailAddress, Action, Status, DiagnosticCode string
	} `json:"bouncedRecipients"`
}

type complaintEvent struct {
	ComplainedRecipients []struct{ EmailAddress string } `json:"complainedRecipients"`
	FeedbackType         string                          `json:"complaintFeedbackType"`
	UserAgent            string                          `json:"userAgent"`
	ArrivalDate          string                          `json:"arrivalDate"`
	FeedbackID           string                          `json:"feedbackId"`
}

// suppressed returns the reason addr is on the root account's suppression
// list, "" if it is not.
func suppressed(t *testing.T, s *stack.Stack, addr string) string {
	t.Helper()
	out, err := s.SESv2.GetSuppressedDestination(context.Background(), &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(addr)})
	var nf *sesv2types.NotFoundException
	if errors.As(err, &nf) {
		return ""
	}
	if err != nil {
		t.Fatalf("GetSuppressedDestination %s: %v", addr, err)
	}
	return string(out.SuppressedDestination.Reason)
}

// A message goes out through the API; a remote MTA then bounces one
// recipient with a DSN to the message's VERP address and another recipient
// complains through an ARF report to the feedback address. Each becomes
// SES's event and puts the address on the suppression list; the MX refuses
// to receive for anyone else.
func TestBounceAndComplaintThroughMX(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "sender@example.com")
	id, got := send(t, s, "sender@example.com", "nobody@example.net", "reader@yahoo.com", "fan@example.org")
	verp := id + "@" + stack.Hostname
	if got.From != verp {
		t.Fatalf("envelope sender %q, want the VERP address %q", got.From, verp)
	}

	// The DSN names the recipient in other case, as MTAs may.
	dsn := report(t, "dsn/postfix.eml", id, "nobody@example.net", "Nobody@Example.NET")
	if err := deliver(t, s, "", verp, dsn); err != nil {
		t.Fatalf("delivering the DSN: %v", err)
	}
	bounces := events[bounceEvent](t, s, id, "Bounce")
	if len(bounces) != 1 {
		t.Fatalf("bounce events = %+v, want one", bounces)
	}
	b := bounces[0]
	if b.BounceType != "Permanent" || b.BounceSubType != "NoEmail" || b.ReportingMTA != "dns; mx1.example.net" || b.FeedbackID == "" {
		t.Errorf("bounce = %+v", b)
	}
	if len(b.BouncedRecipients) != 1 {
		t.Fatalf("bounced recipients = %+v", b.BouncedRecipients)
	}
	r := b.BouncedRecipients[0]
	if r.EmailAddress != "nobody@example.net" || r.Action != "failed" || r.Status != "5.1.1" ||
		r.DiagnosticCode != "smtp; 550 5.1.1 <Nobody@Example.NET>: Recipient address rejected: User unknown in virtual mailbox table" {
		t.Errorf("bounced recipient = %+v", r)
	}
	if reason := suppressed(t, s, "nobody@example.net"); reason != "BOUNCE" {
		t.Errorf("nobody@example.net suppression reason %q, want BOUNCE", reason)
	}
	ds, err := s.App.Queue.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if want := map[bool]string{true: queue.Bounced, false: queue.Delivered}[d.Rcpt == "nobody@example.net"]; d.State != want {
			t.Errorf("delivery to %s is %s, want %s", d.Rcpt, d.State, want)
		}
	}

	// The same DSN again (the remote MTA did not see our 250) bounces
	// nothing twice.
	if err := deliver(t, s, "", verp, dsn); err != nil {
		t.Fatalf("delivering the DSN again: %v", err)
	}
	if n := len(events[bounceEvent](t, s, id, "Bounce")); n != 1 {
		t.Errorf("%d bounce events after a repeated DSN, want 1", n)
	}

	// Yahoo's complaint, to the feedback address; the message is found by
	// its Message-ID.
	if err := deliver(t, s, "feedback@arf.mail.yahoo.com", "complaints@"+stack.Hostname, report(t, "arf/yahoo.eml", id)); err != nil {
		t.Fatalf("delivering the ARF report: %v", err)
	}
	complaints := events[complaintEvent](t, s, id, "Complaint")
	if len(complaints) != 1 {
		t.Fatalf("complaint events = %+v, want one", complaints)
	}
	c := complaints[0]
	if len(c.ComplainedRecipients) != 1 || c.ComplainedRecipients[0].EmailAddress != "reader@yahoo.com" ||
		c.FeedbackType != "abuse" || c.UserAgent != "Yahoo!-Mail-Feedback/2.0" || c.ArrivalDate != "2024-06-11T09:20:00.000Z" {
		t.Errorf("complaint = %+v", c)
	}
	if reason := suppressed(t, s, "reader@yahoo.com"); reason != "COMPLAINT" {
		t.Errorf("reader@yahoo.com suppression reason %q, want COMPLAINT", reason)
	}
	if reason := suppressed(t, s, "fan@example.org"); reason != "" {
		t.Errorf("fan@example.org, who neither bounced nor complained, is suppressed (%s)", reason)
	}

	// Not an open relay: anything else is refused, as SES refuses it.
	for _, rcpt := range []string{"someone@example.com", "postmaster@" + stack.Hostname, id + "@example.com"} {
		err := deliver(t, s, "spammer@example.com", rcpt, []byte("Subject: hi\r\n\r\nhi\r\n"))
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 || se.Message != "Recipient address rejected: Access denied" {
			t.Errorf("RCPT TO:<%s> = %v, want 550 5.1.1 Recipient address rejected: Access denied", rcpt, err)
		}
	}
	// An out-of-office reply to the VERP address is taken and dropped.
	if err := deliver(t, s, "fan@example.org", verp, []byte("From: fan@example.org\r\nSubject: Away\r\nAuto-Submitted: auto-replied\r\n\r\nAway.\r\n")); err != nil {
		t.Errorf("auto-reply: %v", err)
	}
	if n := len(events[complaintEvent](t, s, id, "Complaint")) + len(events[bounceEvent](t, s, id, "Bounce")); n != 2 {
		t.Errorf("%d bounce and complaint events after the auto-reply, want 2", n)
	}
}

// With a verified custom MAIL FROM domain the envelope sender is the VERP
// address at that domain, and the MX takes bounces there.
func TestBounceAtCustomMailFromDomain(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	ctx := context.Background()
	s.VerifyDomain(t, "example.com")
	s.DNS.AddMX("bounces.example.com", 10, stack.Hostname)
	if _, err := s.SESv2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
		EmailIdentity: aws.String("example.com"), MailFromDomain: aws.String("bounces.example.com"),
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := s.SESv2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
		if err != nil {
			t.Fatal(err)
		}
		if got.MailFromAttributes.MailFromDomainStatus == sesv2types.MailFromDomainStatusSuccess {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("MAIL FROM domain not verified after 30s: %s", got.MailFromAttributes.MailFromDomainStatus)
		}
		time.Sleep(25 * time.Millisecond)
	}

	id, got := send(t, s, "news@example.com", "quota@example.org", "gone@example.org")
	verp := id + "@bounces.example.com"
	if got.From != verp {
		t.Fatalf("envelope sender %q, want %q", got.From, verp)
	}
	// Sesame's own host name is the message's bounce domain too.
	if err := deliver(t, s, "", id+"@"+stack.Hostname, []byte("Subject: hi\r\n\r\nhi\r\n")); err != nil {
		t.Errorf("VERP address at the host name refused: %v", err)
	}
	// Exim: two failures under a generic 5.0.0, told apart by the remote
	// replies.
	if err := deliver(t, s, "", verp, report(t, "dsn/exim.eml", id)); err != nil {
		t.Fatalf("delivering the DSN: %v", err)
	}
	kinds := map[string]string{}
	for _, b := range events[bounceEvent](t, s, id, "Bounce") {
		for _, r := range b.BouncedRecipients {
			kinds[r.EmailAddress] = b.BounceType + "/" + b.BounceSubType + " " + r.Status
		}
	}
	if kinds["quota@example.org"] != "Transient/MailboxFull 5.0.0" || kinds["gone@example.org"] != "Permanent/NoEmail 5.0.0" {
		t.Errorf("bounces = %v", kinds)
	}
	// Only the hard bounce is suppressed.
	if reason := suppressed(t, s, "gone@example.org"); reason != "BOUNCE" {
		t.Errorf("gone@example.org suppression reason %q, want BOUNCE", reason)
	}
	if reason := suppressed(t, s, "quota@example.org"); reason != "" {
		t.Errorf("quota@example.org (mailbox full) is suppressed: %s", reason)
	}
	// The EHLO a remote MTA sees: SIZE 10 MB, no AUTH.
	c, err := smtp.Dial(s.MXAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("mx.example.net"); err != nil {
		t.Fatal(err)
	}
	if ok, size := c.Extension("SIZE"); !ok || size != "10485760" {
		t.Errorf("SIZE %q, want 10485760", size)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("no STARTTLS")
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered")
	}
}
