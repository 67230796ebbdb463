package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

const columns = `account_id, name, kind, status, created_at, pending_since, txt_token, email_token, email_sent_at,
	email_template, dkim_origin, dkim_status, dkim_enabled, dkim_tokens, dkim_selector, dkim_private_key,
	dkim_key_length, dkim_next_length, dkim_keygen_at, mail_from_domain, mail_from_status, mail_from_behavior,
	feedback_forwarding, config_set, last_checked_at, last_success_at, error_type, error_detail, tags`

type scanner interface{ Scan(dest ...any) error }

func scanIdentity(row scanner) (*Identity, error) {
	var i Identity
	var created, pending, sent, keygen, checked, success int64
	var dkimEnabled, forwarding int
	var tokens, tags string
	err := row.Scan(&i.AccountID, &i.Name, &i.Kind, &i.Status, &created, &pending, &i.VerificationToken, &i.emailToken, &sent,
		&i.template, &i.DKIM.Origin, &i.DKIM.Status, &dkimEnabled, &tokens, &i.DKIM.Selector, &i.DKIM.privateKey,
		&i.DKIM.KeyLength, &i.DKIM.NextKeyLength, &keygen, &i.MailFrom.Domain, &i.MailFrom.Status, &i.MailFrom.Behavior,
		&forwarding, &i.ConfigSet, &checked, &success, &i.ErrorType, &i.ErrorDetail, &tags)
	if err != nil {
		return nil, err
	}
	i.CreatedAt, i.pendingSince, i.emailSentAt = store.FromMillis(created), store.FromMillis(pending), store.FromMillis(sent)
	i.DKIM.KeyGeneratedAt, i.LastCheckedAt, i.LastSuccessAt = store.FromMillis(keygen), store.FromMillis(checked), store.FromMillis(success)
	i.DKIM.Enabled, i.FeedbackForwarding = dkimEnabled == 1, forwarding == 1
	if tokens != "" {
		i.DKIM.Tokens = strings.Fields(tokens)
	}
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &i.Tags); err != nil {
			return nil, err
		}
	}
	return &i, nil
}

// save writes the whole identity row (insert or replace) and drops the
// cached copy once the write commits.
func (s *Service) save(tx *store.Tx, i *Identity) error {
	s.cache.invalidate(i.AccountID, i.Name)
	tx.AfterCommit(func() { s.cache.invalidate(i.AccountID, i.Name) })
	var tags string
	if len(i.Tags) > 0 {
		b, err := json.Marshal(i.Tags)
		if err != nil {
			return err
		}
		tags = string(b)
	}
	_, err := tx.Exec(`INSERT OR REPLACE INTO identities(`+columns+`, next_check_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,
		COALESCE((SELECT next_check_at FROM identities WHERE account_id = ? AND name = ?), 0))`,
		i.AccountID, i.Name, i.Kind, i.Status, store.Millis(i.CreatedAt), millis0(i.pendingSince), i.VerificationToken,
		i.emailToken, millis0(i.emailSentAt), i.template, i.DKIM.Origin, i.DKIM.Status, boolInt(i.DKIM.Enabled),
		strings.Join(i.DKIM.Tokens, " "), i.DKIM.Selector, i.DKIM.privateKey, i.DKIM.KeyLength, i.DKIM.NextKeyLength,
		millis0(i.DKIM.KeyGeneratedAt), i.MailFrom.Domain, i.MailFrom.Status, i.MailFrom.Behavior, boolInt(i.FeedbackForwarding),
		i.ConfigSet, millis0(i.LastCheckedAt), millis0(i.LastSuccessAt), i.ErrorType, i.ErrorDetail, tags,
		i.AccountID, i.Name)
	return err
}

func millis0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// load reads one identity inside a write.
func load(tx *store.Tx, account, name string) (*Identity, error) {
	i, err := scanIdentity(tx.QueryRow("SELECT "+columns+" FROM identities WHERE account_id = ? AND name = ?", account, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return i, err
}

// get reads one identity; nil, nil when absent.
func (s *Service) get(ctx context.Context, account, name string) (*Identity, error) {
	if i, ok := s.cache.lookup(account, name); ok {
		if i != nil {
			s.view(i)
		}
		return i, nil
	}
	gen := s.cache.gen.Load()
	i, err := scanIdentity(s.db.QueryRow(ctx, "SELECT "+columns+" FROM identities WHERE account_id = ? AND name = ?", account, name))
	if errors.Is(err, sql.ErrNoRows) {
		s.cache.store(account, name, nil, gen)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.cache.store(account, name, i, gen)
	s.view(i)
	return i, nil
}

// view applies what time alone changes: an address whose verification link
// expired unused is Failed (SES-BEHAVIOR §5.2).
func (s *Service) view(i *Identity) {
	if i.Kind == EmailAddress && i.Status == Pending && !i.emailSentAt.IsZero() && s.now().Sub(i.emailSentAt) > s.cfg.LinkTTL {
		i.Status = Failed
	}
}

func schedule(tx *store.Tx, account, name string, at int64) error {
	_, err := tx.Exec("UPDATE identities SET next_check_at = ? WHERE account_id = ? AND name = ?", at, account, name)
	return err
}
