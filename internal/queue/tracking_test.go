package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/store"
)

func TestRecordOpenAndClick(t *testing.T) {
	q, db, _ := open(t)
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error { return q.Enqueue(tx, message("m1", "you@example.net")) }); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	if err := q.RecordOpen(ctx, "m1", queue.Engagement{At: at, IPAddress: "127.0.0.1", UserAgent: "UA/1"}); err != nil {
		t.Fatal(err)
	}
	if err := q.RecordClick(ctx, "m1", queue.Engagement{At: at, IPAddress: "127.0.0.1", UserAgent: "UA/1",
		Link: "https://example.com/?a=1&b=2#x", LinkTags: map[string][]string{"campaign": {"spring"}}}); err != nil {
		t.Fatal(err)
	}
	if err := q.RecordClick(ctx, "m1", queue.Engagement{At: at, Link: "https://example.com/"}); err != nil {
		t.Fatal(err)
	}
	evs, err := q.Events(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 || evs[1].Type != "Open" || evs[2].Type != "Click" || evs[3].Type != "Click" {
		t.Fatalf("events = %+v", evs)
	}
	want := []string{
		`{"ipAddress":"127.0.0.1","timestamp":"2026-01-02T03:04:05.678Z","userAgent":"UA/1"}`,
		`{"ipAddress":"127.0.0.1","timestamp":"2026-01-02T03:04:05.678Z","userAgent":"UA/1","link":"https://example.com/?a=1\u0026b=2#x","linkTags":{"campaign":["spring"]}}`,
		`{"ipAddress":"","timestamp":"2026-01-02T03:04:05.678Z","userAgent":"","link":"https://example.com/"}`,
	}
	for i, w := range want {
		if got := evs[i+1].Payload; got != w {
			t.Errorf("event %d payload\n got %s\nwant %s", i+1, got, w)
		}
		if !json.Valid([]byte(evs[i+1].Payload)) || !evs[i+1].At.Equal(at) {
			t.Errorf("event %d: at %v", i+1, evs[i+1].At)
		}
	}
}

func TestRecordEngagementUnknownMessage(t *testing.T) {
	q, _, _ := open(t)
	ctx := context.Background()
	if err := q.RecordOpen(ctx, "nope", queue.Engagement{}); !errors.Is(err, queue.ErrNoMessage) {
		t.Errorf("RecordOpen = %v, want ErrNoMessage", err)
	}
	if err := q.RecordClick(ctx, "nope", queue.Engagement{Link: "https://x.test/"}); !errors.Is(err, queue.ErrNoMessage) {
		t.Errorf("RecordClick = %v, want ErrNoMessage", err)
	}
	if evs, err := q.Events(ctx, "nope"); err != nil || len(evs) != 0 {
		t.Errorf("events = %v, %v", evs, err)
	}
}
