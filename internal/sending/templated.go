package sending

import (
	"context"
	"errors"
	"strings"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/templates"
)

// MaxBulkDestinations is SES's limit on destinations per bulk call
// (SendBulkTemplatedEmail, SendBulkEmail; SES-BEHAVIOR §4.1).
const MaxBulkDestinations = 50

// Templated is the content of a templated send (v1 SendTemplatedEmail, v2
// SendEmail with Content.Template): a template, resolved and compiled by the
// caller, and the TemplateData to render it with.
type Templated struct {
	Template *templates.Compiled
	Data     string
}

// SendTemplated renders t and sends the result as r's simple content
// through Send, with every check Send makes; r's Subject, Text and HTML are
// ignored. As in SES, a message whose rendering fails — an attribute
// missing from the data, data that is not a JSON object — is still
// accepted: it gets a MessageId and a Rendering Failure event, and nothing
// is delivered (SES-BEHAVIOR §12). The sender and recipient checks still
// apply to it and refuse it synchronously.
func (s *Service) SendTemplated(ctx context.Context, r *Request, t Templated) (string, error) {
	d, err := templates.ParseData(t.Data)
	if err != nil {
		return s.acceptUnrendered(ctx, r, t.Template.Name(), err)
	}
	return s.sendRendered(ctx, r, t.Template, d)
}

func (s *Service) sendRendered(ctx context.Context, r *Request, c *templates.Compiled, d *templates.Data) (string, error) {
	out, err := c.Render(d)
	if err != nil {
		return s.acceptUnrendered(ctx, r, c.Name(), err)
	}
	rendered := *r
	rendered.Subject = mail.Content{Data: out.Subject, Charset: "UTF-8"}
	rendered.Text = mail.Content{Data: out.Text, Charset: "UTF-8"}
	rendered.HTML = mail.Content{Data: out.HTML, Charset: "UTF-8"}
	rendered.Raw = nil
	return s.Send(ctx, &rendered)
}

// acceptUnrendered accepts a templated message whose rendering failed, as
// SES does: the same checks as any send (on a stand-in body, since the
// rendered one does not exist), then the message is recorded with its
// Rendering Failure event instead of being queued, and the quota is charged.
// A failure that is not a rendering failure is returned as is.
func (s *Service) acceptUnrendered(ctx context.Context, r *Request, template string, cause error) (string, error) {
	var te *templates.Error
	if !errors.As(cause, &te) {
		return "", cause
	}
	standIn := *r
	standIn.Raw = nil
	standIn.Subject, standIn.Text, standIn.HTML = mail.Content{Data: "-"}, mail.Content{Data: "-"}, mail.Content{}
	standIn.MaxSize = 0
	id, err := s.accept(ctx, &standIn, func(tx *store.Tx, msg *queue.Message) error {
		return s.queue.RecordRenderingFailure(tx, msg, template, te.Message)
	})
	if err == nil {
		s.log.Info("sending: templated message not rendered", "msg_id", id, "account", r.AccountID, "template", template, "err", te.Message)
	}
	return id, err
}

// BulkDestination is one destination of a bulk send (v1
// BulkEmailDestination, v2 BulkEmailEntry).
type BulkDestination struct {
	To, Cc, Bcc []string
	// Tags replace the defaults of the same name (ReplacementTags).
	Tags []mail.Tag
	// Headers replace the template's headers of the same name (v2
	// ReplacementHeaders).
	Headers []mail.Header
	// Data is merged over the default data, top-level members replacing
	// the defaults' (ReplacementTemplateData; "" for none).
	Data string
}

// BulkResult is what became of one destination: a MessageId, or the
// refusal (a fault error, or another error for a failure of Sesame's own).
type BulkResult struct {
	MessageID string
	Err       error
}

// SendBulk sends t to each destination as its own message (v1
// SendBulkTemplatedEmail, v2 SendBulkEmail): r carries the sender, the
// default tags and headers and the configuration set, t the template and
// the default data. Destinations are independent — one refused does not
// stop the others — and the results are in their order. Only a call SES
// refuses as a whole (no destinations, more than 50) is an error.
func (s *Service) SendBulk(ctx context.Context, r *Request, t Templated, dests []BulkDestination) ([]BulkResult, error) {
	if len(dests) == 0 {
		return nil, fault.New(fault.InvalidParameter, "At least one destination is required.")
	}
	if len(dests) > MaxBulkDestinations {
		return nil, fault.New(fault.MessageRejected, "Destination count exceeds %d.", MaxBulkDestinations)
	}
	defaults, defaultsErr := templates.ParseData(t.Data)
	results := make([]BulkResult, len(dests))
	for i, d := range dests {
		if err := ctx.Err(); err != nil {
			results[i].Err = err
			continue
		}
		one := *r
		one.To, one.Cc, one.Bcc = d.To, d.Cc, d.Bcc
		one.Tags = mergeTags(r.Tags, d.Tags)
		one.Headers = mergeHeaders(r.Headers, d.Headers)
		var id string
		var err error
		switch over, overErr := templates.ParseData(d.Data); {
		case defaultsErr != nil:
			id, err = s.acceptUnrendered(ctx, &one, t.Template.Name(), defaultsErr)
		case overErr != nil:
			id, err = s.acceptUnrendered(ctx, &one, t.Template.Name(), overErr)
		default:
			id, err = s.sendRendered(ctx, &one, t.Template, defaults.Merge(over))
		}
		results[i] = BulkResult{MessageID: id, Err: err}
	}
	return results, nil
}

// mergeTags returns the defaults with each replacement put in place of the
// default of its name, or added.
func mergeTags(defaults, repl []mail.Tag) []mail.Tag {
	if len(repl) == 0 {
		return defaults
	}
	out := make([]mail.Tag, 0, len(defaults)+len(repl))
	replaced := make(map[string]bool, len(repl))
	for _, t := range repl {
		replaced[t.Name] = true
	}
	for _, t := range defaults {
		if !replaced[t.Name] {
			out = append(out, t)
		}
	}
	return append(out, repl...)
}

// mergeHeaders is mergeTags for headers, whose names are case-insensitive.
func mergeHeaders(defaults, repl []mail.Header) []mail.Header {
	if len(repl) == 0 {
		return defaults
	}
	out := make([]mail.Header, 0, len(defaults)+len(repl))
	replaced := make(map[string]bool, len(repl))
	for _, h := range repl {
		replaced[strings.ToLower(h.Name)] = true
	}
	for _, h := range defaults {
		if !replaced[strings.ToLower(h.Name)] {
			out = append(out, h)
		}
	}
	return append(out, repl...)
}
