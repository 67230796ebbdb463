package identity

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"regexp"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// Template is a custom verification email template (SES-BEHAVIOR §5.6).
type Template struct {
	Name        string
	FromAddress string
	Subject     string
	Content     string // HTML; the verification link is appended
	SuccessURL  string
	FailureURL  string
}

// MaxTemplates is SES's per-account limit on custom verification templates.
const MaxTemplates = 50

// maxTemplateContent is SES's limit on the whole verification mail (10 MB).
const maxTemplateContent = 10 << 20

var (
	templateName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	scriptTag    = regexp.MustCompile(`(?i)<\s*script`)
)

func (t *Template) validate(partial bool) error {
	if !templateName.MatchString(t.Name) {
		return fault.New(fault.InvalidParameter, "Invalid template name %q: up to 64 letters, digits, underscores and hyphens.", t.Name)
	}
	if len(t.Content) > maxTemplateContent {
		return fault.New(fault.InvalidTemplateContent, "Template content exceeds 10 MB.")
	}
	if scriptTag.MatchString(t.Content) {
		return fault.New(fault.InvalidTemplateContent, "Template content contains unsupported HTML: script tags are not allowed.")
	}
	for _, u := range []string{t.SuccessURL, t.FailureURL} {
		if u == "" && partial {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fault.New(fault.InvalidParameter, "Invalid redirection URL %q.", u)
		}
	}
	return nil
}

// CreateTemplate stores a new custom verification template. Its From address
// must be verified.
func (s *Service) CreateTemplate(ctx context.Context, account string, t Template) error {
	if err := t.validate(false); err != nil {
		return err
	}
	if err := s.requireVerifiedFrom(ctx, account, t.FromAddress); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow("SELECT count(*) FROM custom_verification_templates WHERE account_id = ?", account).Scan(&n); err != nil {
			return err
		}
		var exists int
		err := tx.QueryRow("SELECT count(*) FROM custom_verification_templates WHERE account_id = ? AND name = ?", account, t.Name).Scan(&exists)
		if err != nil {
			return err
		}
		if exists > 0 {
			return fault.Named(fault.AlreadyExists, t.Name, "Custom verification email template %s already exists.", t.Name)
		}
		if n >= MaxTemplates {
			return fault.New(fault.LimitExceeded, "Maximum number of custom verification email templates (%d) reached.", MaxTemplates)
		}
		_, err = tx.Exec(`INSERT INTO custom_verification_templates(account_id, name, from_address, subject, content, success_url, failure_url, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, account, t.Name, t.FromAddress, t.Subject, t.Content, t.SuccessURL, t.FailureURL, store.Millis(s.now()))
		return err
	})
}

// UpdateTemplate changes the fields of u that are set.
func (s *Service) UpdateTemplate(ctx context.Context, account string, u Template) error {
	cur, err := s.GetTemplate(ctx, account, u.Name)
	if err != nil {
		return err
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cur.FromAddress, u.FromAddress)
	set(&cur.Subject, u.Subject)
	set(&cur.Content, u.Content)
	set(&cur.SuccessURL, u.SuccessURL)
	set(&cur.FailureURL, u.FailureURL)
	if err := cur.validate(false); err != nil {
		return err
	}
	if u.FromAddress != "" {
		if err := s.requireVerifiedFrom(ctx, account, cur.FromAddress); err != nil {
			return err
		}
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE custom_verification_templates SET from_address = ?, subject = ?, content = ?, success_url = ?, failure_url = ?
			WHERE account_id = ? AND name = ?`, cur.FromAddress, cur.Subject, cur.Content, cur.SuccessURL, cur.FailureURL, account, cur.Name)
		return err
	})
}

func (s *Service) requireVerifiedFrom(ctx context.Context, account, from string) error {
	ok, err := s.Verified(ctx, account, from)
	if err != nil {
		return err
	}
	if !ok {
		return fault.Named(fault.FromNotVerified, from, "Email address %s is not verified.", from)
	}
	return nil
}

// GetTemplate returns a custom verification template, or TemplateNotFound.
func (s *Service) GetTemplate(ctx context.Context, account, name string) (*Template, error) {
	t := Template{Name: name}
	err := s.db.Read().QueryRowContext(ctx, `SELECT from_address, subject, content, success_url, failure_url
		FROM custom_verification_templates WHERE account_id = ? AND name = ?`, account, name).
		Scan(&t.FromAddress, &t.Subject, &t.Content, &t.SuccessURL, &t.FailureURL)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.Named(fault.TemplateNotFound, name, "Custom verification email template %s does not exist.", name)
	}
	return &t, err
}

// ListTemplates returns up to limit templates after the cursor, by name.
func (s *Service) ListTemplates(ctx context.Context, account, after string, limit int) ([]*Template, string, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT name, from_address, subject, content, success_url, failure_url
		FROM custom_verification_templates WHERE account_id = ? AND name > ? ORDER BY name LIMIT ?`, account, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*Template
	for rows.Next() {
		var t Template
		if err := rows.Scan(&t.Name, &t.FromAddress, &t.Subject, &t.Content, &t.SuccessURL, &t.FailureURL); err != nil {
			return nil, "", err
		}
		out = append(out, &t)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Name
	}
	return out, next, rows.Err()
}

// DeleteTemplate removes a template; deleting an absent one succeeds, as in SES v1.
func (s *Service) DeleteTemplate(ctx context.Context, account, name string) (existed bool, err error) {
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		r, err := tx.Exec("DELETE FROM custom_verification_templates WHERE account_id = ? AND name = ?", account, name)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		existed = n > 0
		return nil
	})
	return existed, err
}
