package sesv1

import (
	"context"
	"encoding/base64"

	"github.com/sesamehq/sesame/internal/api/awsquery"
	"github.com/sesamehq/sesame/internal/api/v1wire"
	"github.com/sesamehq/sesame/internal/identity"
)

// maxIdentitiesPerCall is SES's limit for the Get*Attributes operations.
const maxIdentitiesPerCall = 100

func (s *Service) VerifyEmailIdentity(ctx context.Context, in *v1wire.VerifyEmailIdentityRequest) (*v1wire.VerifyEmailIdentityResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Identities.VerifyEmail(ctx, acct, in.EmailAddress); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.VerifyEmailIdentityResponse{}, nil
}

func (s *Service) VerifyEmailAddress(ctx context.Context, in *v1wire.VerifyEmailAddressRequest) (*v1wire.VerifyEmailAddressOutput, error) {
	_, err := s.VerifyEmailIdentity(ctx, &v1wire.VerifyEmailIdentityRequest{EmailAddress: in.EmailAddress})
	return &v1wire.VerifyEmailAddressOutput{}, err
}

func (s *Service) VerifyDomainIdentity(ctx context.Context, in *v1wire.VerifyDomainIdentityRequest) (*v1wire.VerifyDomainIdentityResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	token, err := s.Identities.VerifyDomainIdentity(ctx, acct, in.Domain)
	if err != nil {
		return nil, wireError(err)
	}
	return &v1wire.VerifyDomainIdentityResponse{VerificationToken: token}, nil
}

func (s *Service) VerifyDomainDkim(ctx context.Context, in *v1wire.VerifyDomainDkimRequest) (*v1wire.VerifyDomainDkimResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	tokens, err := s.Identities.VerifyDomainDkim(ctx, acct, in.Domain)
	if err != nil {
		return nil, wireError(err)
	}
	return &v1wire.VerifyDomainDkimResponse{DkimTokens: tokens}, nil
}

// v1 type names of identity kinds.
var kindNames = map[string]identity.Kind{"EmailAddress": identity.EmailAddress, "Domain": identity.Domain}

func (s *Service) ListIdentities(ctx context.Context, in *v1wire.ListIdentitiesRequest) (*v1wire.ListIdentitiesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.MaxItems, 1000, 1000)
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	ids, next, err := s.Identities.List(ctx, acct, kindNames[in.IdentityType], after, limit)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v1wire.ListIdentitiesResponse{Identities: make([]string, len(ids)), NextToken: encodeToken(next)}
	for i, id := range ids {
		out.Identities[i] = id.Name
	}
	return out, nil
}

func (s *Service) ListVerifiedEmailAddresses(ctx context.Context, _ *v1wire.ListVerifiedEmailAddressesInput) (*v1wire.ListVerifiedEmailAddressesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	out := &v1wire.ListVerifiedEmailAddressesResponse{VerifiedEmailAddresses: []string{}}
	after := ""
	for {
		ids, next, err := s.Identities.List(ctx, acct, identity.EmailAddress, after, 1000)
		if err != nil {
			return nil, wireError(err)
		}
		for _, id := range ids {
			if id.VerifiedForSending() {
				out.VerifiedEmailAddresses = append(out.VerifiedEmailAddresses, id.Name)
			}
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// lookupAll returns the identities that exist among names, keyed by the name
// as asked: SES omits unknown identities from these maps (§5.3).
func (s *Service) lookupAll(ctx context.Context, names []string) (map[string]*identity.Identity, error) {
	if len(names) > maxIdentitiesPerCall {
		return nil, awsquery.InvalidParameterValue("You can request attributes for up to 100 identities at a time.")
	}
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	found := make(map[string]*identity.Identity, len(names))
	for _, n := range names {
		id, err := s.Identities.Lookup(ctx, acct, n)
		if err != nil {
			return nil, wireError(err)
		}
		if id != nil {
			found[n] = id
		}
	}
	return found, nil
}

func (s *Service) GetIdentityVerificationAttributes(ctx context.Context, in *v1wire.GetIdentityVerificationAttributesRequest) (*v1wire.GetIdentityVerificationAttributesResponse, error) {
	found, err := s.lookupAll(ctx, in.Identities)
	if err != nil {
		return nil, err
	}
	out := &v1wire.GetIdentityVerificationAttributesResponse{VerificationAttributes: map[string]v1wire.IdentityVerificationAttributes{}}
	for name, id := range found {
		out.VerificationAttributes[name] = v1wire.IdentityVerificationAttributes{VerificationStatus: id.Status.V1(), VerificationToken: id.VerificationToken}
	}
	return out, nil
}

func (s *Service) GetIdentityDkimAttributes(ctx context.Context, in *v1wire.GetIdentityDkimAttributesRequest) (*v1wire.GetIdentityDkimAttributesResponse, error) {
	found, err := s.lookupAll(ctx, in.Identities)
	if err != nil {
		return nil, err
	}
	acct, _ := accountOf(ctx)
	out := &v1wire.GetIdentityDkimAttributesResponse{DkimAttributes: map[string]v1wire.IdentityDkimAttributes{}}
	for name, id := range found {
		dkim := id.DKIM
		if id.Kind == identity.EmailAddress {
			// An address reports its domain's DKIM (§5.3).
			if parent, err := s.Identities.Lookup(ctx, acct, identity.DomainOf(id.Name)); err == nil && parent != nil {
				dkim.Status, dkim.Tokens = parent.DKIM.Status, nil
			}
		}
		enabled := dkim.Enabled && (dkim.Origin != "" || id.Kind == identity.EmailAddress)
		attrs := v1wire.IdentityDkimAttributes{DkimEnabled: &enabled, DkimVerificationStatus: dkim.Status.V1()}
		if dkim.Origin == identity.OriginAWSSES {
			attrs.DkimTokens = dkim.Tokens
		}
		out.DkimAttributes[name] = attrs
	}
	return out, nil
}

func (s *Service) SetIdentityDkimEnabled(ctx context.Context, in *v1wire.SetIdentityDkimEnabledRequest) (*v1wire.SetIdentityDkimEnabledResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Identities.SetDkimEnabled(ctx, acct, in.Identity, *in.DkimEnabled); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.SetIdentityDkimEnabledResponse{}, nil
}

func (s *Service) SetIdentityFeedbackForwardingEnabled(ctx context.Context, in *v1wire.SetIdentityFeedbackForwardingEnabledRequest) (*v1wire.SetIdentityFeedbackForwardingEnabledResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Identities.SetForwardingWithTopics(ctx, acct, in.Identity, *in.ForwardingEnabled); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.SetIdentityFeedbackForwardingEnabledResponse{}, nil
}

func (s *Service) DeleteIdentity(ctx context.Context, in *v1wire.DeleteIdentityRequest) (*v1wire.DeleteIdentityResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	// Deleting an unknown identity succeeds in v1 (§5.2).
	if _, err := s.Identities.Delete(ctx, acct, in.Identity); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.DeleteIdentityResponse{}, nil
}

func (s *Service) DeleteVerifiedEmailAddress(ctx context.Context, in *v1wire.DeleteVerifiedEmailAddressRequest) (*v1wire.DeleteVerifiedEmailAddressOutput, error) {
	_, err := s.DeleteIdentity(ctx, &v1wire.DeleteIdentityRequest{Identity: in.EmailAddress})
	return &v1wire.DeleteVerifiedEmailAddressOutput{}, err
}

// v1 and v2 spellings of the MAIL FROM failure behaviour.
var (
	behaviorToDomain = map[string]string{"UseDefaultValue": identity.UseDefaultValue, "RejectMessage": identity.RejectMessage}
	behaviorToV1     = map[string]string{identity.UseDefaultValue: "UseDefaultValue", identity.RejectMessage: "RejectMessage"}
)

func (s *Service) SetIdentityMailFromDomain(ctx context.Context, in *v1wire.SetIdentityMailFromDomainRequest) (*v1wire.SetIdentityMailFromDomainResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Identities.SetMailFrom(ctx, acct, in.Identity, in.MailFromDomain, behaviorToDomain[in.BehaviorOnMXFailure]); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.SetIdentityMailFromDomainResponse{}, nil
}

func (s *Service) GetIdentityMailFromDomainAttributes(ctx context.Context, in *v1wire.GetIdentityMailFromDomainAttributesRequest) (*v1wire.GetIdentityMailFromDomainAttributesResponse, error) {
	found, err := s.lookupAll(ctx, in.Identities)
	if err != nil {
		return nil, err
	}
	out := &v1wire.GetIdentityMailFromDomainAttributesResponse{MailFromDomainAttributes: map[string]v1wire.IdentityMailFromDomainAttributes{}}
	for name, id := range found {
		mf := id.MailFrom
		status := ""
		if mf.Domain != "" {
			status = mf.Status.V1()
		}
		out.MailFromDomainAttributes[name] = v1wire.IdentityMailFromDomainAttributes{
			MailFromDomain: mf.Domain, MailFromDomainStatus: status, BehaviorOnMXFailure: behaviorToV1[mf.Behavior]}
	}
	return out, nil
}

// pageSize applies a page-size parameter's default and maximum.
func pageSize(p *int64, def, maxSize int) int {
	if p == nil || *p <= 0 {
		return def
	}
	return min(int(*p), maxSize)
}

// Pagination tokens are opaque: base64 of the last name returned.
func encodeToken(last string) string {
	if last == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(last))
}

func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 {
		return "", awsquery.InvalidParameterValue("Invalid NextToken.")
	}
	return string(b), nil
}
