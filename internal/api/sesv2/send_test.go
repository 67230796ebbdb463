package sesv2_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	gomail "github.com/emersion/go-message/mail"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// TestSendSimple: a Simple message with a UTF-8 subject, both bodies, a
// custom header and an attachment arrives with its headers right, and a Bcc
// recipient is in the envelope but in no header.
func TestSendSimple(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	s.ApproveProduction(t)
	s.VerifyEmail(t, "sender@example.com")

	const subject = "Grüße aus Köln – ✓"
	attachment := []byte("col1,col2\r\n1,2\r\n")
	out, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Jörg Sender <sender@example.com>"),
		Destination: &types.Destination{
			ToAddresses:  []string{"to@example.net"},
			CcAddresses:  []string{"cc@example.net"},
			BccAddresses: []string{"hidden@example.org"},
		},
		ReplyToAddresses: []string{"replies@example.com"},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String("Hallo Welt, schöne Grüße.")},
				Html: &types.Content{Data: aws.String("<p>Hallo <b>Welt</b></p>"), Charset: aws.String("UTF-8")},
			},
			Headers:     []types.MessageHeader{{Name: aws.String("X-Campaign"), Value: aws.String("spring-2025")}},
			Attachments: []types.Attachment{{FileName: aws.String("report.csv"), RawContent: attachment, ContentType: aws.String("text/csv")}},
		}},
		EmailTags: []types.MessageTag{{Name: aws.String("campaign"), Value: aws.String("spring")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	if !strings.HasSuffix(id, "-000000") || len(id) != 60 {
		t.Errorf("MessageId %q is not in SES's form", id)
	}

	m := waitMessage(t, s, id)
	if !slices.Equal(sorted(m.To), []string{"cc@example.net", "hidden@example.org", "to@example.net"}) {
		t.Errorf("envelope recipients %q", m.To)
	}
	r, err := gomail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header
	if got, err := h.Subject(); err != nil || got != subject {
		t.Errorf("Subject = %q (%v), want %q", got, err, subject)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "sender@example.com" || from[0].Name != "Jörg Sender" {
		t.Errorf("From = %v (%v)", from, err)
	}
	for field, want := range map[string]string{"To": "to@example.net", "Cc": "cc@example.net", "Reply-To": "replies@example.com"} {
		if list, err := h.AddressList(field); err != nil || len(list) != 1 || list[0].Address != want {
			t.Errorf("%s = %v (%v), want %s", field, list, err, want)
		}
	}
	if h.Has("Bcc") || bytes.Contains(m.Data, []byte("hidden@example.org")) {
		t.Error("the Bcc recipient shows in the delivered message")
	}
	if got := h.Get("X-Campaign"); got != "spring-2025" {
		t.Errorf("X-Campaign = %q", got)
	}

	var text, html string
	var att []byte
	for i := 0; i < 10; i++ {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		switch ph := p.Header.(type) {
		case *gomail.InlineHeader:
			if ct, _, _ := ph.ContentType(); ct == "text/html" {
				html = string(b)
			} else {
				text = string(b)
			}
		case *gomail.AttachmentHeader:
			if name, _ := ph.Filename(); name == "report.csv" {
				att = b
			}
		}
	}
	if !strings.Contains(text, "schöne Grüße") || !strings.Contains(html, "<b>Welt</b>") {
		t.Errorf("bodies: text %q, html %q", text, html)
	}
	if !bytes.Equal(att, attachment) {
		t.Errorf("attachment = %q, want %q", att, attachment)
	}

	acct, err := s.SESv2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := acct.SendQuota.SentLast24Hours; got != 3 {
		t.Errorf("SentLast24Hours = %v after one message to 3 recipients", got)
	}
}

// rawMessage is a multipart message with a binary attachment; attachmentPart
// is its attachment part exactly as written.
func rawMessage(t testing.TB, to string, payload []byte) (msg, attachmentPart []byte) {
	t.Helper()
	var enc strings.Builder
	b64 := base64.StdEncoding.EncodeToString(payload)
	for len(b64) > 76 {
		enc.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	enc.WriteString(b64 + "\r\n")
	part := "--frontier\r\n" +
		"Content-Type: application/octet-stream; name=\"blob.bin\"\r\n" +
		"Content-Disposition: attachment; filename=\"blob.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" + enc.String()
	msg = []byte("From: Raw Sender <sender@example.com>\r\n" +
		"To: " + to + "\r\n" +
		"Subject: Raw with attachment\r\n" +
		"Message-ID: <customer-own-id@example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"frontier\"\r\n" +
		"\r\n" +
		"--frontier\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"See the attachment.\r\n" +
		part +
		"--frontier--\r\n")
	return msg, []byte(part)
}

// TestSendRaw: a raw message arrives with its attachment part byte for byte;
// a Destination replaces the header recipients as the envelope.
func TestSendRaw(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	s.ApproveProduction(t)
	s.VerifyEmail(t, "sender@example.com")

	payload := make([]byte, 3000)
	for i := range payload {
		payload[i] = byte(i*7 + i/256)
	}
	raw, part := rawMessage(t, "reader@example.net", payload)
	out, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{Content: &types.EmailContent{Raw: &types.RawMessage{Data: raw}}})
	if err != nil {
		t.Fatal(err)
	}
	m := waitMessage(t, s, aws.ToString(out.MessageId))
	if !slices.Equal(m.To, []string{"reader@example.net"}) {
		t.Errorf("envelope recipients %q, want the To header's", m.To)
	}
	if !bytes.Contains(m.Data, part) {
		t.Errorf("the attachment part was not delivered byte for byte:\n%s", m.Data)
	}
	if bytes.Contains(m.Data, []byte("customer-own-id@example.com")) {
		t.Error("the customer's Message-ID was not replaced")
	}
	r, err := gomail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for i := 0; i < 10; i++ {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		if _, ok := p.Header.(*gomail.AttachmentHeader); ok {
			got, _ = io.ReadAll(p.Body)
		}
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("decoded attachment differs (%d bytes, want %d)", len(got), len(payload))
	}

	// Destination overrides the header recipients.
	out, err = s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		Destination: &types.Destination{ToAddresses: []string{"other@example.org"}, BccAddresses: []string{"archive@example.org"}},
		Content:     &types.EmailContent{Raw: &types.RawMessage{Data: raw}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m = waitMessage(t, s, aws.ToString(out.MessageId))
	if !slices.Equal(sorted(m.To), []string{"archive@example.org", "other@example.org"}) {
		t.Errorf("envelope recipients %q, want the Destination's", m.To)
	}

	_, err = s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{Content: &types.EmailContent{Raw: &types.RawMessage{Data: []byte("no header section")}}})
	wantError[*types.MessageRejected](t, err, 400, "")
}

// TestSendSandbox: in the sandbox every unverified sender and recipient is
// named in SES's refusal.
func TestSendSandbox(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	s.VerifyEmail(t, "sender@example.com")
	send := func(from string, to ...string) error {
		_, err := s.SESv2.SendEmail(ctx, simpleEmail(from, to...))
		return err
	}
	wantError[*types.MessageRejected](t, send("sender@example.com", "stranger@example.org"), 400,
		"Email address is not verified. The following identities failed the check in region US-EAST-1: stranger@example.org")
	wantError[*types.MessageRejected](t, send("nobody@example.com", "stranger@example.org", "sender@example.com"), 400,
		"Email address is not verified. The following identities failed the check in region US-EAST-1: nobody@example.com, stranger@example.org")

	// A verified sender may send to a verified recipient and to the mailbox
	// simulator (one message: the sandbox allows one recipient a second).
	if err := send("sender@example.com", "sender@example.com", "success@simulator.amazonses.com"); err != nil {
		t.Fatal(err)
	}
}

// TestSendRefusals: each refusal of the send path reaches the SDK as its
// own typed exception.
func TestSendRefusals(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	s.VerifyEmail(t, "sender@example.com")
	msg := simpleEmail("sender@example.com", "sender@example.com")

	t.Run("template", func(t *testing.T) {
		_, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("sender@example.com"),
			Destination:      &types.Destination{ToAddresses: []string{"sender@example.com"}},
			Content:          &types.EmailContent{Template: &types.Template{TemplateName: aws.String("welcome"), TemplateData: aws.String("{}")}},
		})
		wantError[*types.NotFoundException](t, err, 404, "Template welcome does not exist.")
	})
	t.Run("no content", func(t *testing.T) {
		_, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"), Content: &types.EmailContent{}})
		wantError[*types.BadRequestException](t, err, 400, "Content must contain one of Simple, Raw or Template.")
	})
	t.Run("two contents", func(t *testing.T) {
		in := simpleEmail("sender@example.com", "sender@example.com")
		in.Content.Raw = &types.RawMessage{Data: []byte("Subject: x\r\n\r\nx\r\n")}
		_, err := s.SESv2.SendEmail(ctx, in)
		wantError[*types.BadRequestException](t, err, 400, "Content must contain only one of Simple, Raw or Template.")
	})
	t.Run("bad address", func(t *testing.T) {
		_, err := s.SESv2.SendEmail(ctx, simpleEmail("sender@example.com", "not-an-address"))
		wantError[*types.BadRequestException](t, err, 400, "")
	})
	t.Run("configuration set", func(t *testing.T) {
		in := simpleEmail("sender@example.com", "sender@example.com")
		in.ConfigurationSetName = aws.String("missing-set")
		_, err := s.SESv2.SendEmail(ctx, in)
		wantError[*types.NotFoundException](t, err, 404, "Configuration set <missing-set> does not exist.")
	})
	t.Run("contact list", func(t *testing.T) {
		in := simpleEmail("sender@example.com", "sender@example.com")
		in.ListManagementOptions = &types.ListManagementOptions{ContactListName: aws.String("news")}
		_, err := s.SESv2.SendEmail(ctx, in)
		wantError[*types.BadRequestException](t, err, 400, "ListManagementOptions is not supported yet.")
	})
	t.Run("too many recipients", func(t *testing.T) {
		var to []string
		for range 51 {
			to = append(to, "sender@example.com")
		}
		_, err := s.SESv2.SendEmail(ctx, simpleEmail("sender@example.com", to...))
		wantError[*types.MessageRejected](t, err, 400, "Recipient count exceeds 50.")
	})
	t.Run("sending paused", func(t *testing.T) {
		if _, err := s.SESv2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: false}); err != nil {
			t.Fatal(err)
		}
		_, err := s.SESv2.SendEmail(ctx, msg)
		wantError[*types.SendingPausedException](t, err, 400, "Email sending is disabled for this account.")
		if _, err := s.SESv2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: true}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("rate", func(t *testing.T) {
		// A rate so low that the bucket refills one recipient in 1000 s.
		if err := s.App.Accounts.SetQuota(ctx, "123456789012", 200, 0.001); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SESv2.SendEmail(ctx, msg); err != nil {
			t.Fatal(err)
		}
		_, err := s.SESv2.SendEmail(ctx, msg)
		wantError[*types.TooManyRequestsException](t, err, 429, "Maximum sending rate exceeded.")
	})
	t.Run("daily quota", func(t *testing.T) {
		q, err := s.SESv2.GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		sent := int64(q.SendQuota.SentLast24Hours)
		if err := s.App.Accounts.SetQuota(ctx, "123456789012", sent+1, 1000); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SESv2.SendEmail(ctx, msg); err != nil {
			t.Fatal(err)
		}
		_, err = s.SESv2.SendEmail(ctx, msg)
		wantError[*types.LimitExceededException](t, err, 400, "Daily message quota exceeded.")
	})
}

// TestSendMailFromNotVerified: a sender whose custom MAIL FROM domain is not
// verified and whose behaviour is REJECT_MESSAGE is refused until the MX is
// published.
func TestSendMailFromNotVerified(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	s.ApproveProduction(t)
	const domain = "mf.example.com"
	verifyDomain1024(t, s, domain)
	if _, err := s.SESv2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
		EmailIdentity: aws.String(domain), MailFromDomain: aws.String("bounce." + domain), BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage,
	}); err != nil {
		t.Fatal(err)
	}
	_, err := s.SESv2.SendEmail(ctx, simpleEmail("news@"+domain, "reader@example.net"))
	wantError[*types.MailFromDomainNotVerifiedException](t, err, 400, "The MAIL FROM domain bounce.mf.example.com is not verified.")

	s.DNS.AddMX("bounce."+domain, 10, stack.Hostname)
	eventually(t, 30*time.Second, func() (bool, string) {
		st := getIdentity(t, s, domain).MailFromAttributes.MailFromDomainStatus
		return st == types.MailFromDomainStatusSuccess, "MAIL FROM status " + string(st)
	})
	out, err := s.SESv2.SendEmail(ctx, simpleEmail("news@"+domain, "reader@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	m := waitMessage(t, s, aws.ToString(out.MessageId))
	if !strings.HasSuffix(m.From, "@bounce."+domain) {
		t.Errorf("envelope sender %q is not under the MAIL FROM domain", m.From)
	}
	if h := header(t, m.Data); !strings.Contains(h.Get("Dkim-Signature"), "d="+domain) {
		t.Errorf("DKIM-Signature %q does not sign for %s", h.Get("Dkim-Signature"), domain)
	}
}

func simpleEmail(from string, to ...string) *sesv2.SendEmailInput {
	return &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &types.Destination{ToAddresses: to},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String("Hello")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String("Hello there.")}},
		}},
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
