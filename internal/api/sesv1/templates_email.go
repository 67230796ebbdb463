package sesv1

import (
	"context"
	"errors"

	"github.com/sesamehq/sesame/internal/api/v1wire"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/sending"
	"github.com/sesamehq/sesame/internal/templates"
)

// Email templates and templated sending (SES-BEHAVIOR §12, §4.1): the v1
// operations over the template store v2 shares.

// ListTemplates page sizes: MaxItems 1 to 100, 10 when absent; SES takes a
// larger value as 100.
const (
	defaultTemplatePage = 10
	maxTemplatePage     = 100
)

// emailTemplateError maps the template kinds, whose v1 codes carry the
// template's name, then falls back to the common table (TemplateDoesNotExist,
// AlreadyExists, LimitExceeded, …).
func emailTemplateError(err error, name string) error {
	var te *templates.Error
	if !errors.As(err, &te) {
		return wireError(err)
	}
	if te.Template != "" {
		name = te.Template
	}
	switch te.Kind {
	case templates.InvalidTemplate:
		return v1wire.ErrInvalidTemplate(te.Message, name)
	case templates.MissingAttribute:
		return v1wire.ErrMissingRenderingAttribute(te.Message, name)
	}
	// InvalidData, and any other failure to render: TestRenderTemplate's
	// model has no other error for it.
	return v1wire.ErrInvalidRenderingParameter(te.Message, name)
}

func fromWire(t *v1wire.Template) templates.Template {
	if t == nil {
		return templates.Template{}
	}
	return templates.Template{Name: t.TemplateName, Subject: t.SubjectPart, Text: t.TextPart, HTML: t.HtmlPart}
}

// CreateTemplate is SES v1 CreateTemplate.
func (s *Service) CreateTemplate(ctx context.Context, in *v1wire.CreateTemplateRequest) (*v1wire.CreateTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t := fromWire(in.Template)
	if err := s.Templates.Create(ctx, acct, t); err != nil {
		return nil, emailTemplateError(err, t.Name)
	}
	return &v1wire.CreateTemplateResponse{}, nil
}

// UpdateTemplate is SES v1 UpdateTemplate: the whole template is replaced.
func (s *Service) UpdateTemplate(ctx context.Context, in *v1wire.UpdateTemplateRequest) (*v1wire.UpdateTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t := fromWire(in.Template)
	if err := s.Templates.Update(ctx, acct, t); err != nil {
		return nil, emailTemplateError(err, t.Name)
	}
	return &v1wire.UpdateTemplateResponse{}, nil
}

// GetTemplate is SES v1 GetTemplate.
func (s *Service) GetTemplate(ctx context.Context, in *v1wire.GetTemplateRequest) (*v1wire.GetTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.Templates.Get(ctx, acct, in.TemplateName)
	if err != nil {
		return nil, emailTemplateError(err, in.TemplateName)
	}
	return &v1wire.GetTemplateResponse{Template: &v1wire.Template{TemplateName: t.Name, SubjectPart: t.Subject, TextPart: t.Text, HtmlPart: t.HTML}}, nil
}

// ListTemplates is SES v1 ListTemplates, in name order.
func (s *Service) ListTemplates(ctx context.Context, in *v1wire.ListTemplatesRequest) (*v1wire.ListTemplatesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.Templates.List(ctx, acct, after, pageSize(in.MaxItems, defaultTemplatePage, maxTemplatePage))
	if err != nil {
		return nil, wireError(err)
	}
	out := &v1wire.ListTemplatesResponse{TemplatesMetadata: make([]v1wire.TemplateMetadata, 0, len(ts)), NextToken: encodeToken(next)}
	for _, t := range ts {
		created := t.CreatedAt
		out.TemplatesMetadata = append(out.TemplatesMetadata, v1wire.TemplateMetadata{Name: t.Name, CreatedTimestamp: &created})
	}
	return out, nil
}

// DeleteTemplate is SES v1 DeleteTemplate: deleting an absent template
// succeeds.
func (s *Service) DeleteTemplate(ctx context.Context, in *v1wire.DeleteTemplateRequest) (*v1wire.DeleteTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.Templates.Delete(ctx, acct, in.TemplateName); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.DeleteTemplateResponse{}, nil
}

// TestRenderTemplate is SES v1 TestRenderTemplate: the rendered MIME, or
// the rendering failure a send would only report as an event.
func (s *Service) TestRenderTemplate(ctx context.Context, in *v1wire.TestRenderTemplateRequest) (*v1wire.TestRenderTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.Templates.TestRender(ctx, acct, in.TemplateName, in.TemplateData)
	if err != nil {
		return nil, emailTemplateError(err, in.TemplateName)
	}
	return &v1wire.TestRenderTemplateResponse{RenderedTemplate: out}, nil
}

// SendTemplatedEmail is SES v1 SendTemplatedEmail: the template named by
// Template or TemplateArn, rendered with TemplateData, sent as SendEmail
// sends. A rendering failure still returns a MessageId (SES-BEHAVIOR §12).
func (s *Service) SendTemplatedEmail(ctx context.Context, in *v1wire.SendTemplatedEmailRequest) (*v1wire.SendTemplatedEmailResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.Templates.Lookup(ctx, acct, in.Template, in.TemplateArn)
	if err != nil {
		return nil, emailTemplateError(err, in.Template)
	}
	r := &sending.Request{AccountID: acct, Operation: "SendTemplatedEmail", Source: in.Source, ReturnPath: in.ReturnPath,
		ReplyTo: in.ReplyToAddresses, ConfigSet: in.ConfigurationSetName, Tags: tags(in.Tags), MaxSize: sending.MaxSizeV1}
	if d := in.Destination; d != nil {
		r.To, r.Cc, r.Bcc = d.ToAddresses, d.CcAddresses, d.BccAddresses
	}
	id, err := s.Sending.SendTemplated(ctx, r, sending.Templated{Template: c, Data: in.TemplateData})
	if err != nil {
		return nil, wireError(err)
	}
	return &v1wire.SendTemplatedEmailResponse{MessageId: id}, nil
}

// SendBulkTemplatedEmail is SES v1 SendBulkTemplatedEmail: one message per
// destination, each with its ReplacementTemplateData over the
// DefaultTemplateData and its ReplacementTags over the DefaultTags, and a
// status per destination in order.
func (s *Service) SendBulkTemplatedEmail(ctx context.Context, in *v1wire.SendBulkTemplatedEmailRequest) (*v1wire.SendBulkTemplatedEmailResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.Templates.Lookup(ctx, acct, in.Template, in.TemplateArn)
	if err != nil {
		return nil, emailTemplateError(err, in.Template)
	}
	r := &sending.Request{AccountID: acct, Operation: "SendBulkTemplatedEmail", Source: in.Source, ReturnPath: in.ReturnPath,
		ReplyTo: in.ReplyToAddresses, ConfigSet: in.ConfigurationSetName, Tags: tags(in.DefaultTags), MaxSize: sending.MaxSizeV1}
	dests := make([]sending.BulkDestination, len(in.Destinations))
	for i, d := range in.Destinations {
		dests[i] = sending.BulkDestination{Tags: tags(d.ReplacementTags), Data: d.ReplacementTemplateData}
		if d.Destination != nil {
			dests[i].To, dests[i].Cc, dests[i].Bcc = d.Destination.ToAddresses, d.Destination.CcAddresses, d.Destination.BccAddresses
		}
	}
	results, err := s.Sending.SendBulk(ctx, r, sending.Templated{Template: c, Data: in.DefaultTemplateData}, dests)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v1wire.SendBulkTemplatedEmailResponse{Status: make([]v1wire.BulkEmailDestinationStatus, len(results))}
	for i, res := range results {
		status, msg := bulkStatus(res.Err)
		out.Status[i] = v1wire.BulkEmailDestinationStatus{Status: status, Error: msg, MessageId: res.MessageID}
	}
	return out, nil
}

// bulkStatus is a destination's v1 BulkEmailStatus and error text
// (SES-BEHAVIOR §4.1).
func bulkStatus(err error) (status, message string) {
	if err == nil {
		return "Success", ""
	}
	var f *fault.Error
	if !errors.As(err, &f) {
		return "Failed", "Internal failure."
	}
	switch f.Kind {
	case fault.MessageRejected:
		status = "MessageRejected"
	case fault.MailFromNotVerified:
		status = "MailFromDomainNotVerified"
	case fault.ConfigSetNotFound:
		status = "ConfigurationSetDoesNotExist"
	case fault.ConfigSetSendingPaused:
		status = "ConfigurationSetSendingPaused"
	case fault.TemplateNotFound:
		status = "TemplateDoesNotExist"
	case fault.AccountSendingPaused:
		status = "AccountSendingPaused"
	case fault.RateExceeded:
		status = "AccountThrottled"
	case fault.DailyQuotaExceeded:
		status = "AccountDailyQuotaExceeded"
	case fault.InvalidParameter:
		status = "InvalidParameterValue"
	default:
		status = "Failed"
	}
	return status, f.Message
}
