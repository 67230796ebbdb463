package sesv2

import (
	"context"

	"github.com/sesamehq/sesame/internal/api/v2wire"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/identity"
)

// ListCustomVerificationEmailTemplates page sizes: the model documents 1 to
// 50; an absent PageSize takes the maximum.
const maxTemplatePage = 50

// CreateCustomVerificationEmailTemplate is SES v2
// CreateCustomVerificationEmailTemplate (SES-BEHAVIOR §5.6). Sesame does not
// store tags on templates, so Tags is accepted and dropped.
func (s *Service) CreateCustomVerificationEmailTemplate(ctx context.Context, in *v2wire.CreateCustomVerificationEmailTemplateRequest) (*v2wire.CreateCustomVerificationEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t := identity.Template{Name: in.TemplateName, FromAddress: in.FromEmailAddress, Subject: in.TemplateSubject,
		Content: in.TemplateContent, SuccessURL: in.SuccessRedirectionURL, FailureURL: in.FailureRedirectionURL}
	if err := s.d.Identities.CreateTemplate(ctx, acct, t); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.CreateCustomVerificationEmailTemplateResponse{}, nil
}

// GetCustomVerificationEmailTemplate is SES v2
// GetCustomVerificationEmailTemplate.
func (s *Service) GetCustomVerificationEmailTemplate(ctx context.Context, in *v2wire.GetCustomVerificationEmailTemplateRequest) (*v2wire.GetCustomVerificationEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.d.Identities.GetTemplate(ctx, acct, in.TemplateName)
	if err != nil {
		return nil, wireError(err)
	}
	return &v2wire.GetCustomVerificationEmailTemplateResponse{
		TemplateName:          t.Name,
		FromEmailAddress:      t.FromAddress,
		TemplateSubject:       t.Subject,
		TemplateContent:       t.Content,
		Tags:                  []v2wire.Tag{},
		SuccessRedirectionURL: t.SuccessURL,
		FailureRedirectionURL: t.FailureURL,
	}, nil
}

// ListCustomVerificationEmailTemplates is SES v2
// ListCustomVerificationEmailTemplates, in name order.
func (s *Service) ListCustomVerificationEmailTemplates(ctx context.Context, in *v2wire.ListCustomVerificationEmailTemplatesRequest) (*v2wire.ListCustomVerificationEmailTemplatesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := pageSize(in.PageSize, 1, maxTemplatePage, maxTemplatePage)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.d.Identities.ListTemplates(ctx, acct, after, limit)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.ListCustomVerificationEmailTemplatesResponse{
		CustomVerificationEmailTemplates: make([]v2wire.CustomVerificationEmailTemplateMetadata, 0, len(ts)),
		NextToken:                        encodeToken(next),
	}
	for _, t := range ts {
		out.CustomVerificationEmailTemplates = append(out.CustomVerificationEmailTemplates, v2wire.CustomVerificationEmailTemplateMetadata{
			TemplateName:          t.Name,
			FromEmailAddress:      t.FromAddress,
			TemplateSubject:       t.Subject,
			SuccessRedirectionURL: t.SuccessURL,
			FailureRedirectionURL: t.FailureURL,
		})
	}
	return out, nil
}

// UpdateCustomVerificationEmailTemplate is SES v2
// UpdateCustomVerificationEmailTemplate.
func (s *Service) UpdateCustomVerificationEmailTemplate(ctx context.Context, in *v2wire.UpdateCustomVerificationEmailTemplateRequest) (*v2wire.UpdateCustomVerificationEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t := identity.Template{Name: in.TemplateName, FromAddress: in.FromEmailAddress, Subject: in.TemplateSubject,
		Content: in.TemplateContent, SuccessURL: in.SuccessRedirectionURL, FailureURL: in.FailureRedirectionURL}
	if err := s.d.Identities.UpdateTemplate(ctx, acct, t); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.UpdateCustomVerificationEmailTemplateResponse{}, nil
}

// DeleteCustomVerificationEmailTemplate is SES v2
// DeleteCustomVerificationEmailTemplate; v2 answers NotFoundException for an
// unknown name (v1 succeeds).
func (s *Service) DeleteCustomVerificationEmailTemplate(ctx context.Context, in *v2wire.DeleteCustomVerificationEmailTemplateRequest) (*v2wire.DeleteCustomVerificationEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	existed, err := s.d.Identities.DeleteTemplate(ctx, acct, in.TemplateName)
	if err != nil {
		return nil, wireError(err)
	}
	if !existed {
		return nil, wireError(fault.Named(fault.TemplateNotFound, in.TemplateName,
			"Custom verification email template %s does not exist.", in.TemplateName))
	}
	return &v2wire.DeleteCustomVerificationEmailTemplateResponse{}, nil
}

// SendCustomVerificationEmail is SES v2 SendCustomVerificationEmail: the
// template's mail, with the verification link appended, to EmailAddress,
// sent with ConfigurationSetName when one is given.
func (s *Service) SendCustomVerificationEmail(ctx context.Context, in *v2wire.SendCustomVerificationEmailRequest) (*v2wire.SendCustomVerificationEmailResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := s.d.Identities.SendCustomVerification(ctx, acct, in.EmailAddress, in.TemplateName, in.ConfigurationSetName)
	if err != nil {
		return nil, wireError(err)
	}
	return &v2wire.SendCustomVerificationEmailResponse{MessageId: id}, nil
}
