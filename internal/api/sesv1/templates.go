package sesv1

import (
	"context"
	"errors"

	"github.com/sesamehq/sesame/internal/api/v1wire"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/identity"
)

// templateError maps the kinds whose v1 codes are specific to custom
// verification templates, then falls back to the common table.
func templateError(err error, name string) error {
	var f *fault.Error
	if errors.As(err, &f) {
		switch f.Kind {
		case fault.AlreadyExists:
			return v1wire.ErrCustomVerificationEmailTemplateAlreadyExists(f.Message, name)
		case fault.TemplateNotFound:
			return v1wire.ErrCustomVerificationEmailTemplateDoesNotExist(f.Message, name)
		}
	}
	return wireError(err)
}

func (s *Service) CreateCustomVerificationEmailTemplate(ctx context.Context, in *v1wire.CreateCustomVerificationEmailTemplateRequest) (*v1wire.CreateCustomVerificationEmailTemplateOutput, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t := identity.Template{Name: in.TemplateName, FromAddress: in.FromEmailAddress, Subject: in.TemplateSubject, Content: in.TemplateContent,
		SuccessURL: in.SuccessRedirectionURL, FailureURL: in.FailureRedirectionURL}
	if err := s.Identities.CreateTemplate(ctx, acct, t); err != nil {
		return nil, templateError(err, in.TemplateName)
	}
	return &v1wire.CreateCustomVerificationEmailTemplateOutput{}, nil
}

func (s *Service) UpdateCustomVerificationEmailTemplate(ctx context.Context, in *v1wire.UpdateCustomVerificationEmailTemplateRequest) (*v1wire.UpdateCustomVerificationEmailTemplateOutput, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t := identity.Template{Name: in.TemplateName, FromAddress: in.FromEmailAddress, Subject: in.TemplateSubject, Content: in.TemplateContent,
		SuccessURL: in.SuccessRedirectionURL, FailureURL: in.FailureRedirectionURL}
	if err := s.Identities.UpdateTemplate(ctx, acct, t); err != nil {
		return nil, templateError(err, in.TemplateName)
	}
	return &v1wire.UpdateCustomVerificationEmailTemplateOutput{}, nil
}

func (s *Service) GetCustomVerificationEmailTemplate(ctx context.Context, in *v1wire.GetCustomVerificationEmailTemplateRequest) (*v1wire.GetCustomVerificationEmailTemplateResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.Identities.GetTemplate(ctx, acct, in.TemplateName)
	if err != nil {
		return nil, templateError(err, in.TemplateName)
	}
	return &v1wire.GetCustomVerificationEmailTemplateResponse{TemplateName: t.Name, FromEmailAddress: t.FromAddress, TemplateSubject: t.Subject,
		TemplateContent: t.Content, SuccessRedirectionURL: t.SuccessURL, FailureRedirectionURL: t.FailureURL}, nil
}

func (s *Service) ListCustomVerificationEmailTemplates(ctx context.Context, in *v1wire.ListCustomVerificationEmailTemplatesRequest) (*v1wire.ListCustomVerificationEmailTemplatesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.Identities.ListTemplates(ctx, acct, after, pageSize(in.MaxResults, 50, 50))
	if err != nil {
		return nil, wireError(err)
	}
	out := &v1wire.ListCustomVerificationEmailTemplatesResponse{NextToken: encodeToken(next), CustomVerificationEmailTemplates: []v1wire.CustomVerificationEmailTemplate{}}
	for _, t := range ts {
		out.CustomVerificationEmailTemplates = append(out.CustomVerificationEmailTemplates, v1wire.CustomVerificationEmailTemplate{
			TemplateName: t.Name, FromEmailAddress: t.FromAddress, TemplateSubject: t.Subject,
			SuccessRedirectionURL: t.SuccessURL, FailureRedirectionURL: t.FailureURL})
	}
	return out, nil
}

func (s *Service) DeleteCustomVerificationEmailTemplate(ctx context.Context, in *v1wire.DeleteCustomVerificationEmailTemplateRequest) (*v1wire.DeleteCustomVerificationEmailTemplateOutput, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.Identities.DeleteTemplate(ctx, acct, in.TemplateName); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.DeleteCustomVerificationEmailTemplateOutput{}, nil
}

func (s *Service) SendCustomVerificationEmail(ctx context.Context, in *v1wire.SendCustomVerificationEmailRequest) (*v1wire.SendCustomVerificationEmailResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := s.Identities.SendCustomVerification(ctx, acct, in.EmailAddress, in.TemplateName, in.ConfigurationSetName)
	if err != nil {
		return nil, templateError(err, in.TemplateName)
	}
	return &v1wire.SendCustomVerificationEmailResponse{MessageId: id}, nil
}
