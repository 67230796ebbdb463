package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/suppression"
)

const acct = account.RootAccountID

func open(t *testing.T) (*queue.Queue, *store.DB, *suppression.Service) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "q.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, _, err := account.New(db, false, nil).Bootstrap(context.Background(), "", ""); err != nil {
		t.Fatal(err)
	}
	return queue.New(db, nil), db, suppression.New(db, nil, nil)
}

func message(id string, rcpts ...string) *queue.Message {
	return &queue.Message{ID: id, AccountID: acct, CreatedAt: time.Now(), Operation: "SendEmail", Source: "me@example.com",
		From: "me@example.com", Data: []byte("Subject: x\r\n\r\nbody\r\n"), Recipients: rcpts}
}

func types(t *testing.T, q *queue.Queue, id string) []string {
	t.Helper()
	evs, err := q.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// The suppression check is part of the enqueue: if the write that enqueues
// fails later (a quota refusal, say), neither the message nor its bounce
// exists.
func TestSuppressedAtEnqueueIsAtomic(t *testing.T) {
	q, db, sup := open(t)
	ctx := context.Background()
	if err := sup.Put(ctx, acct, "blocked@example.net", suppression.Bounce); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused after enqueue")
	err := db.Write(ctx, func(tx *store.Tx) error {
		if err := q.Enqueue(tx, message("m1", "blocked@example.net", "ok@example.net")); err != nil {
			return err
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatal(err)
	}
	if evs := types(t, q, "m1"); len(evs) != 0 {
		t.Fatalf("events of a refused message: %v", evs)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error { return q.Enqueue(tx, message("m2", "blocked@example.net", "ok@example.net")) }); err != nil {
		t.Fatal(err)
	}
	if got := types(t, q, "m2"); !slices.Equal(got, []string{"Send", "Bounce"}) {
		t.Fatalf("events = %v", got)
	}
	ds, err := q.Deliveries(ctx, "m2")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Rcpt != "blocked@example.net" || ds[0].State != queue.Bounced || ds[1].State != queue.Queued {
		t.Fatalf("deliveries = %+v", ds)
	}
	// Only the other recipient is handed to a worker.
	claims, err := q.Claim(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || len(claims[0].Recipients) != 1 || claims[0].Recipients[0] != "ok@example.net" {
		t.Fatalf("claims = %+v", claims)
	}
}

// An outcome recorded twice (a lease that ran out under a slow attempt)
// writes its events and follow-ups once.
func TestRecordOnce(t *testing.T) {
	q, db, sup := open(t)
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error { return q.Enqueue(tx, message("m1", "gone@example.net", "fan@example.net")) }); err != nil {
		t.Fatal(err)
	}
	m, err := q.Load(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	reply := message("r1", "me@example.com")
	reply.System = true
	results := []queue.Result{
		{Rcpt: "gone@example.net", State: queue.Bounced, Code: 550, Status: "5.1.1", Text: "550 5.1.1 no", BounceType: "Permanent", BounceSubType: "General"},
		{Rcpt: "fan@example.net", State: queue.Delivered, Code: 250, Text: "250 ok", Reply: reply,
			Complaint: &queue.Complaint{FeedbackType: "abuse", UserAgent: "test"}},
	}
	for range 2 {
		if err := q.Record(ctx, m, results, "sesame.test"); err != nil {
			t.Fatal(err)
		}
	}
	if got := types(t, q, "m1"); !slices.Equal(got, []string{"Send", "Delivery", "Complaint", "Bounce"}) {
		t.Fatalf("events = %v", got)
	}
	if got := types(t, q, "r1"); !slices.Equal(got, []string{"Send"}) {
		t.Fatalf("reply events = %v", got)
	}
	for addr, want := range map[string]suppression.Reason{"gone@example.net": suppression.Bounce, "fan@example.net": suppression.Complaint} {
		e, err := sup.Get(ctx, acct, addr)
		if err != nil || e.Reason != want || e.MessageID != "m1" {
			t.Fatalf("%s: %+v, %v", addr, e, err)
		}
	}
}

// A DSN for a recipient already bounced, or not a recipient at all, is
// ignored; a transient one suppresses nothing.
func TestRecordBounce(t *testing.T) {
	q, db, sup := open(t)
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error { return q.Enqueue(tx, message("m1", "A@example.net", "b@example.net")) }); err != nil {
		t.Fatal(err)
	}
	soft := queue.AsyncBounce{BounceType: "Transient", BounceSubType: "MailboxFull",
		Recipients: []queue.BouncedRecipient{{Rcpt: "b@example.net", Status: "4.2.2"}, {Rcpt: "x@example.net", Status: "4.2.2"}}}
	if err := q.RecordBounce(ctx, "m1", soft); err != nil {
		t.Fatal(err)
	}
	if _, err := sup.Get(ctx, acct, "b@example.net"); err == nil {
		t.Fatal("transient bounce suppressed")
	}
	hard := queue.AsyncBounce{BounceType: "Permanent", BounceSubType: "General",
		Recipients: []queue.BouncedRecipient{{Rcpt: "a@EXAMPLE.net", Status: "5.1.1", DiagnosticCode: "smtp; 550 5.1.1 gone"}, {Rcpt: "b@example.net"}}}
	if err := q.RecordBounce(ctx, "m1", hard); err != nil {
		t.Fatal(err)
	}
	if err := q.RecordBounce(ctx, "m1", hard); err != nil {
		t.Fatal(err)
	}
	evs, err := q.Events(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("events = %+v", evs)
	}
	var b struct {
		BounceType        string
		BouncedRecipients []struct{ EmailAddress, Status, DiagnosticCode string }
	}
	if err := json.Unmarshal([]byte(evs[2].Payload), &b); err != nil {
		t.Fatal(err)
	}
	// b@ already bounced (transiently) and is not reported again.
	if b.BounceType != "Permanent" || len(b.BouncedRecipients) != 1 || b.BouncedRecipients[0].EmailAddress != "A@example.net" ||
		b.BouncedRecipients[0].DiagnosticCode != "smtp; 550 5.1.1 gone" {
		t.Fatalf("bounce = %s", evs[2].Payload)
	}
	if e, err := sup.Get(ctx, acct, "a@example.net"); err != nil || e.Reason != suppression.Bounce {
		t.Fatalf("entry %+v, %v", e, err)
	}
	if err := q.RecordComplaint(ctx, "nope", nil, "", "", time.Time{}); !errors.Is(err, queue.ErrNoMessage) {
		t.Fatalf("complaint for unknown message: %v", err)
	}
}
