package sns_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/sns"
)

// TestListSubscriptionsPages: pages of 100 in ARN order, the cursor
// continuing after the last ARN, per topic or for the whole account.
func TestListSubscriptionsPages(t *testing.T) {
	e := newEnv(t, nil) // no dispatcher: confirmations stay queued
	ctx := context.Background()
	a, err := e.svc.CreateTopic(ctx, account, "a", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.svc.CreateTopic(ctx, account, "b", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 101 {
		if _, err := e.svc.Subscribe(ctx, account, a, "http", fmt.Sprintf("http://127.0.0.1:9/%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Subscribe(ctx, account, b, "https", "https://127.0.0.1:9/b", nil); err != nil {
		t.Fatal(err)
	}
	page, next, err := e.svc.ListSubscriptions(ctx, account, a, "")
	if err != nil || len(page) != 100 || next != page[99].ARN {
		t.Fatalf("first page: %d, next %q, %v", len(page), next, err)
	}
	for i := 1; i < len(page); i++ {
		if page[i-1].ARN >= page[i].ARN {
			t.Fatalf("not in ARN order at %d", i)
		}
		if !page[i].Pending || page[i].TopicARN != a {
			t.Fatalf("subscription %+v", page[i])
		}
	}
	rest, next, err := e.svc.ListSubscriptions(ctx, account, a, next)
	if err != nil || len(rest) != 1 || next != "" {
		t.Fatalf("second page: %d, next %q, %v", len(rest), next, err)
	}
	all, _, _ := e.svc.ListSubscriptions(ctx, account, "", "")
	more, _, _ := e.svc.ListSubscriptions(ctx, account, "", all[len(all)-1].ARN)
	if len(all)+len(more) != 102 {
		t.Errorf("account-wide: %d + %d subscriptions, want 102", len(all), len(more))
	}
	if other, _, err := e.svc.ListSubscriptions(ctx, "999999999999", "", ""); err != nil || len(other) != 0 {
		t.Errorf("another account sees %d, %v", len(other), err)
	}
}

// TestTokenExpiryAndRetention: a token is refused once expired, the
// subscription it would have confirmed is removed at the next sweep, and
// finished deliveries are removed after the retention.
func TestTokenExpiryAndRetention(t *testing.T) {
	e := newEnv(t, func(c *sns.Config) { c.TokenTTL = 150 * time.Millisecond; c.Retention = time.Millisecond })
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topic, err := e.svc.CreateTopic(ctx, account, "expiring", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Subscribe(ctx, account, topic, "http", rec.srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	got := rec.waitFor(t, 5*time.Second, "confirmation", func(g []received) bool { return len(g) == 1 })
	msgID := got[0].Env.MessageID
	time.Sleep(200 * time.Millisecond)
	if _, err := e.svc.ConfirmSubscription(ctx, "", topic, got[0].Env.Token, false); !fault.Is(err, fault.InvalidParameter) || err.Error() != "Invalid parameter: Token" {
		t.Fatalf("expired token: %v", err)
	}
	if ds, err := e.svc.Deliveries(ctx, account, msgID, ""); err != nil || len(ds) != 1 || ds[0].State != "delivered" {
		t.Fatalf("confirmation delivery: %+v, %v", ds, err)
	}

	// The next start sweeps.
	e.stop()
	e.run()
	deadline := time.Now().Add(5 * time.Second)
	for {
		subs, _, err := e.svc.ListSubscriptions(ctx, account, "", "")
		if err != nil {
			t.Fatal(err)
		}
		ds, err := e.svc.Deliveries(ctx, account, msgID, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(subs) == 0 && len(ds) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not swept: %d subscriptions, %d deliveries", len(subs), len(ds))
		}
		time.Sleep(20 * time.Millisecond)
	}
	attrs, err := e.svc.TopicAttributes(ctx, account, topic)
	if err != nil || attrs["SubscriptionsPending"] != "0" {
		t.Errorf("after sweep: %v, %v", attrs, err)
	}
}
