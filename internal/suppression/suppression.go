// Package suppression is SES's account-level suppression list (SES-BEHAVIOR
// §11): the addresses an account does not send to, each with the reason it
// is there (BOUNCE or COMPLAINT), and the account's SuppressedReasons, which
// decide both which entries apply at send time and which feedback adds an
// address automatically. Service is the v2 API's view (Put, Get, Delete,
// List, SetReasons); Suppressed and AutoAdd run inside the queue's
// transactions, so a send and its suppression check, and a bounce or
// complaint and the entry it causes, commit together (STYLE.md §5).
package suppression

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/store"
)

// Reason is why an address is on the list (v2 SuppressionListReason).
type Reason string

// The two reasons SES knows.
const (
	Bounce    Reason = "BOUNCE"
	Complaint Reason = "COMPLAINT"
)

// ParseReason checks a reason given on the API.
func ParseReason(s string) (Reason, error) {
	switch r := Reason(s); r {
	case Bounce, Complaint:
		return r, nil
	}
	return "", fault.New(fault.InvalidParameter, "Invalid suppression reason %q: must be BOUNCE or COMPLAINT.", s)
}

// Entry is one suppressed address (v2 SuppressedDestination).
type Entry struct {
	Address    string // lower case
	Reason     Reason
	LastUpdate time.Time
	// MessageID and FeedbackID name the message and the bounce or complaint
	// that added the address automatically; both are empty for an address
	// put on the list by hand.
	MessageID  string
	FeedbackID string
}

// Service manages accounts' suppression lists.
type Service struct {
	db      *store.DB
	now     func() time.Time
	changed func(account string)
}

// New returns the suppression service. changed, when not nil, is called
// after an account's SuppressedReasons change, so that a cache of accounts
// (account.Service keeps one) drops its stale copy at once.
func New(db *store.DB, now func() time.Time, changed func(account string)) *Service {
	if now == nil {
		now = time.Now
	}
	if changed == nil {
		changed = func(string) {}
	}
	return &Service{db: db, now: now, changed: changed}
}

// Put adds addr to the account's list or, when it is already there,
// replaces its reason and LastUpdateTime (v2 PutSuppressedDestination is an
// upsert). An entry put by hand carries no message or feedback id.
func (s *Service) Put(ctx context.Context, account, addr string, reason Reason) error {
	a, err := validAddress(addr)
	if err != nil {
		return err
	}
	if _, err := ParseReason(string(reason)); err != nil {
		return err
	}
	at := store.Millis(s.now())
	return s.db.Write(ctx, func(tx *store.Tx) error { return upsert(tx, account, a, reason, "", "", at) })
}

// Get returns the account's entry for addr, or a NotFound error.
func (s *Service) Get(ctx context.Context, account, addr string) (*Entry, error) {
	a := mail.NormalizeAddress(addr)
	e := Entry{Address: a}
	var at int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT reason, updated_at, message_id, feedback_id FROM suppressed_destinations
		WHERE account_id = ? AND address = ?`, account, a).Scan(&e.Reason, &at, &e.MessageID, &e.FeedbackID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(a)
	}
	if err != nil {
		return nil, err
	}
	e.LastUpdate = store.FromMillis(at)
	return &e, nil
}

// Delete removes addr from the account's list; an address that is not on it
// is a NotFound error, as in SES.
func (s *Service) Delete(ctx context.Context, account, addr string) error {
	a := mail.NormalizeAddress(addr)
	return s.db.Write(ctx, func(tx *store.Tx) error {
		tx.Invalidate()
		r, err := tx.Exec("DELETE FROM suppressed_destinations WHERE account_id = ? AND address = ?", account, a)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound(a)
		}
		return nil
	})
}

// SetReasons sets which reasons the account's list applies and adds
// addresses for (v2 PutAccountSuppressionAttributes). An empty list turns the
// account's suppression off: nothing is added automatically and entries no
// longer stop mail, though they stay listed.
func (s *Service) SetReasons(ctx context.Context, account string, reasons []Reason) error {
	var bounce, complaint bool
	for _, r := range reasons {
		switch r {
		case Bounce:
			bounce = true
		case Complaint:
			complaint = true
		default:
			_, err := ParseReason(string(r))
			return err
		}
	}
	var set []string // canonical order, no duplicates
	if bounce {
		set = append(set, string(Bounce))
	}
	if complaint {
		set = append(set, string(Complaint))
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		tx.Invalidate()
		r, err := tx.Exec("UPDATE accounts SET suppressed_reasons = ? WHERE id = ?", strings.Join(set, ","), account)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fault.Named(fault.NotFound, account, "Account %s does not exist.", account)
		}
		tx.AfterCommit(func() { s.changed(account) })
		return nil
	})
}

// validAddress accepts a bare addr-spec (no display name, no angle
// brackets) and returns it lower-cased (SES-BEHAVIOR §11: Sesame compares
// addresses case-insensitively).
func validAddress(addr string) (string, error) {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Addr != strings.TrimSpace(addr) {
		return "", fault.New(fault.InvalidParameter, "Invalid email address %q.", addr)
	}
	return mail.NormalizeAddress(a.Addr), nil
}

func notFound(addr string) error {
	return fault.Named(fault.NotFound, addr, "Email address %s does not exist on your suppression list.", addr)
}

func upsert(tx *store.Tx, account, addr string, reason Reason, messageID, feedbackID string, at int64) error {
	tx.Invalidate()
	_, err := tx.Exec(`INSERT INTO suppressed_destinations(account_id, address, reason, updated_at, message_id, feedback_id)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(account_id, address) DO UPDATE SET reason = excluded.reason, updated_at = excluded.updated_at,
			message_id = excluded.message_id, feedback_id = excluded.feedback_id`,
		account, addr, string(reason), at, messageID, feedbackID)
	return err
}
