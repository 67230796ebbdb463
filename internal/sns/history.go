package sns

import (
	"context"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// Delivery is the state of one message's delivery to one subscription.
type Delivery struct {
	MessageID    string
	Subscription string
	Type         string // Notification, SubscriptionConfirmation, UnsubscribeConfirmation
	State        string // queued, delivered, failed or dropped
	Attempts     int
	NextAt       time.Time // while queued
	Tries        []Attempt
}

// Attempt is one recorded HTTP attempt.
type Attempt struct {
	N        int
	At       time.Time
	Duration time.Duration
	Status   int    // HTTP status; 0 without an answer
	Error    string // "" for a 2xx
}

// Deliveries returns the deliveries of account's messages to one
// subscription, or of one message when messageID is not "" (either may be
// ""), oldest first, each with its attempts: the record a console or an
// operator reads to see why a subscriber did not get a notification.
func (s *Service) Deliveries(ctx context.Context, account, messageID, subscription string) ([]Delivery, error) {
	q := `SELECT d.message_id, d.subscription, m.type, d.state, d.attempts, d.next_at
		FROM sns_deliveries d JOIN sns_messages m ON m.id = d.message_id
		WHERE m.account_id = ?`
	args := []any{account}
	if messageID != "" {
		q += " AND d.message_id = ?"
		args = append(args, messageID)
	}
	if subscription != "" {
		q += " AND d.subscription = ?"
		args = append(args, subscription)
	}
	rows, err := s.db.Read().QueryContext(ctx, q+" ORDER BY m.created_at, d.message_id, d.subscription LIMIT 1000", args...)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var next int64
		if err := rows.Scan(&d.MessageID, &d.Subscription, &d.Type, &d.State, &d.Attempts, &next); err != nil {
			rows.Close()
			return nil, err
		}
		if d.State == stateQueued {
			d.NextAt = store.FromMillis(next)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Tries, err = s.attempts(ctx, out[i].MessageID, out[i].Subscription); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) attempts(ctx context.Context, messageID, subscription string) ([]Attempt, error) {
	rows, err := s.db.Read().QueryContext(ctx,
		"SELECT attempt, at, duration_ms, status, error FROM sns_attempts WHERE message_id = ? AND subscription = ? ORDER BY id",
		messageID, subscription)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var at, ms int64
		if err := rows.Scan(&a.N, &at, &ms, &a.Status, &a.Error); err != nil {
			return nil, err
		}
		a.At, a.Duration = store.FromMillis(at), time.Duration(ms)*time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}
