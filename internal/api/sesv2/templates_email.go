package sesv2

import (
	"context"
	"errors"

	"github.com/sesamehq/sesame/internal/api/v2wire"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/sending"
	"github.com/sesamehq/sesame/internal/templates"
)

// Email templates and templated sending (SES-BEHAVIOR §12, §4.1): the v2
// operations over the template store v1 shares.

// ListEmailTemplates page sizes: PageSize 1 to 100, 10 when absent.
const (
	defaultEmailTemplatePage = 10
	maxEmailTemplatePage     = 100
)

// emailTemplateError maps a template failure: v2 has one shape for every
// kind v1 tells apart (InvalidTemplate, InvalidRenderingParameter,
// MissingRenderingAttribute) — BadRequestException, with SES's message.
func emailTemplateError(err error) error {
	var te *templates.Error
	if errors.As(err, &te) {
		return badRequest(te.Message)
	}
	return wireError(err)
}

func contentOf(name string, c *v2wire.EmailTemplateContent) templates.Template {
	t := templates.Template{Name: name}
	if c != nil {
		t.Subject, t.Text, t.HTML = c.Subject, c.Text, c.Html
	}
	return t
}

// CreateEmailTemplate is SES v2 CreateEmailTemplate. Sesame keeps no tags on
// templates: Tags is accepted and dropped.
func (s *Service) CreateEmailTemplate(ctx context.Context, in *v2wire.CreateEmailTemplateRequest) (*v2wire.CreateEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Templates.Create(ctx, acct, contentOf(in.TemplateName, in.TemplateContent)); err != nil {
		return nil, emailTemplateError(err)
	}
	return &v2wire.CreateEmailTemplateResponse{}, nil
}

// GetEmailTemplate is SES v2 GetEmailTemplate.
func (s *Service) GetEmailTemplate(ctx context.Context, in *v2wire.GetEmailTemplateRequest) (*v2wire.GetEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.d.Templates.Get(ctx, acct, in.TemplateName)
	if err != nil {
		return nil, emailTemplateError(err)
	}
	return &v2wire.GetEmailTemplateResponse{
		TemplateName:    t.Name,
		TemplateContent: &v2wire.EmailTemplateContent{Subject: t.Subject, Text: t.Text, Html: t.HTML},
		Tags:            []v2wire.Tag{},
	}, nil
}

// ListEmailTemplates is SES v2 ListEmailTemplates, in name order.
func (s *Service) ListEmailTemplates(ctx context.Context, in *v2wire.ListEmailTemplatesRequest) (*v2wire.ListEmailTemplatesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := pageSize(in.PageSize, 1, maxEmailTemplatePage, defaultEmailTemplatePage)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.d.Templates.List(ctx, acct, after, limit)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.ListEmailTemplatesResponse{TemplatesMetadata: make([]v2wire.EmailTemplateMetadata, 0, len(ts)), NextToken: encodeToken(next)}
	for _, t := range ts {
		out.TemplatesMetadata = append(out.TemplatesMetadata, v2wire.EmailTemplateMetadata{TemplateName: t.Name, CreatedTimestamp: timePtr(t.CreatedAt)})
	}
	return out, nil
}

// UpdateEmailTemplate is SES v2 UpdateEmailTemplate: the whole content is
// replaced.
func (s *Service) UpdateEmailTemplate(ctx context.Context, in *v2wire.UpdateEmailTemplateRequest) (*v2wire.UpdateEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Templates.Update(ctx, acct, contentOf(in.TemplateName, in.TemplateContent)); err != nil {
		return nil, emailTemplateError(err)
	}
	return &v2wire.UpdateEmailTemplateResponse{}, nil
}

// DeleteEmailTemplate is SES v2 DeleteEmailTemplate; unlike v1, an absent
// template is NotFoundException.
func (s *Service) DeleteEmailTemplate(ctx context.Context, in *v2wire.DeleteEmailTemplateRequest) (*v2wire.DeleteEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	existed, err := s.d.Templates.Delete(ctx, acct, in.TemplateName)
	if err != nil {
		return nil, wireError(err)
	}
	if !existed {
		return nil, wireError(fault.Named(fault.TemplateNotFound, in.TemplateName, "Template %s does not exist.", in.TemplateName))
	}
	return &v2wire.DeleteEmailTemplateResponse{}, nil
}

// TestRenderEmailTemplate is SES v2 TestRenderEmailTemplate.
func (s *Service) TestRenderEmailTemplate(ctx context.Context, in *v2wire.TestRenderEmailTemplateRequest) (*v2wire.TestRenderEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.d.Templates.TestRender(ctx, acct, in.TemplateName, in.TemplateData)
	if err != nil {
		return nil, emailTemplateError(err)
	}
	return &v2wire.TestRenderEmailTemplateResponse{RenderedTemplate: out}, nil
}

// template resolves a v2 Template — by TemplateName, by TemplateArn, or
// inline TemplateContent (which excludes the other two) — and adds its
// Headers and Attachments to r.
func (s *Service) template(ctx context.Context, acct string, t *v2wire.Template, r *sending.Request) (sending.Templated, error) {
	var c *templates.Compiled
	var err error
	if t.TemplateContent != nil {
		if t.TemplateName != "" || t.TemplateArn != "" {
			return sending.Templated{}, badRequest("Template must contain only one of TemplateName, TemplateArn or TemplateContent.")
		}
		inline := contentOf("", t.TemplateContent)
		c, err = templates.Compile(&inline)
	} else {
		c, err = s.d.Templates.Lookup(ctx, acct, t.TemplateName, t.TemplateArn)
	}
	if err != nil {
		return sending.Templated{}, emailTemplateError(err)
	}
	for _, h := range t.Headers {
		r.Headers = append(r.Headers, mail.Header{Name: h.Name, Value: h.Value})
	}
	r.Attachments = append(r.Attachments, attachments(t.Attachments)...)
	return sending.Templated{Template: c, Data: t.TemplateData}, nil
}

func attachments(as []v2wire.Attachment) []mail.Attachment {
	out := make([]mail.Attachment, 0, len(as))
	for _, a := range as {
		out = append(out, mail.Attachment{
			Data:             a.RawContent,
			FileName:         a.FileName,
			ContentType:      a.ContentType,
			Disposition:      mail.Disposition(a.ContentDisposition),
			ContentID:        a.ContentId,
			Description:      a.ContentDescription,
			TransferEncoding: mail.TransferEncoding(a.ContentTransferEncoding),
		})
	}
	return out
}

// SendBulkEmail is SES v2 SendBulkEmail: DefaultContent.Template sent to
// each entry as its own message, with the entry's ReplacementTemplateData,
// ReplacementTags and ReplacementHeaders over the defaults, and a result per
// entry in order.
func (s *Service) SendBulkEmail(ctx context.Context, in *v2wire.SendBulkEmailRequest) (*v2wire.SendBulkEmailResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case in.DefaultContent == nil || in.DefaultContent.Template == nil:
		return nil, badRequest("DefaultContent must contain a Template.")
	case in.TenantName != "":
		return nil, badRequest("TenantName is not supported yet.")
	case in.EndpointId != "":
		return nil, badRequest("EndpointId is not supported yet.")
	}
	r := &sending.Request{
		AccountID:  acct,
		Operation:  "SendBulkEmail",
		Source:     in.FromEmailAddress,
		ReturnPath: in.FeedbackForwardingEmailAddress,
		ReplyTo:    in.ReplyToAddresses,
		ConfigSet:  in.ConfigurationSetName,
		Tags:       messageTags(in.DefaultEmailTags),
		MaxSize:    sending.MaxSizeV2,
	}
	t, err := s.template(ctx, acct, in.DefaultContent.Template, r)
	if err != nil {
		return nil, err
	}
	dests := make([]sending.BulkDestination, len(in.BulkEmailEntries))
	for i, e := range in.BulkEmailEntries {
		d := sending.BulkDestination{Tags: messageTags(e.ReplacementTags)}
		if e.Destination != nil {
			d.To, d.Cc, d.Bcc = e.Destination.ToAddresses, e.Destination.CcAddresses, e.Destination.BccAddresses
		}
		if rc := e.ReplacementEmailContent; rc != nil && rc.ReplacementTemplate != nil {
			d.Data = rc.ReplacementTemplate.ReplacementTemplateData
		}
		for _, h := range e.ReplacementHeaders {
			d.Headers = append(d.Headers, mail.Header{Name: h.Name, Value: h.Value})
		}
		dests[i] = d
	}
	results, err := s.d.Sending.SendBulk(ctx, r, t, dests)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.SendBulkEmailResponse{BulkEmailEntryResults: make([]v2wire.BulkEmailEntryResult, len(results))}
	for i, res := range results {
		status, msg := bulkStatus(res.Err)
		out.BulkEmailEntryResults[i] = v2wire.BulkEmailEntryResult{Status: status, Error: msg, MessageId: res.MessageID}
	}
	return out, nil
}

// bulkStatus is an entry's v2 BulkEmailStatus and error text (SES-BEHAVIOR
// §4.1).
func bulkStatus(err error) (status, message string) {
	if err == nil {
		return "SUCCESS", ""
	}
	var f *fault.Error
	if !errors.As(err, &f) {
		return "FAILED", internalMessage
	}
	switch f.Kind {
	case fault.MessageRejected:
		status = "MESSAGE_REJECTED"
	case fault.MailFromNotVerified:
		status = "MAIL_FROM_DOMAIN_NOT_VERIFIED"
	case fault.ConfigSetNotFound:
		status = "CONFIGURATION_SET_NOT_FOUND"
	case fault.ConfigSetSendingPaused:
		status = "CONFIGURATION_SET_SENDING_PAUSED"
	case fault.TemplateNotFound:
		status = "TEMPLATE_NOT_FOUND"
	case fault.AccountSendingPaused:
		status = "ACCOUNT_SENDING_PAUSED"
	case fault.RateExceeded:
		status = "ACCOUNT_THROTTLED"
	case fault.DailyQuotaExceeded:
		status = "ACCOUNT_DAILY_QUOTA_EXCEEDED"
	case fault.InvalidParameter:
		status = "INVALID_PARAMETER"
	default:
		status = "FAILED"
	}
	return status, f.Message
}

// sendTemplate is SendEmail with Content.Template: the template by name,
// ARN or inline content, rendered with TemplateData. A rendering failure
// still returns a MessageId (SES-BEHAVIOR §12).
func (s *Service) sendTemplate(ctx context.Context, acct string, r *sending.Request, d *v2wire.Destination, t *v2wire.Template) (*v2wire.SendEmailResponse, error) {
	if d != nil {
		r.To, r.Cc, r.Bcc = d.ToAddresses, d.CcAddresses, d.BccAddresses
	}
	tpl, err := s.template(ctx, acct, t, r)
	if err != nil {
		return nil, err
	}
	id, err := s.d.Sending.SendTemplated(ctx, r, tpl)
	if err != nil {
		return nil, wireError(err)
	}
	return &v2wire.SendEmailResponse{MessageId: id}, nil
}
