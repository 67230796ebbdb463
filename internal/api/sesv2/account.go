package sesv2

import (
	"context"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

// enforcementHealthy is GetAccount's EnforcementStatus: Sesame has no
// reputation enforcement, so every account is HEALTHY (SES-BEHAVIOR §6.2).
const enforcementHealthy = "HEALTHY"

// GetAccount is SES v2 GetAccount: quota, sandbox state, sending state,
// suppression reasons and, once one was made, the production-access request
// with its review (SES-BEHAVIOR §6).
func (s *Service) GetAccount(ctx context.Context, _ *v2wire.GetAccountRequest) (*v2wire.GetAccountResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.d.Accounts.Get(ctx, acct)
	if err != nil {
		return nil, wireError(err)
	}
	q, err := s.d.Accounts.Quota(ctx, acct)
	if err != nil {
		return nil, wireError(err)
	}
	reasons := a.SuppressedReasons
	if reasons == nil {
		reasons = []string{}
	}
	return &v2wire.GetAccountResponse{
		DedicatedIpAutoWarmupEnabled: ptr(false),
		EnforcementStatus:            enforcementHealthy,
		ProductionAccessEnabled:      ptr(!a.Sandbox),
		SendQuota: &v2wire.SendQuota{
			Max24HourSend:   ptr(q.Max24h),
			MaxSendRate:     ptr(q.MaxRate),
			SentLast24Hours: ptr(q.SentLast24Hours),
		},
		SendingEnabled:        ptr(a.SendingEnabled),
		SuppressionAttributes: &v2wire.SuppressionAttributes{SuppressedReasons: reasons},
		Details:               detailsOut(a),
	}, nil
}

// detailsOut is the production-access request as v2 AccountDetails, nil when
// none was made.
func detailsOut(a *account.Account) *v2wire.AccountDetails {
	d := a.Details
	if d == nil {
		return nil
	}
	out := &v2wire.AccountDetails{
		MailType:                        d.MailType,
		WebsiteURL:                      d.WebsiteURL,
		ContactLanguage:                 d.ContactLanguage,
		UseCaseDescription:              d.UseCaseDescription,
		AdditionalContactEmailAddresses: d.AdditionalContactEmailAddresses,
	}
	if a.ReviewStatus != "" {
		out.ReviewDetails = &v2wire.ReviewDetails{Status: a.ReviewStatus, CaseId: a.ReviewCaseID}
	}
	return out
}

// PutAccountDetails is SES v2 PutAccountDetails: the request for production
// access. A second request while one is under review is ConflictException
// (409), decided by the account service.
func (s *Service) PutAccountDetails(ctx context.Context, in *v2wire.PutAccountDetailsRequest) (*v2wire.PutAccountDetailsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	d := account.Details{
		MailType:                        in.MailType,
		WebsiteURL:                      in.WebsiteURL,
		ContactLanguage:                 in.ContactLanguage,
		UseCaseDescription:              in.UseCaseDescription,
		AdditionalContactEmailAddresses: in.AdditionalContactEmailAddresses,
		ProductionAccessEnabled:         in.ProductionAccessEnabled,
	}
	if err := s.d.Accounts.PutDetails(ctx, acct, d); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutAccountDetailsResponse{}, nil
}

// PutAccountSendingAttributes is SES v2 PutAccountSendingAttributes: pause
// or resume the account's sending (an absent SendingEnabled is false, as in
// SES).
func (s *Service) PutAccountSendingAttributes(ctx context.Context, in *v2wire.PutAccountSendingAttributesRequest) (*v2wire.PutAccountSendingAttributesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Accounts.SetSendingEnabled(ctx, acct, deref(in.SendingEnabled)); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutAccountSendingAttributesResponse{}, nil
}
