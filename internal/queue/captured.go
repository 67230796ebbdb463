package queue

import (
	"context"
	"strings"

	"github.com/sesamehq/sesame/internal/store"
)

// CapturedMessage is mail kept by --dev instead of being delivered.
type CapturedMessage struct {
	ID          string   `json:"Id"`
	Region      string   `json:"Region,omitempty"`
	Timestamp   string   `json:"Timestamp"`
	Source      string   `json:"Source"`
	Destination []string `json:"Destination"`
	RawData     string   `json:"RawData"`
}

// Captured returns captured messages, newest last, optionally only the one
// with id or those whose source is email.
func (q *Queue) Captured(ctx context.Context, id, email string) ([]CapturedMessage, error) {
	rows, err := q.db.Read().QueryContext(ctx, `SELECT m.id, m.created_at, m.source, group_concat(d.rcpt, ' '), COALESCE(m.dkim, x''), m.data
		FROM messages m JOIN deliveries d ON d.message_id = m.id
		WHERE d.state = 'captured' AND (? = '' OR m.id = ?) AND (? = '' OR m.source = ?)
		GROUP BY m.id ORDER BY m.created_at, m.id`, id, id, email, email)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []CapturedMessage{}
	for rows.Next() {
		var c CapturedMessage
		var at int64
		var rcpts string
		var sig, data []byte
		if err := rows.Scan(&c.ID, &at, &c.Source, &rcpts, &sig, &data); err != nil {
			return nil, err
		}
		c.Timestamp = store.FromMillis(at).Format("2006-01-02T15:04:05.000Z")
		c.Destination = strings.Fields(rcpts)
		c.RawData = string(sig) + string(data)
		out = append(out, c)
	}
	return out, rows.Err()
}
