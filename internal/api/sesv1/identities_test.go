package sesv1_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// The v1 identity operations, as the SDK sees them: one store with v2,
// unknown identities omitted from attribute maps, DKIM and MAIL FROM state.
func TestIdentityOperations(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	c := s.SES

	s.VerifyEmail(t, "Owner@Example.COM")
	tokens := s.VerifyDomain(t, "example.com") // made through v2, seen by v1
	if _, err := c.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("pending.example")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String("legacy@example.net")}); err != nil {
		t.Fatal(err)
	}

	all, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com", "legacy@example.net", "owner@example.com", "pending.example"}
	if !slices.Equal(all.Identities, want) {
		t.Fatalf("ListIdentities = %v, want %v", all.Identities, want)
	}
	domains, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: types.IdentityTypeDomain, MaxItems: aws.Int32(1)})
	if err != nil || len(domains.Identities) != 1 || domains.Identities[0] != "example.com" || domains.NextToken == nil {
		t.Fatalf("first domain page: %v %v", domains, err)
	}
	next, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: types.IdentityTypeDomain, MaxItems: aws.Int32(1), NextToken: domains.NextToken})
	if err != nil || !slices.Equal(next.Identities, []string{"pending.example"}) {
		t.Fatalf("second domain page: %v %v", next, err)
	}
	verified, err := c.ListVerifiedEmailAddresses(ctx, &ses.ListVerifiedEmailAddressesInput{})
	if err != nil || !slices.Equal(verified.VerifiedEmailAddresses, []string{"owner@example.com"}) {
		t.Fatalf("ListVerifiedEmailAddresses = %v %v", verified, err)
	}

	dk, err := c.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: []string{"example.com", "owner@example.com", "nobody.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := dk.DkimAttributes["example.com"]; !d.DkimEnabled || d.DkimVerificationStatus != types.VerificationStatusSuccess || !slices.Equal(d.DkimTokens, tokens) {
		t.Fatalf("domain DKIM = %+v", d)
	}
	if d := dk.DkimAttributes["owner@example.com"]; d.DkimVerificationStatus != types.VerificationStatusSuccess {
		t.Fatalf("an address reports its domain's DKIM: %+v", d)
	}
	if _, ok := dk.DkimAttributes["nobody.example"]; ok {
		t.Fatal("unknown identity reported")
	}
	if _, err := c.SetIdentityDkimEnabled(ctx, &ses.SetIdentityDkimEnabledInput{Identity: aws.String("pending.example"), DkimEnabled: true}); err == nil {
		t.Fatal("enabling DKIM on a domain without tokens must fail")
	} else if ae := (smithy.APIError)(nil); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.SetIdentityDkimEnabled(ctx, &ses.SetIdentityDkimEnabledInput{Identity: aws.String("example.com"), DkimEnabled: false}); err != nil {
		t.Fatal(err)
	}
	dk, _ = c.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: []string{"example.com"}})
	if dk.DkimAttributes["example.com"].DkimEnabled {
		t.Fatal("DKIM still enabled")
	}

	// MAIL FROM: pending until its MX points at Sesame, then Success.
	if _, err := c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.com"),
		MailFromDomain: aws.String("bounce.example.com"), BehaviorOnMXFailure: types.BehaviorOnMXFailureRejectMessage}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.com"),
		MailFromDomain: aws.String("bounce.other.example")}); err == nil {
		t.Fatal("a MAIL FROM domain outside the identity must be refused")
	}
	s.DNS.AddMX("bounce.example.com", 10, stack.Hostname)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mf, err := c.GetIdentityMailFromDomainAttributes(ctx, &ses.GetIdentityMailFromDomainAttributesInput{Identities: []string{"example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		a := mf.MailFromDomainAttributes["example.com"]
		if aws.ToString(a.MailFromDomain) != "bounce.example.com" || a.BehaviorOnMXFailure != types.BehaviorOnMXFailureRejectMessage {
			t.Fatalf("MAIL FROM attributes = %+v", a)
		}
		if a.MailFromDomainStatus == types.CustomMailFromStatusSuccess {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("MAIL FROM status %s after 20s", a.MailFromDomainStatus)
		}
		time.Sleep(25 * time.Millisecond)
	}

	// Deleting: unknown identities succeed silently in v1.
	for _, name := range []string{"pending.example", "never-existed.example"} {
		if _, err := c.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String(name)}); err != nil {
			t.Fatalf("DeleteIdentity %s: %v", name, err)
		}
	}
	if _, err := c.DeleteVerifiedEmailAddress(ctx, &ses.DeleteVerifiedEmailAddressInput{EmailAddress: aws.String("legacy@example.net")}); err != nil {
		t.Fatal(err)
	}
	all, _ = c.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if !slices.Equal(all.Identities, []string{"example.com", "owner@example.com"}) {
		t.Fatalf("after deletes: %v", all.Identities)
	}

	// Statistics count what was sent.
	s.ApproveProduction(t)
	if _, err := c.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("owner@example.com"),
		Destination: &types.Destination{ToAddresses: []string{"a@example.net", "b@example.net"}},
		Message:     &types.Message{Subject: &types.Content{Data: aws.String("s")}, Body: &types.Body{Text: &types.Content{Data: aws.String("b")}}}}); err != nil {
		t.Fatal(err)
	}
	stats, err := c.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var attempts int64
	for _, p := range stats.SendDataPoints {
		attempts += p.DeliveryAttempts
	}
	if attempts != 2 {
		t.Fatalf("DeliveryAttempts = %d, want 2 (verification mail is not counted)", attempts)
	}
}
