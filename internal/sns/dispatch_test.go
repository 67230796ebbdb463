package sns_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/sns"
	"github.com/sesamehq/sesame/internal/store"
)

// verify checks an envelope's signature the way SNS consumers do: the
// canonical "Name\nValue\n" string of the signed members, the certificate's
// RSA key, PKCS #1 v1.5 with SHA-1 (version 1) or SHA-256 (version 2).
func verify(t *testing.T, certPEM []byte, e sns.Envelope) {
	t.Helper()
	var names []string
	switch e.Type {
	case sns.TypeNotification:
		names = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	default:
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	values := map[string]string{"Message": e.Message, "MessageId": e.MessageID, "Subject": e.Subject, "Timestamp": e.Timestamp,
		"TopicArn": e.TopicARN, "Type": e.Type, "SubscribeURL": e.SubscribeURL, "Token": e.Token}
	var b strings.Builder
	for _, n := range names {
		if n == "Subject" && e.Subject == "" {
			continue
		}
		b.WriteString(n + "\n" + values[n] + "\n")
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("certificate: no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil {
		t.Fatalf("Signature: %v", err)
	}
	var h crypto.Hash
	var sum []byte
	switch e.SignatureVersion {
	case "1":
		d := sha1.Sum([]byte(b.String()))
		h, sum = crypto.SHA1, d[:]
	case "2":
		d := sha256.Sum256([]byte(b.String()))
		h, sum = crypto.SHA256, d[:]
	default:
		t.Fatalf("SignatureVersion %q", e.SignatureVersion)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), h, sum, sig); err != nil {
		t.Fatalf("%s %s: signature does not verify: %v", e.Type, e.MessageID, err)
	}
}

// TestRetriesUntilTheSubscriberRecovers: a subscriber answering 500 for a
// while gets every message exactly once when it recovers, and every
// attempt is on record.
func TestRetriesUntilTheSubscriberRecovers(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, subARN := e.subscribe(t, rec, "orders")

	var down atomic.Bool
	down.Store(true)
	rec.setAnswer(func(r *http.Request, env sns.Envelope) int {
		if down.Load() {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	want := map[string]string{}
	for i := range 6 {
		msg := fmt.Sprintf(`{"eventType":"Delivery","n":%d}`, i)
		var id string
		var err error
		if i%2 == 0 {
			id, err = e.svc.Publish(ctx, account, topicARN, "", msg)
		} else {
			err = e.db.Write(ctx, func(tx *store.Tx) error {
				id, err = e.svc.PublishTx(tx, account, topicARN, "Event", msg)
				return err
			})
		}
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		want[id] = msg
	}
	// Let every message fail a few times, then recover.
	rec.waitFor(t, 5*time.Second, "failed attempts", func(g []received) bool {
		failed := map[string]int{}
		for _, r := range byType(g, sns.TypeNotification) {
			failed[r.Env.MessageID]++
		}
		for id := range want {
			if failed[id] < 3 {
				return false
			}
		}
		return true
	})
	time.Sleep(100 * time.Millisecond)
	down.Store(false)

	got := rec.waitFor(t, 15*time.Second, "every message delivered", func(g []received) bool {
		ok := map[string]bool{}
		for _, r := range byType(g, sns.TypeNotification) {
			if r.Status == 200 {
				ok[r.Env.MessageID] = true
			}
		}
		return len(ok) == len(want)
	})
	time.Sleep(200 * time.Millisecond) // anything extra would arrive now
	got = rec.requests()
	delivered := map[string]int{}
	for _, r := range byType(got, sns.TypeNotification) {
		if r.Header.Get("x-amz-sns-subscription-arn") != subARN || r.Header.Get("x-amz-sns-topic-arn") != topicARN ||
			r.Header.Get("x-amz-sns-message-id") != r.Env.MessageID || r.Header.Get("Content-Type") != "text/plain; charset=UTF-8" {
			t.Errorf("headers %v do not match envelope %s", r.Header, r.Env.MessageID)
		}
		if r.Env.Message != want[r.Env.MessageID] {
			t.Errorf("message %s: %q, want %q", r.Env.MessageID, r.Env.Message, want[r.Env.MessageID])
		}
		verify(t, e.signer.CertificatePEM(), r.Env)
		if r.Status == 200 {
			delivered[r.Env.MessageID]++
		}
	}
	for id := range want {
		if delivered[id] != 1 {
			t.Errorf("message %s delivered %d times, want once", id, delivered[id])
		}
	}

	// The record: delivered, with each attempt; all but the last failed.
	for id := range want {
		ds, err := e.svc.Deliveries(ctx, account, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 {
			t.Fatalf("message %s: %d deliveries", id, len(ds))
		}
		d := ds[0]
		if d.State != "delivered" || d.Subscription != subARN || d.Attempts != len(d.Tries) || d.Attempts < 4 {
			t.Errorf("delivery %+v", d)
		}
		for i, a := range d.Tries {
			last := i == len(d.Tries)-1
			if a.N != i+1 || (last && (a.Status != 200 || a.Error != "")) || (!last && (a.Status != 500 || a.Error == "")) {
				t.Errorf("message %s attempt %d: %+v", id, i+1, a)
			}
		}
	}
}

// TestRestartDeliversPending: deliveries queued when the process stops —
// never attempted, or claimed by a process that crashed mid-attempt — are
// made after the next start.
func TestRestartDeliversPending(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, _ := e.subscribe(t, rec, "restart")
	e.stop()
	e.stop = nil

	ids := map[string]bool{}
	for i := range 3 {
		id, err := e.svc.Publish(ctx, account, topicARN, "", fmt.Sprintf("pending %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	// A crashed dispatcher's claim: leased far into the future.
	if err := e.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec("UPDATE sns_deliveries SET lease_until = ? WHERE state = 'queued'", store.Millis(time.Now().Add(time.Hour)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.close()
	if n := len(byType(rec.requests(), sns.TypeNotification)); n != 0 {
		t.Fatalf("%d notifications before the restart", n)
	}

	e.open()
	e.run()
	got := rec.waitFor(t, 10*time.Second, "pending notifications", func(g []received) bool {
		return len(byType(g, sns.TypeNotification)) >= len(ids)
	})
	for _, r := range byType(got, sns.TypeNotification) {
		if !ids[r.Env.MessageID] {
			t.Errorf("unexpected notification %s", r.Env.MessageID)
		}
		delete(ids, r.Env.MessageID)
	}
	if len(ids) > 0 {
		t.Errorf("not delivered after restart: %v", ids)
	}
}

// TestSlowSubscriber: an attempt is bounded by the attempt timeout, the
// timeout is recorded and retried, and Publish never waits for it.
func TestSlowSubscriber(t *testing.T) {
	e := newEnv(t, func(c *sns.Config) { c.AttemptTimeout = 200 * time.Millisecond })
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, _ := e.subscribe(t, rec, "slow")
	var hang atomic.Bool
	hang.Store(true)
	rec.setAnswer(func(r *http.Request, env sns.Envelope) int {
		if hang.Load() {
			<-r.Context().Done() // until the client gives up
		}
		return http.StatusOK
	})
	start := time.Now()
	id, err := e.svc.Publish(ctx, account, topicARN, "", "slow")
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 150*time.Millisecond {
		t.Errorf("Publish took %v with a hanging subscriber", took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds, err := e.svc.Deliveries(ctx, account, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && len(ds[0].Tries) >= 2 {
			a := ds[0].Tries[0]
			if a.Status != 0 || !strings.Contains(a.Error, "deadline exceeded") || a.Duration < 150*time.Millisecond {
				t.Errorf("timed-out attempt recorded as %+v", a)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timed-out attempts recorded: %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	hang.Store(false)
	rec.waitFor(t, 10*time.Second, "delivery after the subscriber speeds up", func(g []received) bool {
		for _, r := range byType(g, sns.TypeNotification) {
			if r.Env.MessageID == id && r.Status == 200 && !hang.Load() {
				return true
			}
		}
		return false
	})
}

// TestRetriesExhausted: a delivery whose policy has no retries left is
// failed after 1 + numRetries attempts, and not attempted again.
func TestRetriesExhausted(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, subARN := e.subscribe(t, rec, "gone")
	if err := e.svc.SetSubscriptionAttribute(ctx, account, subARN, "DeliveryPolicy",
		`{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":2}}`); err != nil {
		t.Fatal(err)
	}
	rec.setAnswer(func(*http.Request, sns.Envelope) int { return http.StatusServiceUnavailable })
	id, err := e.svc.Publish(ctx, account, topicARN, "", "lost")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds, err := e.svc.Deliveries(ctx, account, id, subARN)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].State == "failed" {
			if ds[0].Attempts != 3 || len(ds[0].Tries) != 3 || ds[0].Tries[2].Status != 503 {
				t.Errorf("failed delivery %+v", ds[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery not failed: %+v", ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(byType(rec.requests(), sns.TypeNotification)); n != 3 {
		t.Errorf("%d attempts reached the subscriber, want 3", n)
	}
}

// TestUnsubscribe: queued deliveries are dropped, the endpoint gets a
// signed UnsubscribeConfirmation, and its token restores the subscription.
func TestUnsubscribe(t *testing.T) {
	e := newEnv(t, func(c *sns.Config) { c.DelayUnit = time.Second })
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, subARN := e.subscribe(t, rec, "leaving")
	rec.setAnswer(func(r *http.Request, env sns.Envelope) int {
		if env.Type == sns.TypeNotification {
			return http.StatusInternalServerError // retried in seconds: still queued below
		}
		return http.StatusOK
	})
	id, err := e.svc.Publish(ctx, account, topicARN, "", "pending")
	if err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 5*time.Second, "the first attempt", func(g []received) bool { return len(byType(g, sns.TypeNotification)) >= 1 })
	if err := e.svc.Unsubscribe(ctx, "", subARN); err != nil {
		t.Fatal(err)
	}
	ds, err := e.svc.Deliveries(ctx, account, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].State != "dropped" {
		t.Errorf("delivery after unsubscribe: %+v", ds)
	}
	got := rec.waitFor(t, 5*time.Second, "UnsubscribeConfirmation", func(g []received) bool {
		return len(byType(g, sns.TypeUnsubscribeConfirmation)) == 1
	})
	uc := byType(got, sns.TypeUnsubscribeConfirmation)[0].Env
	verify(t, e.signer.CertificatePEM(), uc)
	if !strings.Contains(uc.Message, subARN) || !strings.Contains(uc.SubscribeURL, "Action=ConfirmSubscription") || uc.Token == "" {
		t.Errorf("UnsubscribeConfirmation %+v", uc)
	}
	if _, err := e.svc.SubscriptionAttributes(ctx, account, subARN); !fault.Is(err, fault.NotFound) {
		t.Errorf("attributes of a deleted subscription: %v, want NotFound", err)
	}
	if err := e.svc.Unsubscribe(ctx, "", subARN); !fault.Is(err, fault.NotFound) {
		t.Errorf("second Unsubscribe: %v, want NotFound", err)
	}
	attrs, err := e.svc.TopicAttributes(ctx, account, topicARN)
	if err != nil {
		t.Fatal(err)
	}
	if attrs["SubscriptionsDeleted"] != "1" || attrs["SubscriptionsConfirmed"] != "0" {
		t.Errorf("counts after unsubscribe: %v", attrs)
	}
	arn, err := e.svc.ConfirmSubscription(ctx, "", topicARN, uc.Token, false)
	if err != nil || arn != subARN {
		t.Fatalf("restoring: %q, %v", arn, err)
	}
	if subs, _, err := e.svc.ListSubscriptions(ctx, account, topicARN, ""); err != nil || len(subs) != 1 || subs[0].Pending {
		t.Errorf("after restore: %+v, %v", subs, err)
	}
}

// TestAuthenticateOnUnsubscribe: a subscription confirmed by a signed
// request with AuthenticateOnUnsubscribe refuses the unsigned UnsubscribeURL.
func TestAuthenticateOnUnsubscribe(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, err := e.svc.CreateTopic(ctx, account, "guarded", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.svc.Subscribe(ctx, account, topicARN, "http", rec.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.waitFor(t, 5*time.Second, "confirmation", func(g []received) bool { return len(g) > 0 })
	if _, err := e.svc.ConfirmSubscription(ctx, account, topicARN, got[0].Env.Token, true); err != nil {
		t.Fatal(err)
	}
	var authz *sns.AuthorizationError
	if err := e.svc.Unsubscribe(ctx, "", sub.ARN); !errors.As(err, &authz) {
		t.Fatalf("unsigned Unsubscribe: %v, want AuthorizationError", err)
	}
	if err := e.svc.Unsubscribe(ctx, "999999999999", sub.ARN); !errors.As(err, &authz) {
		t.Fatalf("another account's Unsubscribe: %v, want AuthorizationError", err)
	}
	if err := e.svc.Unsubscribe(ctx, account, sub.ARN); err != nil {
		t.Fatalf("owner's Unsubscribe: %v", err)
	}
}

// TestEnvelopeOptions: raw delivery, per-protocol MessageStructure, message
// attributes in the envelope, SignatureVersion 2 and the policy's content
// type.
func TestEnvelopeOptions(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, subARN := e.subscribe(t, rec, "options")
	if err := e.svc.SetTopicAttribute(ctx, account, topicARN, "SignatureVersion", "2"); err != nil {
		t.Fatal(err)
	}
	id1, err := e.svc.PublishMessage(ctx, account, sns.PublishInput{
		TopicARN: topicARN, Subject: "Hi", MessageStructure: "json",
		Message: `{"default":"for everyone","http":"for http <&>"}`,
		MessageAttributes: map[string]sns.Attribute{
			"kind":  {DataType: "String", StringValue: "bounce"},
			"n":     {DataType: "Number", StringValue: "42"},
			"bytes": {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := rec.waitFor(t, 5*time.Second, "first notification", func(g []received) bool { return len(byType(g, sns.TypeNotification)) == 1 })
	n := byType(got, sns.TypeNotification)[0]
	if n.Env.MessageID != id1 || n.Env.Message != "for http <&>" || n.Env.Subject != "Hi" || n.Env.SignatureVersion != "2" {
		t.Errorf("envelope %+v", n.Env)
	}
	if !strings.Contains(string(n.Body), `"for http <&>"`) {
		t.Errorf("envelope escapes HTML characters: %s", n.Body)
	}
	wantAttrs := map[string]sns.EnvelopeAttribute{"kind": {"String", "bounce"}, "n": {"Number", "42"}, "bytes": {"Binary", "AAEC"}}
	for k, v := range wantAttrs {
		if n.Env.MessageAttributes[k] != v {
			t.Errorf("attribute %s = %+v, want %+v", k, n.Env.MessageAttributes[k], v)
		}
	}
	if !strings.HasPrefix(n.Env.UnsubscribeURL, "http://127.0.0.1:1/?Action=Unsubscribe&SubscriptionArn=") {
		t.Errorf("UnsubscribeURL %q", n.Env.UnsubscribeURL)
	}
	verify(t, e.signer.CertificatePEM(), n.Env)

	if err := e.svc.SetSubscriptionAttribute(ctx, account, subARN, "RawMessageDelivery", "true"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetSubscriptionAttribute(ctx, account, subARN, "DeliveryPolicy", `{"requestPolicy":{"headerContentType":"application/json"}}`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Publish(ctx, account, topicARN, "", `{"raw":true}`); err != nil {
		t.Fatal(err)
	}
	got = rec.waitFor(t, 5*time.Second, "raw notification", func(g []received) bool { return len(byType(g, sns.TypeNotification)) == 2 })
	raw := byType(got, sns.TypeNotification)[1]
	if string(raw.Body) != `{"raw":true}` || raw.Header.Get("x-amz-sns-rawdelivery") != "true" || raw.Header.Get("Content-Type") != "application/json" {
		t.Errorf("raw delivery: %q, headers %v", raw.Body, raw.Header)
	}
}

// TestPublishTx: a notification published inside a write that fails is
// rolled back with it and never delivered.
func TestPublishTx(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, _ := e.subscribe(t, rec, "tx")
	boom := errors.New("boom")
	var rolledBack string
	err := e.db.Write(ctx, func(tx *store.Tx) error {
		id, err := e.svc.PublishTx(tx, account, topicARN, "", "rolled back")
		rolledBack = id
		if err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("write: %v", err)
	}
	kept, err := e.svc.Publish(ctx, account, topicARN, "", "kept")
	if err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 5*time.Second, "the kept notification", func(g []received) bool {
		for _, r := range byType(g, sns.TypeNotification) {
			if r.Env.MessageID == kept {
				return true
			}
		}
		return false
	})
	for _, r := range byType(rec.requests(), sns.TypeNotification) {
		if r.Env.MessageID == rolledBack {
			t.Errorf("the rolled-back notification was delivered")
		}
	}
	if ds, err := e.svc.Deliveries(ctx, account, rolledBack, ""); err != nil || len(ds) != 0 {
		t.Errorf("rolled-back deliveries: %+v, %v", ds, err)
	}
}

// TestConcurrencyBound: no more attempts run at once than Concurrency, and
// a backlog larger than that is worked through.
func TestConcurrencyBound(t *testing.T) {
	e := newEnv(t, func(c *sns.Config) { c.Concurrency = 2 })
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, _ := e.subscribe(t, rec, "busy")
	var inFlight, peak atomic.Int32
	rec.setAnswer(func(r *http.Request, env sns.Envelope) int {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		return http.StatusOK
	})
	for i := range 10 {
		if _, err := e.svc.Publish(ctx, account, topicARN, "", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	rec.waitFor(t, 10*time.Second, "10 notifications", func(g []received) bool { return len(byType(g, sns.TypeNotification)) == 10 })
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
}
