package queue

import (
	"context"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// Postpone gives claimed deliveries back to the queue, due at until, without
// counting an attempt or writing an event: the worker held them but did not
// try them (their destination was busy, or the worker is stopping). A
// delivery no longer queued is left alone.
func (q *Queue) Postpone(ctx context.Context, until time.Time, claims []Claim) error {
	if len(claims) == 0 {
		return nil
	}
	next := store.Millis(until)
	return q.db.Write(ctx, func(tx *store.Tx) error {
		for _, c := range claims {
			for _, rcpt := range c.Recipients {
				if _, err := tx.Exec(`UPDATE deliveries SET next_at = ?, lease_until = 0
					WHERE message_id = ? AND rcpt = ? AND state = 'queued'`, next, c.MessageID, rcpt); err != nil {
					return err
				}
			}
		}
		if !until.After(q.now()) {
			tx.AfterCommit(q.poke)
		}
		return nil
	})
}
