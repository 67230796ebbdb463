// Package account is SES's account model in Sesame: accounts with their
// sandbox state and sending quotas, the access keys that sign API calls and
// derive SMTP passwords, and the production-access request (SES-BEHAVIOR §6).
package account

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// RootAccountID is the account the bootstrap credentials belong to.
const RootAccountID = "123456789012"

// SES's quotas for a sandboxed account and Sesame's defaults on approval
// (SES-BEHAVIOR §6.1).
const (
	SandboxMax24h     = 200
	SandboxMaxRate    = 1
	ProductionMax24h  = 50000
	ProductionMaxRate = 14
)

// Account is one SES account in the served region.
type Account struct {
	ID                string
	Sandbox           bool
	Max24h            int64
	MaxRate           float64
	SendingEnabled    bool
	SuppressedReasons []string
	Details           *Details // the production-access request, if made
	ReviewStatus      string   // PENDING | GRANTED | DENIED | FAILED | ""
	ReviewCaseID      string
	CreatedAt         time.Time

	gen uint64 // the store's generation before the account was read (ForSend)
}

// Details is the production-access request of v2 PutAccountDetails.
type Details struct {
	MailType                        string   `json:"mailType"`
	WebsiteURL                      string   `json:"websiteURL"`
	ContactLanguage                 string   `json:"contactLanguage,omitempty"`
	UseCaseDescription              string   `json:"useCaseDescription,omitempty"`
	AdditionalContactEmailAddresses []string `json:"additionalContactEmailAddresses,omitempty"`
	ProductionAccessEnabled         *bool    `json:"productionAccessEnabled,omitempty"`
}

// Key is an access key: the id signs requests (and is the SMTP user name),
// the secret never leaves the store except to verify signatures.
type Key struct {
	ID        string
	AccountID string
	Secret    string
	UserName  string
	CreatedAt time.Time
}

// ErrUnknownKey is returned by LookupKey for an unknown or inactive key.
var ErrUnknownKey = errors.New("account: unknown access key")

// Service manages accounts and keys.
type Service struct {
	db  *store.DB
	dev bool
	now func() time.Time

	keys  sync.Map // access key id → Key
	sends sync.Map // account id → *Account, as ForSend last read it

	mu     sync.Mutex
	meters map[string]*meter // account id → sending meter
}

// New returns the account service. In dev mode new accounts start out of the
// sandbox.
func New(db *store.DB, dev bool, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, dev: dev, now: now, meters: map[string]*meter{}}
}

// Bootstrap makes sure the root account exists and has a key. With id and
// secret given (SESAME_ROOT_*), that key is used; otherwise one is made on
// first start. created reports whether a key was made now, so the caller
// prints the secret once.
func (s *Service) Bootstrap(ctx context.Context, id, secret string) (key Key, created bool, err error) {
	if _, err := s.ensureAccount(ctx, RootAccountID); err != nil {
		return Key{}, false, err
	}
	if id != "" {
		k, err := s.LookupKey(ctx, id)
		if err == nil {
			if k.Secret != secret {
				return Key{}, false, errors.New("account: SESAME_ROOT_ACCESS_KEY_ID exists with another secret")
			}
			return k, false, nil
		}
		if !errors.Is(err, ErrUnknownKey) {
			return Key{}, false, err
		}
		k, err = s.insertKey(ctx, Key{ID: id, Secret: secret, AccountID: RootAccountID, UserName: "root"})
		return k, false, err
	}
	var existing string
	err = s.db.Read().QueryRowContext(ctx, "SELECT id FROM access_keys WHERE account_id = ? AND user_name = 'root' ORDER BY created_at LIMIT 1", RootAccountID).Scan(&existing)
	switch {
	case err == nil:
		k, err := s.LookupKey(ctx, existing)
		return k, false, err
	case !errors.Is(err, sql.ErrNoRows):
		return Key{}, false, err
	}
	k, err := s.CreateKey(ctx, RootAccountID, "root")
	return k, err == nil, err
}

// CreateAccount creates an account with the given 12-digit id (random if "").
func (s *Service) CreateAccount(ctx context.Context, id string) (*Account, error) {
	if id == "" {
		id = randomDigits(12)
	}
	if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
		return nil, fault.New(fault.InvalidParameter, "Account id must be 12 digits.")
	}
	if _, err := s.Get(ctx, id); err == nil {
		return nil, fault.Named(fault.AlreadyExists, id, "Account %s already exists.", id)
	}
	return s.ensureAccount(ctx, id)
}

func (s *Service) ensureAccount(ctx context.Context, id string) (*Account, error) {
	sandbox, max24h, rate := 1, int64(SandboxMax24h), float64(SandboxMaxRate)
	if s.dev {
		sandbox, max24h, rate = 0, ProductionMax24h, ProductionMaxRate
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		tx.Invalidate()
		_, err := tx.Exec(`INSERT INTO accounts(id, sandbox, max_24h, max_rate, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(id) DO NOTHING`, id, sandbox, max24h, rate, store.Millis(s.now()))
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Get returns an account. It is read from the store every time (one
// primary-key read): `sesame admin` changes an account from another process,
// and an approval must hold for the very next call. The send path uses
// ForSend instead.
func (s *Service) Get(ctx context.Context, id string) (*Account, error) {
	var a Account
	var sandbox, enabled int
	var reasons, details string
	var created int64
	err := s.db.QueryRow(ctx, `SELECT id, sandbox, max_24h, max_rate, sending_enabled, suppressed_reasons,
		details, review_status, review_case_id, created_at FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &sandbox, &a.Max24h, &a.MaxRate, &enabled, &reasons, &details, &a.ReviewStatus, &a.ReviewCaseID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.Named(fault.NotFound, id, "Account %s does not exist.", id)
	}
	if err != nil {
		return nil, err
	}
	a.Sandbox, a.SendingEnabled, a.CreatedAt = sandbox == 1, enabled == 1, store.FromMillis(created)
	if reasons != "" {
		a.SuppressedReasons = strings.Split(reasons, ",")
	}
	if details != "" {
		a.Details = new(Details)
		if err := json.Unmarshal([]byte(details), a.Details); err != nil {
			return nil, fmt.Errorf("account %s: details: %w", id, err)
		}
	}
	return &a, nil
}

// ForSend returns the account a message is about to be sent from. An account
// that can send — out of the sandbox and not paused — is kept in memory
// until the store's generation changes (store.DB.Generation); any other is
// read every time. The result is shared: callers must not modify it.
//
// A cached account may miss a change `sesame admin` made in another process
// moments ago (the store sees it at its next write), and only in one
// direction: the checks before the write may pass a message the change now
// refuses, never refuse one it allows (refusals for a paused or sandboxed
// account come from fresh reads). Charge, in the write that enqueues the
// message, compares the account with the exact state and returns ErrChanged
// when a decision made from it no longer holds, so such a message is checked
// again, not sent.
func (s *Service) ForSend(ctx context.Context, id string) (*Account, error) {
	gen := s.db.Generation()
	if v, ok := s.sends.Load(id); ok {
		if a := v.(*Account); a.gen == gen {
			return a, nil
		}
	}
	a, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	a.gen = gen
	if a.SendingEnabled && !a.Sandbox {
		s.sends.Store(id, a)
	} else {
		s.sends.Delete(id)
	}
	return a, nil
}

// List returns every account id, sorted.
func (s *Service) List(ctx context.Context) ([]string, error) {
	rows, err := s.db.Read().QueryContext(ctx, "SELECT id FROM accounts ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CreateKey makes a new access key for the account.
func (s *Service) CreateKey(ctx context.Context, accountID, userName string) (Key, error) {
	if _, err := s.Get(ctx, accountID); err != nil {
		return Key{}, err
	}
	return s.insertKey(ctx, Key{ID: "AKIA" + randomString(16, upperAlnum), Secret: randomString(40, secretAlphabet), AccountID: accountID, UserName: userName})
}

func (s *Service) insertKey(ctx context.Context, k Key) (Key, error) {
	k.CreatedAt = s.now().UTC()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec("INSERT INTO access_keys(id, account_id, secret, user_name, created_at) VALUES (?, ?, ?, ?, ?)",
			k.ID, k.AccountID, k.Secret, k.UserName, store.Millis(k.CreatedAt))
		return err
	})
	return k, err
}

// LookupKey returns an active access key.
func (s *Service) LookupKey(ctx context.Context, id string) (Key, error) {
	if k, ok := s.keys.Load(id); ok {
		return k.(Key), nil
	}
	var k Key
	var created int64
	err := s.db.Read().QueryRowContext(ctx, "SELECT id, account_id, secret, user_name, created_at FROM access_keys WHERE id = ? AND active = 1", id).
		Scan(&k.ID, &k.AccountID, &k.Secret, &k.UserName, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, ErrUnknownKey
	}
	if err != nil {
		return Key{}, err
	}
	k.CreatedAt = store.FromMillis(created)
	s.keys.Store(id, k)
	return k, nil
}

// PutDetails records a production-access request (v2 PutAccountDetails). A
// second request while one is under review is a conflict, as in SES.
func (s *Service) PutDetails(ctx context.Context, id string, d Details) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var status string
		if err := tx.QueryRow("SELECT review_status FROM accounts WHERE id = ?", id).Scan(&status); err != nil {
			return err
		}
		if status == "PENDING" {
			return fault.New(fault.Conflict, "A request for production access is already under review.")
		}
		tx.Invalidate()
		review := "PENDING"
		if d.ProductionAccessEnabled != nil && !*d.ProductionAccessEnabled {
			review = "" // a request that asks to stay in the sandbox is only recorded
		}
		_, err := tx.Exec("UPDATE accounts SET details = ?, review_status = ?, review_case_id = ? WHERE id = ?",
			string(body), review, randomDigits(10), id)
		return err
	})
}

// ApproveProduction lifts the sandbox and sets the production quota (the
// defaults when max24h or rate are zero).
func (s *Service) ApproveProduction(ctx context.Context, id string, max24h int64, rate float64) error {
	if max24h <= 0 {
		max24h = ProductionMax24h
	}
	if rate <= 0 {
		rate = ProductionMaxRate
	}
	return s.update(ctx, id, "UPDATE accounts SET sandbox = 0, max_24h = ?, max_rate = ?, review_status = 'GRANTED' WHERE id = ?", max24h, rate, id)
}

// DenyProduction records a denied review; the account stays in the sandbox.
func (s *Service) DenyProduction(ctx context.Context, id string) error {
	return s.update(ctx, id, "UPDATE accounts SET review_status = 'DENIED' WHERE id = ?", id)
}

// SetQuota sets an account's quotas without changing its sandbox state.
func (s *Service) SetQuota(ctx context.Context, id string, max24h int64, rate float64) error {
	if max24h <= 0 || rate <= 0 {
		return fault.New(fault.InvalidParameter, "Quotas must be positive.")
	}
	return s.update(ctx, id, "UPDATE accounts SET max_24h = ?, max_rate = ? WHERE id = ?", max24h, rate, id)
}

// SetSendingEnabled pauses or resumes the account's sending.
func (s *Service) SetSendingEnabled(ctx context.Context, id string, enabled bool) error {
	return s.update(ctx, id, "UPDATE accounts SET sending_enabled = ? WHERE id = ?", boolInt(enabled), id)
}

func (s *Service) update(ctx context.Context, id, query string, args ...any) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		tx.Invalidate()
		_, err := tx.Exec(query, args...)
		return err
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const (
	upperAlnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomDigits(n int) string {
	s := randomString(n, "0123456789")
	if s[0] == '0' {
		s = "1" + s[1:]
	}
	return s
}
