package queue

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// Envelope is what is known of an accepted message without its content:
// enough for the inbound MX to tell whether a bounce or complaint address
// is one Sesame issued, and about whom.
type Envelope struct {
	ID        string
	AccountID string
	CreatedAt time.Time
	// Source is the sender the caller gave; it names the identity whose
	// custom MAIL FROM domain the envelope sender used.
	Source     string
	System     bool     // Sesame's own mail (verification requests)
	Recipients []string // one per delivery, as the message has them
}

// Envelope reads a message's envelope; an unknown id is ErrNoMessage. It
// does not read the message data, which may be 40 MB.
func (q *Queue) Envelope(ctx context.Context, id string) (*Envelope, error) {
	e := Envelope{ID: id}
	var created int64
	var system int
	err := q.db.Read().QueryRowContext(ctx, "SELECT account_id, created_at, source, system FROM messages WHERE id = ?", id).
		Scan(&e.AccountID, &created, &e.Source, &system)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoMessage
	}
	if err != nil {
		return nil, err
	}
	e.CreatedAt, e.System = store.FromMillis(created), system == 1
	rows, err := q.db.Read().QueryContext(ctx, "SELECT rcpt FROM deliveries WHERE message_id = ? ORDER BY rowid", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		e.Recipients = append(e.Recipients, r)
	}
	return &e, rows.Err()
}
