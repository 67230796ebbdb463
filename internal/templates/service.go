package templates

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// Config holds what the template service needs from the process settings.
type Config struct {
	Region string // for template ARNs
}

// Service stores an account's templates — one store for SES v1 and v2 — and
// renders them.
type Service struct {
	cfg Config
	db  *store.DB
	now func() time.Time
}

// New returns the template service.
func New(cfg Config, db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{cfg: cfg, db: db, now: now}
}

func notFound(name string) error {
	return fault.Named(fault.TemplateNotFound, name, "Template %s does not exist.", name)
}

// Create stores a new template (v1 CreateTemplate, v2 CreateEmailTemplate).
// An existing name is AlreadyExists; the 10,001st template LimitExceeded.
func (s *Service) Create(ctx context.Context, account string, t Template) error {
	if err := checkName(t.Name); err != nil {
		return err
	}
	if _, err := Compile(&t); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var exists, n int
		if err := tx.QueryRow("SELECT count(*) FROM email_templates WHERE account_id = ? AND name = ?", account, t.Name).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return fault.Named(fault.AlreadyExists, t.Name, "Template %s already exists.", t.Name)
		}
		if err := tx.QueryRow("SELECT count(*) FROM email_templates WHERE account_id = ?", account).Scan(&n); err != nil {
			return err
		}
		if n >= MaxTemplates {
			return fault.New(fault.LimitExceeded, "Maximum number of templates (%d) reached.", MaxTemplates)
		}
		now := store.Millis(s.now())
		_, err := tx.Exec(`INSERT INTO email_templates(account_id, name, subject, text, html, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, account, t.Name, t.Subject, t.Text, t.HTML, now, now)
		return err
	})
}

// Update replaces a template's content (v1 UpdateTemplate, v2
// UpdateEmailTemplate: both send the whole content). A missing template is
// TemplateNotFound.
func (s *Service) Update(ctx context.Context, account string, t Template) error {
	if err := checkName(t.Name); err != nil {
		return err
	}
	if _, err := Compile(&t); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		r, err := tx.Exec("UPDATE email_templates SET subject = ?, text = ?, html = ?, updated_at = ? WHERE account_id = ? AND name = ?",
			t.Subject, t.Text, t.HTML, store.Millis(s.now()), account, t.Name)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound(t.Name)
		}
		return nil
	})
}

// Get returns a template, or TemplateNotFound.
func (s *Service) Get(ctx context.Context, account, name string) (*Template, error) {
	t := Template{Name: name}
	var created int64
	err := s.db.Read().QueryRowContext(ctx, "SELECT subject, text, html, created_at FROM email_templates WHERE account_id = ? AND name = ?",
		account, name).Scan(&t.Subject, &t.Text, &t.HTML, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(name)
	}
	if err != nil {
		return nil, err
	}
	t.CreatedAt = store.FromMillis(created)
	return &t, nil
}

// List returns up to limit templates after the cursor (a name), in name
// order, without their content, and the cursor of the next page ("" at the
// end).
func (s *Service) List(ctx context.Context, account, after string, limit int) ([]Template, string, error) {
	if limit < 1 {
		limit = 1
	}
	rows, err := s.db.Read().QueryContext(ctx, "SELECT name, created_at FROM email_templates WHERE account_id = ? AND name > ? ORDER BY name LIMIT ?",
		account, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		var t Template
		var created int64
		if err := rows.Scan(&t.Name, &created); err != nil {
			return nil, "", err
		}
		t.CreatedAt = store.FromMillis(created)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Name
	}
	return out, next, nil
}

// Delete removes a template and reports whether it existed: v1 DeleteTemplate
// succeeds either way, v2 DeleteEmailTemplate answers NotFound.
func (s *Service) Delete(ctx context.Context, account, name string) (existed bool, err error) {
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		r, err := tx.Exec("DELETE FROM email_templates WHERE account_id = ? AND name = ?", account, name)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		existed = n > 0
		return err
	})
	return existed, err
}

// Lookup returns the compiled template a send names, by name or by ARN
// (v1 Template/TemplateArn, v2 TemplateName/TemplateArn); with both, they
// must agree. An ARN must name this region and the caller's account: Sesame
// has no cross-account templates.
func (s *Service) Lookup(ctx context.Context, account, name, arn string) (*Compiled, error) {
	if arn != "" {
		a, err := ParseARN(arn)
		if err != nil {
			return nil, err
		}
		if name != "" && name != a.Name {
			return nil, fault.New(fault.InvalidParameter, "Template %s and TemplateArn %s name different templates.", name, arn)
		}
		if a.Region != s.cfg.Region || a.Account != account {
			return nil, notFound(a.Name)
		}
		name = a.Name
	}
	if name == "" {
		return nil, fault.New(fault.InvalidParameter, "A template name or ARN is required.")
	}
	t, err := s.Get(ctx, account, name)
	if err != nil {
		return nil, err
	}
	return Compile(t)
}

// TestRender renders a stored template with data and returns the MIME
// message SES's TestRenderTemplate shows (v1 TestRenderTemplate, v2
// TestRenderEmailTemplate). Unlike a send, a rendering failure is the
// caller's error: InvalidData or MissingAttribute or RenderFailed.
func (s *Service) TestRender(ctx context.Context, account, name, data string) (string, error) {
	t, err := s.Get(ctx, account, name)
	if err != nil {
		return "", err
	}
	c, err := Compile(t)
	if err != nil {
		return "", err
	}
	d, err := ParseData(data)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Template = name
		}
		return "", err
	}
	r, err := c.Render(d)
	if err != nil {
		return "", err
	}
	return string(Preview(r)), nil
}

// ARN returns a template's ARN in this region.
func (s *Service) ARN(account, name string) string {
	return ARN{Region: s.cfg.Region, Account: account, Name: name}.String()
}
