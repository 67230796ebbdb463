package app_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

const simDomain = "@simulator.amazonses.com"

// simDelivery is SES's delivery object.
type simDelivery struct {
	Recipients   []string
	SMTPResponse string `json:"smtpResponse"`
	ReportingMTA string `json:"reportingMTA"`
}

// Every simulator address, bare and labelled, gets exactly SES's outcome in
// one message that also has a real recipient; in the sandbox, without
// verifying any simulator address. Nothing reaches the sink but the real
// recipient's copy and the out-of-office reply to the sender, and nothing
// lands on the suppression list.
func TestMailboxSimulator(t *testing.T) {
	s := stack.Start(t) // sandboxed
	s.VerifyEmail(t, "me@example.com")
	ctx := context.Background()
	rcpts := []string{
		"success" + simDomain, "success+a" + simDomain,
		"bounce" + simDomain, "bounce+run-7" + simDomain,
		"ooto" + simDomain,
		"complaint+b" + simDomain,
		"suppressionlist" + simDomain,
		"whoever" + simDomain,
		"me@example.com",
	}
	sinkBefore := len(s.Sink.Messages())
	out, err := s.SES.SendEmail(ctx, simpleSend("me@example.com", rcpts...))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	ds := supByRcpt(waitState(t, s, id))
	want := map[string]string{
		"success" + simDomain: queue.Delivered, "success+a" + simDomain: queue.Delivered,
		"bounce" + simDomain: queue.Bounced, "bounce+run-7" + simDomain: queue.Bounced,
		"ooto" + simDomain: queue.Delivered, "complaint+b" + simDomain: queue.Delivered,
		"suppressionlist" + simDomain: queue.Bounced, "whoever" + simDomain: queue.Delivered,
		"me@example.com": queue.Delivered,
	}
	for r, st := range want {
		if ds[r].State != st {
			t.Errorf("%s: %+v, want %s", r, ds[r], st)
		}
	}

	evs, err := s.App.Queue.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var deliveredTo []string
	var bounces []supBounce
	var complaints []supComplaint
	for _, e := range evs {
		switch e.Type {
		case "Delivery":
			var d simDelivery
			if err := json.Unmarshal([]byte(e.Payload), &d); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(d.Recipients, "me@example.com") && d.SMTPResponse != "250 2.6.0 Message received" {
				t.Errorf("simulated delivery = %+v", d)
			}
			deliveredTo = append(deliveredTo, d.Recipients...)
		case "Bounce":
			var b supBounce
			if err := json.Unmarshal([]byte(e.Payload), &b); err != nil {
				t.Fatal(err)
			}
			bounces = append(bounces, b)
		case "Complaint":
			var c supComplaint
			if err := json.Unmarshal([]byte(e.Payload), &c); err != nil {
				t.Fatal(err)
			}
			complaints = append(complaints, c)
		}
	}
	slices.Sort(deliveredTo)
	wantDelivered := []string{"complaint+b" + simDomain, "me@example.com", "ooto" + simDomain, "success" + simDomain,
		"success+a" + simDomain, "whoever" + simDomain}
	slices.Sort(wantDelivered)
	if !slices.Equal(deliveredTo, wantDelivered) {
		t.Errorf("Delivery events for %v, want %v", deliveredTo, wantDelivered)
	}
	// Both simulated hard bounces share one notification; the suppression
	// list address has its own subtype.
	if len(bounces) != 2 {
		t.Fatalf("bounce events = %+v", bounces)
	}
	for _, b := range bounces {
		switch b.BounceSubType {
		case "General":
			if b.BounceType != "Permanent" || len(b.BouncedRecipients) != 2 {
				t.Errorf("bounce = %+v", b)
			}
			for i, r := range b.BouncedRecipients {
				addr := []string{"bounce" + simDomain, "bounce+run-7" + simDomain}[i]
				if r.EmailAddress != addr || r.Action != "failed" || r.Status != "5.1.1" || r.DiagnosticCode != "smtp; 550 5.1.1 user unknown" {
					t.Errorf("bounced recipient = %+v", r)
				}
			}
		case "Suppressed":
			r := b.BouncedRecipients
			if b.BounceType != "Permanent" || len(r) != 1 || r[0].EmailAddress != "suppressionlist"+simDomain ||
				r[0].DiagnosticCode != "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address." {
				t.Errorf("suppressionlist bounce = %+v", b)
			}
		default:
			t.Errorf("bounce = %+v", b)
		}
	}
	if len(complaints) != 1 {
		t.Fatalf("complaints = %+v", complaints)
	}
	c := complaints[0]
	if len(c.ComplainedRecipients) != 1 || c.ComplainedRecipients[0].EmailAddress != "complaint+b"+simDomain ||
		c.ComplaintFeedbackType != "abuse" || c.UserAgent != "Amazon SES Mailbox Simulator" || c.FeedbackID == "" {
		t.Errorf("complaint = %+v", c)
	}

	// The simulator never suppresses.
	for _, addr := range []string{"bounce" + simDomain, "bounce+run-7" + simDomain, "complaint+b" + simDomain, "suppressionlist" + simDomain} {
		_, err := s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(addr)})
		wantErr[*sesv2types.NotFoundException](t, err, addr)
	}
	// Nor does it count toward the daily quota: only me@example.com did.
	q, err := s.SES.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	if err != nil {
		t.Fatal(err)
	}
	if q.SentLast24Hours != 1 {
		t.Errorf("SentLast24Hours = %v, want 1", q.SentLast24Hours)
	}

	// At the sink: the real recipient's copy, then the auto-reply.
	s.Sink.Wait(t, sinkBefore+2, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // anything else would have arrived too
	msgs := s.Sink.Messages()[sinkBefore:]
	if len(msgs) != 2 {
		t.Fatalf("sink got %d messages, want 2", len(msgs))
	}
	var reply *smtpsink.Received
	for i, m := range msgs {
		for _, to := range m.To {
			if strings.HasSuffix(to, simDomain) {
				t.Errorf("simulator address %s reached the sink", to)
			}
		}
		if strings.Contains(string(m.Data), "Auto-Submitted:") {
			reply = &msgs[i]
		} else if !strings.Contains(string(m.Data), id) || !slices.Equal(m.To, []string{"me@example.com"}) {
			t.Errorf("unexpected message at the sink: to %v\n%s", m.To, m.Data)
		}
	}
	if reply == nil {
		t.Fatal("no auto-reply at the sink")
	}
	hs, err := mail.ParseHeader(reply.Data)
	if err != nil {
		t.Fatal(err)
	}
	header := map[string]string{}
	for _, h := range hs {
		header[strings.ToLower(h.Name)] = h.Value
	}
	if reply.From != "" || !slices.Equal(reply.To, []string{"me@example.com"}) || header["auto-submitted"] != "auto-replied" ||
		!strings.Contains(header["from"], "ooto"+simDomain) || !strings.Contains(header["in-reply-to"], id) ||
		!strings.HasPrefix(header["subject"], "Out of the Office") {
		t.Fatalf("auto-reply: MAIL FROM %q, RCPT %v, headers %v", reply.From, reply.To, header)
	}
}

// --dev captures real mail but still plays the simulator's outcomes.
func TestMailboxSimulatorInDevMode(t *testing.T) {
	s := stack.Start(t, stack.Dev())
	s.VerifyDomain(t, "example.com")
	out, err := s.SES.SendEmail(context.Background(), simpleSend("me@example.com", "success"+simDomain, "bounce"+simDomain, "real@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	ds := supByRcpt(waitState(t, s, aws.ToString(out.MessageId)))
	if ds["success"+simDomain].State != queue.Delivered || ds["bounce"+simDomain].State != queue.Bounced || ds["real@example.net"].State != queue.Captured {
		t.Fatalf("deliveries = %+v", ds)
	}
	if n := len(s.Sink.Messages()); n != 0 {
		t.Fatalf("--dev delivered %d messages", n)
	}
}
