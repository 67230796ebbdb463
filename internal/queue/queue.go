// Package queue is Sesame's durable outbound queue: accepted messages with
// one delivery row per envelope recipient, claimed by delivery workers under
// a lease (a crashed worker's claim comes due again, so delivery is at least
// once), and the message timeline — each state change is written with its
// event in one transaction (DESIGN.md §4, STYLE.md §5).
package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// Delivery states.
const (
	Queued    = "queued"
	Delivered = "delivered"
	Bounced   = "bounced"
	Captured  = "captured" // --dev: kept, not delivered
)

// Message is an accepted message.
type Message struct {
	ID        string
	AccountID string
	CreatedAt time.Time
	Operation string // SendEmail, SendRawEmail, SendSmtpEmail, VerifyEmailIdentity, …
	// Source is the sender address the caller gave (Source, FromEmailAddress,
	// MAIL FROM): it names the identity whose MAIL FROM setting applies.
	Source string
	// From is the From header address: it names the identity whose DKIM key signs.
	From       string
	ConfigSet  string
	Tags       map[string][]string
	Headers    []Header // the headers as submitted, for events
	Data       []byte   // the message as it will be sent, before DKIM
	Recipients []string
	System     bool // Sesame's own mail (verification requests)
}

// Header is one header field as submitted.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type meta struct {
	From    string              `json:"from"`
	Tags    map[string][]string `json:"tags,omitempty"`
	Headers []Header            `json:"headers,omitempty"`
	Rcpts   []string            `json:"destination"`
}

// Queue is the durable queue.
type Queue struct {
	db     *store.DB
	now    func() time.Time
	notify chan struct{}
}

// New returns the queue.
func New(db *store.DB, now func() time.Time) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{db: db, now: now, notify: make(chan struct{}, 1)}
}

// Ready is signalled after messages are enqueued; workers wait on it.
func (q *Queue) Ready() <-chan struct{} { return q.notify }

func (q *Queue) poke() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Enqueue stores m and its deliveries inside the caller's write, with its
// Send event. The message is durable when that write returns. Recipients on
// the account's suppression list are bounced here, in the same write, and
// never attempted (see suppressAtSend).
func (q *Queue) Enqueue(tx *store.Tx, m *Message) error {
	if len(m.Recipients) == 0 {
		return fault.New(fault.InvalidParameter, "A message needs at least one recipient.")
	}
	md, err := json.Marshal(meta{From: m.From, Tags: m.Tags, Headers: m.Headers, Rcpts: m.Recipients})
	if err != nil {
		return err
	}
	at := store.Millis(m.CreatedAt)
	if _, err := tx.Exec(`INSERT INTO messages(id, account_id, created_at, operation, source, identity, config_set, tags, headers, data, system)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)`,
		m.ID, m.AccountID, at, m.Operation, m.Source, m.From, m.ConfigSet, string(md), m.Data, boolInt(m.System)); err != nil {
		return err
	}
	rcpts := make([]string, 0, len(m.Recipients))
	for _, r := range m.Recipients {
		// One delivery per distinct recipient; with at most 50 a scan
		// costs less than a map.
		if !slices.Contains(rcpts, r) {
			rcpts = append(rcpts, r)
		}
	}
	suppressed, err := suppressAtSend(tx, m, rcpts)
	if err != nil {
		return err
	}
	var stopped []string
	for _, r := range rcpts {
		if suppressed[r] != "" {
			stopped = append(stopped, r)
			if _, err := tx.Exec(`INSERT INTO deliveries(message_id, rcpt, state, next_at, last_status, last_text, updated_at)
				VALUES (?, ?, 'bounced', 0, ?, ?, ?)`, m.ID, r, suppressedStatus, suppressedDiagnostic, at); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.Exec("INSERT INTO deliveries(message_id, rcpt, state, next_at, updated_at) VALUES (?, ?, 'queued', ?, ?)",
			m.ID, r, at, at); err != nil {
			return err
		}
	}
	if err := addEvent(tx, m.AccountID, m.ID, "Send", at, struct{}{}); err != nil {
		return err
	}
	if len(stopped) > 0 {
		if err := addSuppressedBounce(tx, m, stopped, m.CreatedAt); err != nil {
			return err
		}
	}
	if len(stopped) < len(rcpts) {
		tx.AfterCommit(q.poke)
	}
	return nil
}

func addEvent(tx *store.Tx, account, msgID, typ string, at int64, detail any) error {
	body, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = tx.Exec("INSERT INTO events(account_id, message_id, type, at, payload) VALUES (?, ?, ?, ?, ?)", account, msgID, typ, at, string(body))
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Claim is a message with the recipients a worker now holds a lease on.
type Claim struct {
	MessageID  string
	Recipients []string
	Attempts   int // attempts made before this one (the highest among the recipients)
}

// Claim leases up to limit due deliveries for lease and returns them grouped
// by message. Until the lease runs out nobody else claims them.
func (q *Queue) Claim(ctx context.Context, limit int, lease time.Duration) ([]Claim, error) {
	var claims []Claim
	err := q.db.Write(ctx, func(tx *store.Tx) error {
		now := q.now()
		rows, err := tx.Query(`UPDATE deliveries SET next_at = ?, lease_until = ?
			WHERE rowid IN (SELECT rowid FROM deliveries WHERE state = 'queued' AND next_at <= ? ORDER BY next_at LIMIT ?)
			RETURNING message_id, rcpt, attempts`,
			store.Millis(now.Add(lease)), store.Millis(now.Add(lease)), store.Millis(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		index := map[string]int{}
		claims = claims[:0]
		for rows.Next() {
			var id, rcpt string
			var attempts int
			if err := rows.Scan(&id, &rcpt, &attempts); err != nil {
				return err
			}
			i, ok := index[id]
			if !ok {
				i = len(claims)
				index[id] = i
				claims = append(claims, Claim{MessageID: id})
			}
			claims[i].Recipients = append(claims[i].Recipients, rcpt)
			claims[i].Attempts = max(claims[i].Attempts, attempts)
		}
		return rows.Err()
	})
	return claims, err
}

// NextDue returns when the next queued delivery comes due (zero if none).
func (q *Queue) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := q.db.Read().QueryRowContext(ctx, "SELECT MIN(next_at) FROM deliveries WHERE state = 'queued'").Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, err
	}
	return store.FromMillis(next.Int64), nil
}

// Stored is a message as a worker loads it.
type Stored struct {
	Message
	DKIM []byte // DKIM-Signature header lines made at the first attempt
}

// ErrNoMessage is returned by Load for an unknown id.
var ErrNoMessage = errors.New("queue: no such message")

// Load reads a message.
func (q *Queue) Load(ctx context.Context, id string) (*Stored, error) {
	return q.load(ctx, id, withMeta|withBody)
}

// LoadMeta reads a message without its body and signature: what event
// publishing needs.
func (q *Queue) LoadMeta(ctx context.Context, id string) (*Stored, error) {
	return q.load(ctx, id, withMeta)
}

// LoadBrief reads what decides who hears of a message's events — its
// account, sender, configuration set, and whether it is Sesame's own —
// without its tags, headers, recipients or body (Tags, Headers and
// Recipients are nil): event publishing reads most messages' events only to
// find that nothing consumes them.
func (q *Queue) LoadBrief(ctx context.Context, id string) (*Stored, error) {
	return q.load(ctx, id, 0)
}

// LoadToSend reads what delivery needs of a message: LoadBrief's fields,
// its bytes and the DKIM signature of an earlier attempt — not its tags,
// headers or recipients (nil), which only events and the mailbox
// simulator's replies use.
func (q *Queue) LoadToSend(ctx context.Context, id string) (*Stored, error) {
	return q.load(ctx, id, withBody)
}

// parts of a message load reads beyond the brief columns.
const (
	withMeta = 1 << iota // tags, headers and recipients (the JSON meta column)
	withBody             // the bytes and the DKIM signature
)

// loadQueries are load's statements by parts, kept constant so the store
// prepares each once.
var loadQueries = [...]string{
	0:                   `SELECT id, account_id, created_at, operation, source, identity, config_set, system FROM messages WHERE id = ?`,
	withMeta:            `SELECT id, account_id, created_at, operation, source, identity, config_set, system, tags FROM messages WHERE id = ?`,
	withBody:            `SELECT id, account_id, created_at, operation, source, identity, config_set, system, data, dkim FROM messages WHERE id = ?`,
	withMeta | withBody: `SELECT id, account_id, created_at, operation, source, identity, config_set, system, tags, data, dkim FROM messages WHERE id = ?`,
}

func (q *Queue) load(ctx context.Context, id string, parts int) (*Stored, error) {
	var s Stored
	var created int64
	var md string
	var system int
	dest := []any{&s.ID, &s.AccountID, &created, &s.Operation, &s.Source, &s.From, &s.ConfigSet, &system}
	if parts&withMeta != 0 {
		dest = append(dest, &md)
	}
	if parts&withBody != 0 {
		dest = append(dest, &s.Data, &s.DKIM)
	}
	err := q.db.QueryRow(ctx, loadQueries[parts], id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoMessage
	}
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.System = store.FromMillis(created), system == 1
	if md != "" {
		var m meta
		if err := json.Unmarshal([]byte(md), &m); err != nil {
			return nil, fmt.Errorf("queue: message %s: %w", id, err)
		}
		s.Tags, s.Headers, s.Recipients = m.Tags, m.Headers, m.Rcpts
	}
	return &s, nil
}

// ReleaseLeases makes every leased delivery due now. With the embedded store
// one process owns the queue, so at start any lease still held belongs to a
// process that died mid-delivery; waiting for it to run out would delay that
// mail by a whole lease. Returns how many deliveries were released.
func (q *Queue) ReleaseLeases(ctx context.Context) (int64, error) {
	var n int64
	err := q.db.Write(ctx, func(tx *store.Tx) error {
		now := store.Millis(q.now())
		r, err := tx.Exec("UPDATE deliveries SET next_at = ?, lease_until = 0 WHERE state = 'queued' AND lease_until > ?", now, now)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	return n, err
}
