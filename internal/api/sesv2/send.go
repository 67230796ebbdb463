package sesv2

import (
	"context"

	"github.com/sesamehq/sesame/internal/api/v2wire"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/sending"
)

// SendEmail is SES v2 SendEmail (SES-BEHAVIOR §4.1): Content.Simple is
// built into MIME by the sending service, Content.Raw is sent as given (the
// Destination, when present, replaces the message's header recipients as the
// envelope, like v1 SendRawEmail's Destinations). Both are limited to
// sending.MaxSizeV2. Content.Template is rendered and sent as Simple is
// (sendTemplate, templates_email.go).
//
// The identity ARNs of sending authorization are not needed by Sesame: a
// send is checked against the caller's own identities either way, so they
// can only make it stricter, never wider. Options that name resources Sesame
// does not have yet (contact lists, tenants, multi-region endpoints) are
// refused rather than silently dropped.
func (s *Service) SendEmail(ctx context.Context, in *v2wire.SendEmailRequest) (*v2wire.SendEmailResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case in.ListManagementOptions != nil:
		return nil, badRequest("ListManagementOptions is not supported yet.")
	case in.TenantName != "":
		return nil, badRequest("TenantName is not supported yet.")
	case in.EndpointId != "":
		return nil, badRequest("EndpointId is not supported yet.")
	}
	r := &sending.Request{
		AccountID:  acct,
		Operation:  "SendEmail",
		Source:     in.FromEmailAddress,
		ReturnPath: in.FeedbackForwardingEmailAddress,
		ReplyTo:    in.ReplyToAddresses,
		ConfigSet:  in.ConfigurationSetName,
		Tags:       messageTags(in.EmailTags),
		MaxSize:    sending.MaxSizeV2,
	}
	c := in.Content
	switch contentForms(c) {
	case 0:
		return nil, badRequest("Content must contain one of Simple, Raw or Template.")
	case 1:
	default:
		return nil, badRequest("Content must contain only one of Simple, Raw or Template.")
	}
	switch {
	case c.Template != nil:
		return s.sendTemplate(ctx, acct, r, in.Destination, c.Template)
	case c.Raw != nil:
		r.Raw = c.Raw.Data
		if r.Raw == nil {
			r.Raw = []byte{} // an empty message is still raw content, for the domain to refuse
		}
		if d := in.Destination; d != nil {
			r.Destinations = concat(d.ToAddresses, d.CcAddresses, d.BccAddresses)
		}
	default:
		simple(r, in.Destination, c.Simple)
	}
	id, err := s.d.Sending.Send(ctx, r)
	if err != nil {
		return nil, wireError(err)
	}
	return &v2wire.SendEmailResponse{MessageId: id}, nil
}

// contentForms counts the members of the EmailContent union that are set.
func contentForms(c *v2wire.EmailContent) int {
	if c == nil {
		return 0
	}
	n := 0
	for _, set := range []bool{c.Simple != nil, c.Raw != nil, c.Template != nil} {
		if set {
			n++
		}
	}
	return n
}

// simple fills r from a v2 Message (Subject, Body, Headers, Attachments).
func simple(r *sending.Request, d *v2wire.Destination, m *v2wire.Message) {
	if d != nil {
		r.To, r.Cc, r.Bcc = d.ToAddresses, d.CcAddresses, d.BccAddresses
	}
	r.Subject = content(m.Subject)
	if b := m.Body; b != nil {
		r.Text, r.HTML = content(b.Text), content(b.Html)
	}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, mail.Header{Name: h.Name, Value: h.Value})
	}
	for _, a := range m.Attachments {
		r.Attachments = append(r.Attachments, mail.Attachment{
			Data:             a.RawContent,
			FileName:         a.FileName,
			ContentType:      a.ContentType,
			Disposition:      mail.Disposition(a.ContentDisposition),
			ContentID:        a.ContentId,
			Description:      a.ContentDescription,
			TransferEncoding: mail.TransferEncoding(a.ContentTransferEncoding),
		})
	}
}

func content(c *v2wire.Content) mail.Content {
	if c == nil {
		return mail.Content{}
	}
	return mail.Content{Data: c.Data, Charset: c.Charset}
}

func messageTags(tags []v2wire.MessageTag) []mail.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]mail.Tag, len(tags))
	for i, t := range tags {
		out[i] = mail.Tag{Name: t.Name, Value: t.Value}
	}
	return out
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
