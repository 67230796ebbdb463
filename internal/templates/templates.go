// Package templates is SES's email templates: one store for the v1
// (CreateTemplate, GetTemplate, …) and v2 (CreateEmailTemplate, …) APIs, and
// the Handlebars rendering SES applies to a template's subject, text and HTML
// parts with a send's TemplateData (SES-BEHAVIOR §12).
//
// Rendering follows SES, not a web page: values are inserted verbatim (SES
// does not HTML-escape, callers escape their own input), and a referenced
// attribute absent from the data is an error — "Attribute 'x' is not present
// in the rendering data." — except where SES would not render the reference
// at all (a branch of #if or #unless not taken, an #each over nothing). The
// Handlebars grammar is github.com/mailgun/raymond/v2's lexer, parser and
// AST; the evaluation over that AST is this package's own (eval.go says why).
package templates

import (
	"time"
	"unicode/utf8"

	"github.com/sesamehq/sesame/internal/fault"
)

// Limits SES applies to templates (SES-BEHAVIOR §12).
const (
	MaxTemplates    = 10000     // per account and region
	MaxTemplateSize = 500 << 10 // subject, text and HTML together
	MaxNameLength   = 64
	MaxDataSize     = 262144 // TemplateData, v1 and v2 model max
)

// Template is a stored email template: the v1 Template shape (TemplateName,
// SubjectPart, TextPart, HtmlPart) and the v2 EmailTemplateContent are the
// same thing.
type Template struct {
	Name      string
	Subject   string
	Text      string
	HTML      string
	CreatedAt time.Time
}

// validName reports whether name is a template name SES accepts: 1 to 64
// letters, digits, underscores and hyphens.
func validName(name string) bool {
	if name == "" || len(name) > MaxNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkName applies SES's rule for template names.
func checkName(name string) error {
	if !validName(name) {
		return fault.New(fault.InvalidParameter, "Invalid template name %q: up to 64 letters, digits, underscores and hyphens.", name)
	}
	return nil
}

// checkContent applies the content limits; Compile calls it before parsing.
// The name is not checked: an inline template (v2 TemplateContent) has none.
func (t *Template) checkContent() error {
	if len(t.Subject)+len(t.Text)+len(t.HTML) > MaxTemplateSize {
		return invalidTemplate(t.Name, "Template size exceeds the limit of 500 KB.")
	}
	if t.Subject == "" {
		return invalidTemplate(t.Name, "The subject part of the template must not be empty.")
	}
	if t.Text == "" && t.HTML == "" {
		return invalidTemplate(t.Name, "The template must have a text part or an HTML part.")
	}
	for _, p := range []string{t.Subject, t.Text, t.HTML} {
		if !utf8.ValidString(p) {
			return invalidTemplate(t.Name, "The template is not valid UTF-8.")
		}
	}
	return nil
}
