package queue

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sesamehq/sesame/internal/store"
)

const loadBrief = `SELECT id, account_id, created_at, operation, source, identity, config_set, system FROM messages WHERE id = ?`

// LoadBrief reads what decides who hears of a message's events — its
// account, sender, configuration set, and whether it is Sesame's own —
// without its tags, headers, recipients or body (Tags, Headers and
// Recipients are nil): event publishing reads most messages' events only to
// find that nothing consumes them.
func (q *Queue) LoadBrief(ctx context.Context, id string) (*Stored, error) {
	var s Stored
	var created int64
	var system int
	err := q.db.QueryRow(ctx, loadBrief, id).Scan(&s.ID, &s.AccountID, &created, &s.Operation, &s.Source, &s.From, &s.ConfigSet, &system)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoMessage
	}
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.System = store.FromMillis(created), system == 1
	return &s, nil
}

const loadToSend = `SELECT id, account_id, created_at, operation, source, identity, config_set, system, data, dkim FROM messages WHERE id = ?`

// LoadToSend reads what delivery needs of a message: LoadBrief's fields,
// its bytes and the DKIM signature of an earlier attempt — not its tags,
// headers or recipients (nil), which only events and the mailbox
// simulator's replies use.
func (q *Queue) LoadToSend(ctx context.Context, id string) (*Stored, error) {
	var s Stored
	var created int64
	var system int
	err := q.db.QueryRow(ctx, loadToSend, id).Scan(&s.ID, &s.AccountID, &created, &s.Operation, &s.Source, &s.From, &s.ConfigSet, &system, &s.Data, &s.DKIM)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoMessage
	}
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.System = store.FromMillis(created), system == 1
	return &s, nil
}
