package delivery

import (
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/delivery/transport"
	"github.com/sesamehq/sesame/internal/queue"
)

func TestClassify(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	w := New(Config{RetryBase: time.Minute, RetryMax: time.Hour, RetryWindow: 14 * time.Hour}, nil, nil, nil, &transport.Transport{}, func() time.Time { return now }, nil)
	fresh := &queue.Stored{Message: queue.Message{ID: "m", CreatedAt: now.Add(-time.Minute)}}
	old := &queue.Stored{Message: queue.Message{ID: "m", CreatedAt: now.Add(-6 * time.Minute)}}
	plain := &job{}
	short := &job{delivery: configset.Delivery{MaxDeliverySeconds: 300}}

	for _, c := range []struct {
		name            string
		m               *queue.Stored
		j               *job
		r               transport.Result
		state, typ, sub string
		expires         time.Time
	}{
		{"no such user", fresh, plain, transport.Result{Outcome: transport.Permanent, Code: 550, Enhanced: "5.1.1", Text: "550 5.1.1 no such user"},
			queue.Bounced, "Permanent", "NoEmail", time.Time{}},
		{"refusal in words only", fresh, plain, transport.Result{Outcome: transport.Permanent, Code: 550, Text: "550 User unknown"},
			queue.Bounced, "Permanent", "NoEmail", time.Time{}},
		{"mailbox full is a soft bounce", fresh, plain, transport.Result{Outcome: transport.Permanent, Code: 552, Enhanced: "5.2.2", Text: "552 5.2.2 Mailbox full"},
			queue.Bounced, "Transient", "MailboxFull", time.Time{}},
		{"policy is not the address's fault", fresh, plain, transport.Result{Outcome: transport.Permanent, Code: 550, Enhanced: "5.7.1", Text: "550 5.7.1 blocked"},
			queue.Bounced, "Transient", "ContentRejected", time.Time{}},
		{"no such domain", fresh, plain, transport.Result{Outcome: transport.Permanent, Enhanced: "5.1.2", Text: "domain not found"},
			queue.Bounced, "Permanent", "General", time.Time{}},
		{"4xx retried in the default window", old, plain, transport.Result{Outcome: transport.Transient, Code: 451, Enhanced: "4.3.0", Text: "451 4.3.0 later"},
			queue.Queued, "", "", old.CreatedAt.Add(14 * time.Hour)},
		{"MaxDeliverySeconds ends the window", old, short, transport.Result{Outcome: transport.Transient, Code: 451, Enhanced: "4.3.0", Text: "451 4.3.0 later"},
			queue.Bounced, "Transient", "General", time.Time{}},
		{"given up on a full mailbox", old, short, transport.Result{Outcome: transport.Transient, Code: 452, Enhanced: "4.2.2", Text: "452 4.2.2 over quota"},
			queue.Bounced, "Transient", "MailboxFull", time.Time{}},
		{"within MaxDeliverySeconds", fresh, short, transport.Result{Outcome: transport.Transient, Enhanced: "4.4.1", Text: "connect: refused"},
			queue.Queued, "", "", fresh.CreatedAt.Add(300 * time.Second)},
	} {
		got := w.classify(c.m, c.j, c.r)
		if got.State != c.state || got.BounceType != c.typ || got.BounceSubType != c.sub || !got.ExpiresAt.Equal(c.expires) {
			t.Errorf("%s: %s %s/%s expires %v; want %s %s/%s expires %v", c.name, got.State, got.BounceType, got.BounceSubType, got.ExpiresAt,
				c.state, c.typ, c.sub, c.expires)
		}
	}
}
