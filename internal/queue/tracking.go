package queue

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// Engagement is one open or click of a message, as the tracking endpoints
// saw it (SES-BEHAVIOR §8.3).
type Engagement struct {
	At        time.Time
	IPAddress string
	UserAgent string
	Link      string              // clicks: the original link
	LinkTags  map[string][]string // clicks: the link's ses:tags
}

// openEvent is SES's "open" object.
type openEvent struct {
	IPAddress string `json:"ipAddress"`
	Timestamp string `json:"timestamp"`
	UserAgent string `json:"userAgent"`
}

// clickEvent is SES's "click" object.
type clickEvent struct {
	IPAddress string              `json:"ipAddress"`
	Timestamp string              `json:"timestamp"`
	UserAgent string              `json:"userAgent"`
	Link      string              `json:"link"`
	LinkTags  map[string][]string `json:"linkTags,omitempty"`
}

// RecordOpen adds an Open event to a message's timeline. Every open is an
// event, as in SES. An unknown message is ErrNoMessage.
func (q *Queue) RecordOpen(ctx context.Context, msgID string, e Engagement) error {
	at := q.engagedAt(e)
	return q.recordEngagement(ctx, msgID, "Open", at, openEvent{IPAddress: e.IPAddress, Timestamp: timestamp(at), UserAgent: e.UserAgent})
}

// RecordClick adds a Click event to a message's timeline. An unknown
// message is ErrNoMessage.
func (q *Queue) RecordClick(ctx context.Context, msgID string, e Engagement) error {
	at := q.engagedAt(e)
	return q.recordEngagement(ctx, msgID, "Click", at, clickEvent{IPAddress: e.IPAddress, Timestamp: timestamp(at),
		UserAgent: e.UserAgent, Link: e.Link, LinkTags: e.LinkTags})
}

func (q *Queue) recordEngagement(ctx context.Context, msgID, typ string, at time.Time, detail any) error {
	return q.db.Write(ctx, func(tx *store.Tx) error {
		var account string
		err := tx.QueryRow("SELECT account_id FROM messages WHERE id = ?", msgID).Scan(&account)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoMessage
		}
		if err != nil {
			return err
		}
		return addEvent(tx, account, msgID, typ, store.Millis(at), detail)
	})
}

// engagedAt is when e happened: its time, or now when it has none.
func (q *Queue) engagedAt(e Engagement) time.Time {
	if e.At.IsZero() {
		return q.now().UTC()
	}
	return e.At.UTC()
}

func timestamp(t time.Time) string { return t.UTC().Format(sesTime) }
