package sesv1

import (
	"context"

	"github.com/sesamehq/sesame/internal/api/v1wire"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/sending"
)

func (s *Service) SendEmail(ctx context.Context, in *v1wire.SendEmailRequest) (*v1wire.SendEmailResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	r := &sending.Request{AccountID: acct, Operation: "SendEmail", Source: in.Source, ReturnPath: in.ReturnPath,
		ReplyTo: in.ReplyToAddresses, ConfigSet: in.ConfigurationSetName, Tags: tags(in.Tags), MaxSize: sending.MaxSizeV1}
	if d := in.Destination; d != nil {
		r.To, r.Cc, r.Bcc = d.ToAddresses, d.CcAddresses, d.BccAddresses
	}
	if m := in.Message; m != nil {
		r.Subject = content(m.Subject)
		if m.Body != nil {
			r.Text, r.HTML = content(m.Body.Text), content(m.Body.Html)
		}
	}
	id, err := s.Sending.Send(ctx, r)
	if err != nil {
		return nil, wireError(err)
	}
	return &v1wire.SendEmailResponse{MessageId: id}, nil
}

func (s *Service) SendRawEmail(ctx context.Context, in *v1wire.SendRawEmailRequest) (*v1wire.SendRawEmailResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	r := &sending.Request{AccountID: acct, Operation: "SendRawEmail", Source: in.Source, Destinations: in.Destinations,
		Raw: in.RawMessage.Data, ConfigSet: in.ConfigurationSetName, Tags: tags(in.Tags), MaxSize: sending.MaxSizeV1}
	if r.Raw == nil {
		r.Raw = []byte{}
	}
	id, err := s.Sending.Send(ctx, r)
	if err != nil {
		return nil, wireError(err)
	}
	return &v1wire.SendRawEmailResponse{MessageId: id}, nil
}

func content(c *v1wire.Content) mail.Content {
	if c == nil {
		return mail.Content{}
	}
	return mail.Content{Data: c.Data, Charset: c.Charset}
}

func tags(ts []v1wire.MessageTag) []mail.Tag {
	out := make([]mail.Tag, len(ts))
	for i, t := range ts {
		out[i] = mail.Tag{Name: t.Name, Value: t.Value}
	}
	return out
}
