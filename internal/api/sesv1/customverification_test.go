package sesv1_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// SendCustomVerificationEmail with a configuration set: a set that exists is
// used (and recorded on the message); an unknown one is each API's error.
func TestCustomVerificationWithConfigurationSet(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	ctx := context.Background()
	s.VerifyEmail(t, "sender@example.com")
	if _, err := s.SES.CreateCustomVerificationEmailTemplate(ctx, &ses.CreateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String("Welcome"), FromEmailAddress: aws.String("sender@example.com"), TemplateSubject: aws.String("Confirm"),
		TemplateContent: aws.String("<p>Please confirm.</p>"), SuccessRedirectionURL: aws.String("https://example.com/ok"),
		FailureRedirectionURL: aws.String("https://example.com/no")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SES.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &types.ConfigurationSet{Name: aws.String("signup")}}); err != nil {
		t.Fatal(err)
	}

	out, err := s.SES.SendCustomVerificationEmail(ctx, &ses.SendCustomVerificationEmailInput{EmailAddress: aws.String("new@example.net"),
		TemplateName: aws.String("Welcome"), ConfigurationSetName: aws.String("signup")})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := s.App.Queue.Load(ctx, aws.ToString(out.MessageId))
		if err == nil {
			if m.ConfigSet != "signup" {
				t.Fatalf("message configuration set = %q", m.ConfigSet)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	_, err = s.SES.SendCustomVerificationEmail(ctx, &ses.SendCustomVerificationEmailInput{EmailAddress: aws.String("other@example.net"),
		TemplateName: aws.String("Welcome"), ConfigurationSetName: aws.String("nope")})
	var v1err *types.ConfigurationSetDoesNotExistException
	if !errors.As(err, &v1err) || aws.ToString(v1err.ConfigurationSetName) != "nope" {
		t.Fatalf("v1 unknown set: %v", err)
	}
	_, err = s.SESv2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String("other@example.net"),
		TemplateName: aws.String("Welcome"), ConfigurationSetName: aws.String("nope")})
	var v2err *sesv2types.NotFoundException
	if !errors.As(err, &v2err) {
		t.Fatalf("v2 unknown set: %v", err)
	}
	// The refused request left the address untouched.
	if id, _ := s.App.Identities.Lookup(ctx, "123456789012", "other@example.net"); id != nil {
		t.Fatalf("refused request created an identity: %+v", id.Status)
	}
}
