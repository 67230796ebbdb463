package sesv2

import (
	"context"

	"github.com/sesamehq/sesame/internal/api/v2wire"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/identity"
)

// ListEmailIdentities page sizes: the model documents 0 to 1000; an absent or
// zero PageSize takes Sesame's default.
const (
	maxIdentityPage     = 1000
	defaultIdentityPage = 100
)

// CreateEmailIdentity is SES v2 CreateEmailIdentity: an address is sent a
// verification mail, a domain gets Easy DKIM (RSA_2048_BIT unless
// DkimSigningAttributes.NextSigningKeyLength says RSA_1024_BIT) or BYODKIM
// (DomainSigningSelector + DomainSigningPrivateKey) and is verified by DNS
// (SES-BEHAVIOR §5.2, §5.3).
func (s *Service) CreateEmailIdentity(ctx context.Context, in *v2wire.CreateEmailIdentityRequest) (*v2wire.CreateEmailIdentityResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	o := identity.CreateOptions{ConfigSet: in.ConfigurationSetName, Tags: tagsIn(in.Tags)}
	if a := in.DkimSigningAttributes; a != nil {
		o.DKIM = &identity.DKIMOptions{Selector: a.DomainSigningSelector, PrivateKey: a.DomainSigningPrivateKey, NextKeyLength: a.NextSigningKeyLength}
	}
	id, err := s.d.Identities.Create(ctx, acct, in.EmailIdentity, o)
	if err != nil {
		return nil, wireError(err)
	}
	return &v2wire.CreateEmailIdentityResponse{
		IdentityType:             string(id.Kind),
		VerifiedForSendingStatus: ptr(id.VerifiedForSending()),
		DkimAttributes:           dkimOut(id),
	}, nil
}

// GetEmailIdentity is SES v2 GetEmailIdentity (SES-BEHAVIOR §5.3). Sesame
// has no identity policies yet, so Policies is always empty.
func (s *Service) GetEmailIdentity(ctx context.Context, in *v2wire.GetEmailIdentityRequest) (*v2wire.GetEmailIdentityResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := s.d.Identities.Get(ctx, acct, in.EmailIdentity)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.GetEmailIdentityResponse{
		IdentityType:             string(id.Kind),
		FeedbackForwardingStatus: ptr(id.FeedbackForwarding),
		VerifiedForSendingStatus: ptr(id.VerifiedForSending()),
		DkimAttributes:           dkimOut(id),
		// SES answers with the behaviour even when no MAIL FROM domain is
		// set; the empty domain and status are then left out.
		MailFromAttributes: &v2wire.MailFromAttributes{
			MailFromDomain:       id.MailFrom.Domain,
			MailFromDomainStatus: string(id.MailFrom.Status),
			BehaviorOnMxFailure:  id.MailFrom.Behavior,
		},
		Policies:             map[string]string{},
		Tags:                 tagsOut(id.Tags),
		ConfigurationSetName: id.ConfigSet,
		VerificationStatus:   string(id.Status),
	}
	if !id.LastCheckedAt.IsZero() || !id.LastSuccessAt.IsZero() || id.ErrorType != "" {
		out.VerificationInfo = &v2wire.VerificationInfo{
			LastCheckedTimestamp: timePtr(id.LastCheckedAt),
			LastSuccessTimestamp: timePtr(id.LastSuccessAt),
			ErrorType:            id.ErrorType,
		}
	}
	return out, nil
}

// ListEmailIdentities is SES v2 ListEmailIdentities: every identity of the
// account in name order, PageSize at a time.
func (s *Service) ListEmailIdentities(ctx context.Context, in *v2wire.ListEmailIdentitiesRequest) (*v2wire.ListEmailIdentitiesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := pageSize(in.PageSize, 0, maxIdentityPage, defaultIdentityPage)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	ids, next, err := s.d.Identities.List(ctx, acct, "", after, limit)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.ListEmailIdentitiesResponse{EmailIdentities: make([]v2wire.IdentityInfo, 0, len(ids)), NextToken: encodeToken(next)}
	for _, id := range ids {
		out.EmailIdentities = append(out.EmailIdentities, v2wire.IdentityInfo{
			IdentityType:       string(id.Kind),
			IdentityName:       id.Name,
			SendingEnabled:     ptr(id.VerifiedForSending()),
			VerificationStatus: string(id.Status),
		})
	}
	return out, nil
}

// DeleteEmailIdentity is SES v2 DeleteEmailIdentity; unlike v1's
// DeleteIdentity, an unknown identity is NotFoundException (SES-BEHAVIOR §5.2).
func (s *Service) DeleteEmailIdentity(ctx context.Context, in *v2wire.DeleteEmailIdentityRequest) (*v2wire.DeleteEmailIdentityResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	existed, err := s.d.Identities.Delete(ctx, acct, in.EmailIdentity)
	if err != nil {
		return nil, wireError(err)
	}
	if !existed {
		name := identity.Normalize(in.EmailIdentity)
		return nil, wireError(fault.Named(fault.NotFound, name, "Email identity %s does not exist.", name))
	}
	return &v2wire.DeleteEmailIdentityResponse{}, nil
}

// PutEmailIdentityDkimAttributes is SES v2 PutEmailIdentityDkimAttributes:
// turn DKIM signing on or off (an absent SigningEnabled is false, as in SES).
func (s *Service) PutEmailIdentityDkimAttributes(ctx context.Context, in *v2wire.PutEmailIdentityDkimAttributesRequest) (*v2wire.PutEmailIdentityDkimAttributesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Identities.SetDkimEnabled(ctx, acct, in.EmailIdentity, deref(in.SigningEnabled)); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutEmailIdentityDkimAttributesResponse{}, nil
}

// PutEmailIdentityDkimSigningAttributes is SES v2
// PutEmailIdentityDkimSigningAttributes: switch a domain to Easy DKIM
// (AWS_SES, optionally with a new key length) or BYODKIM (EXTERNAL).
func (s *Service) PutEmailIdentityDkimSigningAttributes(ctx context.Context, in *v2wire.PutEmailIdentityDkimSigningAttributesRequest) (*v2wire.PutEmailIdentityDkimSigningAttributesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	var o identity.DKIMOptions
	if a := in.SigningAttributes; a != nil {
		o = identity.DKIMOptions{Selector: a.DomainSigningSelector, PrivateKey: a.DomainSigningPrivateKey, NextKeyLength: a.NextSigningKeyLength}
	}
	id, err := s.d.Identities.PutDkimSigningAttributes(ctx, acct, in.EmailIdentity, in.SigningAttributesOrigin, o)
	if err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutEmailIdentityDkimSigningAttributesResponse{DkimStatus: string(id.DKIM.Status), DkimTokens: id.DKIM.Tokens}, nil
}

// PutEmailIdentityMailFromAttributes is SES v2
// PutEmailIdentityMailFromAttributes; an empty MailFromDomain clears the
// custom MAIL FROM domain (SES-BEHAVIOR §5.5).
func (s *Service) PutEmailIdentityMailFromAttributes(ctx context.Context, in *v2wire.PutEmailIdentityMailFromAttributesRequest) (*v2wire.PutEmailIdentityMailFromAttributesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Identities.SetMailFrom(ctx, acct, in.EmailIdentity, in.MailFromDomain, in.BehaviorOnMxFailure); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutEmailIdentityMailFromAttributesResponse{}, nil
}

// PutEmailIdentityFeedbackAttributes is SES v2
// PutEmailIdentityFeedbackAttributes (an absent EmailForwardingEnabled is
// false, as in SES).
func (s *Service) PutEmailIdentityFeedbackAttributes(ctx context.Context, in *v2wire.PutEmailIdentityFeedbackAttributesRequest) (*v2wire.PutEmailIdentityFeedbackAttributesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Identities.SetFeedbackForwarding(ctx, acct, in.EmailIdentity, deref(in.EmailForwardingEnabled)); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutEmailIdentityFeedbackAttributesResponse{}, nil
}

// PutEmailIdentityConfigurationSetAttributes is SES v2
// PutEmailIdentityConfigurationSetAttributes: the identity's default
// configuration set (an empty name clears it).
func (s *Service) PutEmailIdentityConfigurationSetAttributes(ctx context.Context, in *v2wire.PutEmailIdentityConfigurationSetAttributesRequest) (*v2wire.PutEmailIdentityConfigurationSetAttributesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Identities.SetConfigSet(ctx, acct, in.EmailIdentity, in.ConfigurationSetName); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutEmailIdentityConfigurationSetAttributesResponse{}, nil
}

// dkimOut is an identity's DKIM state as v2 DkimAttributes. SES answers
// with an empty token list rather than none; SigningHostedZone is left out
// (Sesame's CNAMEs point into its own zone, not a Route 53 one).
func dkimOut(id *identity.Identity) *v2wire.DkimAttributes {
	d := id.DKIM
	tokens := d.Tokens
	if tokens == nil {
		tokens = []string{}
	}
	return &v2wire.DkimAttributes{
		SigningEnabled:             ptr(d.Enabled),
		Status:                     string(d.Status),
		Tokens:                     tokens,
		SigningAttributesOrigin:    d.Origin,
		NextSigningKeyLength:       d.NextKeyLength,
		CurrentSigningKeyLength:    d.KeyLength,
		LastKeyGenerationTimestamp: timePtr(d.KeyGeneratedAt),
	}
}

func tagsIn(tags []v2wire.Tag) []identity.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]identity.Tag, len(tags))
	for i, t := range tags {
		out[i] = identity.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// tagsOut is never nil: SES answers "Tags": [] for an untagged resource.
func tagsOut(tags []identity.Tag) []v2wire.Tag {
	out := make([]v2wire.Tag, len(tags))
	for i, t := range tags {
		out[i] = v2wire.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}
