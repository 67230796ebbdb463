package sesv2_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// TestAccount: GetAccount in the sandbox, after a production-access request,
// and after approval; a second request under review is a 409 conflict.
func TestAccount(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	get := func() *sesv2.GetAccountOutput {
		t.Helper()
		out, err := s.SESv2.GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	a := get()
	if a.ProductionAccessEnabled || !a.SendingEnabled || a.DedicatedIpAutoWarmupEnabled || aws.ToString(a.EnforcementStatus) != "HEALTHY" {
		t.Errorf("new account: production %v, sending %v, warmup %v, enforcement %v",
			a.ProductionAccessEnabled, a.SendingEnabled, a.DedicatedIpAutoWarmupEnabled, aws.ToString(a.EnforcementStatus))
	}
	if q := a.SendQuota; q == nil || q.Max24HourSend != 200 || q.MaxSendRate != 1 || q.SentLast24Hours != 0 {
		t.Errorf("sandbox quota = %+v", q)
	}
	if sa := a.SuppressionAttributes; sa == nil || !slices.Equal(sa.SuppressedReasons, []types.SuppressionListReason{"BOUNCE", "COMPLAINT"}) {
		t.Errorf("SuppressionAttributes = %+v", sa)
	}
	if a.Details != nil {
		t.Errorf("Details before any request: %+v", a.Details)
	}

	req := &sesv2.PutAccountDetailsInput{
		MailType:                        types.MailTypeTransactional,
		WebsiteURL:                      aws.String("https://example.com"),
		ContactLanguage:                 types.ContactLanguageEn,
		UseCaseDescription:              aws.String("Password resets and receipts."),
		AdditionalContactEmailAddresses: []string{"ops@example.com"},
		ProductionAccessEnabled:         aws.Bool(true),
	}
	if _, err := s.SESv2.PutAccountDetails(ctx, req); err != nil {
		t.Fatal(err)
	}
	a = get()
	d := a.Details
	if d == nil || d.MailType != types.MailTypeTransactional || aws.ToString(d.WebsiteURL) != "https://example.com" ||
		d.ContactLanguage != types.ContactLanguageEn || aws.ToString(d.UseCaseDescription) != "Password resets and receipts." ||
		!slices.Equal(d.AdditionalContactEmailAddresses, []string{"ops@example.com"}) {
		t.Fatalf("Details = %+v", d)
	}
	if r := d.ReviewDetails; r == nil || r.Status != types.ReviewStatusPending || aws.ToString(r.CaseId) == "" {
		t.Errorf("ReviewDetails = %+v", r)
	}
	if a.ProductionAccessEnabled {
		t.Error("a pending request already lifted the sandbox")
	}

	_, err := s.SESv2.PutAccountDetails(ctx, req)
	wantError[*types.ConflictException](t, err, 409, "")

	s.ApproveProduction(t)
	a = get()
	if !a.ProductionAccessEnabled || a.SendQuota.Max24HourSend != 50000 || a.SendQuota.MaxSendRate != 14 {
		t.Errorf("after approval: production %v, quota %+v", a.ProductionAccessEnabled, a.SendQuota)
	}
	if r := a.Details.ReviewDetails; r == nil || r.Status != types.ReviewStatusGranted {
		t.Errorf("ReviewDetails after approval = %+v", r)
	}
}

// TestAccountSendingAttributes pauses and resumes the account's sending.
func TestAccountSendingAttributes(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	for _, on := range []bool{false, true} {
		if _, err := s.SESv2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: on}); err != nil {
			t.Fatal(err)
		}
		a, err := s.SESv2.GetAccount(ctx, &sesv2.GetAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		if a.SendingEnabled != on {
			t.Errorf("SendingEnabled = %v after setting %v", a.SendingEnabled, on)
		}
	}
}

// TestUnimplemented: operations this adapter does not serve answer with
// BadRequestException naming them, not with a crash or a 404.
func TestUnimplemented(t *testing.T) {
	s := stack.Start(t)
	_, err := s.SESv2.PutDeliverabilityDashboardOption(context.Background(), &sesv2.PutDeliverabilityDashboardOptionInput{DashboardEnabled: true})
	wantError[*types.BadRequestException](t, err, 400, "Operation PutDeliverabilityDashboardOption is not implemented by Sesame yet.")
}
