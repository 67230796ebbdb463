package sesv2_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

func templateInput(name, from string) *sesv2.CreateCustomVerificationEmailTemplateInput {
	return &sesv2.CreateCustomVerificationEmailTemplateInput{
		TemplateName:          aws.String(name),
		FromEmailAddress:      aws.String(from),
		TemplateSubject:       aws.String("Please confirm your address"),
		TemplateContent:       aws.String("<h1>Welcome to Example</h1><p>Click below to confirm.</p>"),
		SuccessRedirectionURL: aws.String("https://example.com/verified"),
		FailureRedirectionURL: aws.String("https://example.com/failed"),
	}
}

// TestCustomVerificationTemplates covers the template life cycle and its
// errors as the SDK sees them.
func TestCustomVerificationTemplates(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()

	_, err := s.SESv2.CreateCustomVerificationEmailTemplate(ctx, templateInput("welcome", "verify@example.com"))
	wantError[*types.BadRequestException](t, err, 400, "Email address verify@example.com is not verified.")

	s.VerifyEmail(t, "verify@example.com")
	for _, name := range []string{"welcome", "another"} {
		if _, err := s.SESv2.CreateCustomVerificationEmailTemplate(ctx, templateInput(name, "verify@example.com")); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	_, err = s.SESv2.CreateCustomVerificationEmailTemplate(ctx, templateInput("welcome", "verify@example.com"))
	wantError[*types.AlreadyExistsException](t, err, 400, "Custom verification email template welcome already exists.")

	bad := templateInput("scripted", "verify@example.com")
	bad.TemplateContent = aws.String("<script>alert(1)</script>")
	_, err = s.SESv2.CreateCustomVerificationEmailTemplate(ctx, bad)
	wantError[*types.BadRequestException](t, err, 400, "")

	got, err := s.SESv2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	if err != nil {
		t.Fatal(err)
	}
	want := templateInput("welcome", "verify@example.com")
	if aws.ToString(got.TemplateName) != "welcome" || aws.ToString(got.FromEmailAddress) != "verify@example.com" ||
		aws.ToString(got.TemplateSubject) != *want.TemplateSubject || aws.ToString(got.TemplateContent) != *want.TemplateContent ||
		aws.ToString(got.SuccessRedirectionURL) != *want.SuccessRedirectionURL || aws.ToString(got.FailureRedirectionURL) != *want.FailureRedirectionURL {
		t.Errorf("Get = %+v", got)
	}

	// Two pages of one.
	var names []string
	var token *string
	for page := 0; page < 5; page++ {
		out, err := s.SESv2.ListCustomVerificationEmailTemplates(ctx, &sesv2.ListCustomVerificationEmailTemplatesInput{PageSize: aws.Int32(1), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.CustomVerificationEmailTemplates) != 1 {
			t.Fatalf("page %d has %d templates", page, len(out.CustomVerificationEmailTemplates))
		}
		tm := out.CustomVerificationEmailTemplates[0]
		names = append(names, aws.ToString(tm.TemplateName))
		if aws.ToString(tm.FromEmailAddress) != "verify@example.com" || aws.ToString(tm.SuccessRedirectionURL) != *want.SuccessRedirectionURL {
			t.Errorf("metadata %+v", tm)
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(names, []string{"another", "welcome"}) {
		t.Errorf("listed %q", names)
	}
	_, err = s.SESv2.ListCustomVerificationEmailTemplates(ctx, &sesv2.ListCustomVerificationEmailTemplatesInput{PageSize: aws.Int32(51)})
	wantError[*types.BadRequestException](t, err, 400, "PageSize must be between 1 and 50.")

	upd := &sesv2.UpdateCustomVerificationEmailTemplateInput{
		TemplateName:          aws.String("welcome"),
		FromEmailAddress:      aws.String("verify@example.com"),
		TemplateSubject:       aws.String("Confirm, please"),
		TemplateContent:       aws.String("<p>New words</p>"),
		SuccessRedirectionURL: aws.String("https://example.com/yes"),
		FailureRedirectionURL: aws.String("https://example.com/no"),
	}
	if _, err := s.SESv2.UpdateCustomVerificationEmailTemplate(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got, err = s.SESv2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.TemplateSubject) != "Confirm, please" || aws.ToString(got.SuccessRedirectionURL) != "https://example.com/yes" {
		t.Errorf("after update: %+v", got)
	}
	upd.TemplateName = aws.String("nope")
	_, err = s.SESv2.UpdateCustomVerificationEmailTemplate(ctx, upd)
	wantError[*types.NotFoundException](t, err, 404, "Custom verification email template nope does not exist.")

	if _, err := s.SESv2.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("another")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SESv2.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("another")})
	wantError[*types.NotFoundException](t, err, 404, "Custom verification email template another does not exist.")
	_, err = s.SESv2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("another")})
	wantError[*types.NotFoundException](t, err, 404, "Custom verification email template another does not exist.")
}

// TestSendCustomVerificationEmail: the template's mail carries a link that
// verifies the address and redirects to the template's success URL.
func TestSendCustomVerificationEmail(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	s.VerifyEmail(t, "verify@example.com")
	if _, err := s.SESv2.CreateCustomVerificationEmailTemplate(ctx, templateInput("welcome", "verify@example.com")); err != nil {
		t.Fatal(err)
	}

	_, err := s.SESv2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{
		EmailAddress: aws.String("newcomer@example.org"), TemplateName: aws.String("missing"),
	})
	wantError[*types.NotFoundException](t, err, 404, "Custom verification email template missing does not exist.")

	before := len(s.Sink.Messages())
	out, err := s.SESv2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{
		EmailAddress: aws.String("newcomer@example.org"), TemplateName: aws.String("welcome"),
	})
	if err != nil {
		t.Fatal(err)
	}
	m := waitMessage(t, s, aws.ToString(out.MessageId))
	h := header(t, m.Data)
	if subj, _ := h.Subject(); subj != "Please confirm your address" {
		t.Errorf("Subject = %q", subj)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "verify@example.com" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if body := stack.BodyText(t, m.Data); !strings.Contains(body, "Welcome to Example") {
		t.Errorf("body lacks the template content:\n%s", body)
	}
	if got := getIdentity(t, s, "newcomer@example.org"); got.VerificationStatus != types.VerificationStatusPending {
		t.Errorf("before the link: %s", got.VerificationStatus)
	}

	link := s.VerificationLink(t, "newcomer@example.org", before)
	resp, err := noRedirects().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/verified" {
		t.Errorf("link answered %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if got := getIdentity(t, s, "newcomer@example.org"); got.VerificationStatus != types.VerificationStatusSuccess || !got.VerifiedForSendingStatus {
		t.Errorf("after the link: %s", got.VerificationStatus)
	}
}
