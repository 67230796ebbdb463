package suppression

import (
	"context"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// MaxPage is the largest page ListSuppressedDestinations returns
// (SES-BEHAVIOR §1.4).
const MaxPage = 1000

// Query selects entries for List (v2 ListSuppressedDestinations).
type Query struct {
	Reasons []Reason  // only these reasons; none means all
	Start   time.Time // only entries last updated at or after Start (zero: no bound)
	End     time.Time // only entries last updated at or before End (zero: no bound)
	After   string    // the cursor: entries whose address sorts after it
	Limit   int       // page size, 1 to MaxPage (others are MaxPage)
}

// List returns a page of the account's entries in address order — a total
// order that entries updated between pages cannot disturb — and the cursor
// of the next page ("" on the last).
func (s *Service) List(ctx context.Context, account string, q Query) ([]Entry, string, error) {
	limit := q.Limit
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	var where strings.Builder
	args := []any{account, q.After}
	where.WriteString("account_id = ? AND address > ?")
	if len(q.Reasons) > 0 {
		where.WriteString(" AND reason IN (")
		for i, r := range q.Reasons {
			if i > 0 {
				where.WriteString(", ")
			}
			where.WriteString("?")
			args = append(args, string(r))
		}
		where.WriteString(")")
	}
	if !q.Start.IsZero() {
		where.WriteString(" AND updated_at >= ?")
		args = append(args, store.Millis(q.Start))
	}
	if !q.End.IsZero() {
		where.WriteString(" AND updated_at <= ?")
		args = append(args, store.Millis(q.End))
	}
	args = append(args, limit+1)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT address, reason, updated_at, message_id, feedback_id
		FROM suppressed_destinations WHERE `+where.String()+` ORDER BY address LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.Address, &e.Reason, &at, &e.MessageID, &e.FeedbackID); err != nil {
			return nil, "", err
		}
		e.LastUpdate = store.FromMillis(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Address
	}
	return out, next, nil
}
