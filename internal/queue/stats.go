package queue

import (
	"context"
	"slices"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// bucket is SES's statistics interval.
const bucket = 15 * time.Minute

// DataPoint is one 15-minute bucket of v1 GetSendStatistics.
type DataPoint struct {
	Timestamp        time.Time
	DeliveryAttempts int64
	Bounces          int64
	Complaints       int64
	Rejects          int64
}

// Statistics returns the account's sending in 15-minute buckets over the
// last two weeks (SES-BEHAVIOR §6.2), counted per recipient, oldest first;
// Complaints and Rejects come from the timeline's events.
// Sesame's own mail (verification requests) is not counted.
func (q *Queue) Statistics(ctx context.Context, account string) ([]DataPoint, error) {
	since := q.now().Add(-14 * 24 * time.Hour)
	size := bucket.Milliseconds()
	// A recipient bounced at acceptance for being on the suppression list
	// (state bounced, no attempt) is neither an attempt nor a bounce: SES
	// keeps those out of the bounce rate (SES-BEHAVIOR §11).
	rows, err := q.db.Read().QueryContext(ctx, `SELECT (m.created_at / ?) * ? AS b,
		COALESCE(SUM(NOT (d.state = 'bounced' AND d.attempts = 0)), 0), COALESCE(SUM(d.state = 'bounced' AND d.attempts > 0), 0)
		FROM deliveries d JOIN messages m ON m.id = d.message_id
		WHERE m.account_id = ? AND m.system = 0 AND m.created_at > ?
		GROUP BY b ORDER BY b`, size, size, account, store.Millis(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DataPoint
	index := map[int64]int{} // bucket start → position in out
	for rows.Next() {
		var p DataPoint
		var at int64
		if err := rows.Scan(&at, &p.DeliveryAttempts, &p.Bounces); err != nil {
			return nil, err
		}
		p.Timestamp = store.FromMillis(at)
		index[at] = len(out)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Complaints (per complaining recipient) and Rejects (per message) count
	// in the bucket of the event: a complaint arrives when it arrives.
	ev, err := q.db.Read().QueryContext(ctx, `SELECT (e.at / ?) * ? AS b,
		COALESCE(SUM(CASE WHEN e.type = 'Complaint' THEN MAX(COALESCE(json_array_length(e.payload, '$.complainedRecipients'), 0), 1) END), 0),
		COALESCE(SUM(e.type = 'Reject'), 0)
		FROM events e JOIN messages m ON m.id = e.message_id
		WHERE e.account_id = ? AND e.type IN ('Complaint', 'Reject') AND e.at > ? AND m.system = 0
		GROUP BY b ORDER BY b`, size, size, account, store.Millis(since))
	if err != nil {
		return nil, err
	}
	defer ev.Close()
	for ev.Next() {
		var at, complaints, rejects int64
		if err := ev.Scan(&at, &complaints, &rejects); err != nil {
			return nil, err
		}
		i, ok := index[at]
		if !ok {
			i = len(out)
			index[at] = i
			out = append(out, DataPoint{Timestamp: store.FromMillis(at)})
		}
		out[i].Complaints += complaints
		out[i].Rejects += rejects
	}
	if err := ev.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b DataPoint) int { return a.Timestamp.Compare(b.Timestamp) })
	return out, nil
}
