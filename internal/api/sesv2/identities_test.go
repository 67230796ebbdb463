package sesv2_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

var tokenRE = regexp.MustCompile(`^[a-z0-9]{32}$`)

// TestEasyDKIMDomain follows a domain from CreateEmailIdentity to verified:
// three tokens, CNAMEs published, GetEmailIdentity turning SUCCESS.
func TestEasyDKIMDomain(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	const domain = "easy.example.com"
	created, err := s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity:        aws.String(domain),
		Tags:                 []types.Tag{{Key: aws.String("team"), Value: aws.String("mail")}},
		ConfigurationSetName: aws.String("default-set"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.IdentityType != types.IdentityTypeDomain || created.VerifiedForSendingStatus {
		t.Errorf("created: type %s, verified %v; want DOMAIN, false", created.IdentityType, created.VerifiedForSendingStatus)
	}
	d := created.DkimAttributes
	if d == nil {
		t.Fatal("no DkimAttributes")
	}
	if len(d.Tokens) != 3 {
		t.Fatalf("tokens %q, want 3", d.Tokens)
	}
	for _, tok := range d.Tokens {
		if !tokenRE.MatchString(tok) {
			t.Errorf("token %q is not 32 lower-case alphanumerics", tok)
		}
	}
	if d.Status != types.DkimStatusPending || d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSes ||
		d.CurrentSigningKeyLength != types.DkimSigningKeyLengthRsa2048Bit || d.NextSigningKeyLength != types.DkimSigningKeyLengthRsa2048Bit ||
		!d.SigningEnabled || d.LastKeyGenerationTimestamp == nil {
		t.Errorf("created DkimAttributes = %+v", *d)
	}
	if bits := zoneKeyBits(t, s, d.Tokens[0]); bits != 2048 {
		t.Errorf("published key is %d bits, want 2048", bits)
	}

	got := getIdentity(t, s, domain)
	if got.VerificationStatus != types.VerificationStatusPending || got.VerifiedForSendingStatus {
		t.Errorf("before DNS: status %s, verified %v", got.VerificationStatus, got.VerifiedForSendingStatus)
	}
	if got.ConfigurationSetName == nil || *got.ConfigurationSetName != "default-set" {
		t.Errorf("ConfigurationSetName = %v, want default-set", got.ConfigurationSetName)
	}
	if len(got.Tags) != 1 || aws.ToString(got.Tags[0].Key) != "team" || aws.ToString(got.Tags[0].Value) != "mail" {
		t.Errorf("Tags = %+v", got.Tags)
	}
	if got.Policies == nil || len(got.Policies) != 0 {
		t.Errorf("Policies = %v, want an empty map", got.Policies)
	}
	if !got.FeedbackForwardingStatus {
		t.Error("feedback forwarding is off on a new identity")
	}
	if m := got.MailFromAttributes; m == nil || m.BehaviorOnMxFailure != types.BehaviorOnMxFailureUseDefaultValue || m.MailFromDomain != nil {
		t.Errorf("MailFromAttributes = %+v", m)
	}

	// Published records make the domain verified (a bounded poll).
	publishCNAMEs(s, domain, d.Tokens)
	start := time.Now()
	got = s.WaitVerified(t, domain)
	if got.DkimAttributes.Status != types.DkimStatusSuccess || !got.VerifiedForSendingStatus {
		t.Errorf("after DNS: DKIM %s, verified %v", got.DkimAttributes.Status, got.VerifiedForSendingStatus)
	}
	if !slices.Equal(got.DkimAttributes.Tokens, d.Tokens) {
		t.Errorf("tokens changed: %q → %q", d.Tokens, got.DkimAttributes.Tokens)
	}
	vi := got.VerificationInfo
	if vi == nil || vi.LastCheckedTimestamp == nil || vi.LastSuccessTimestamp == nil || vi.ErrorType != "" {
		t.Fatalf("VerificationInfo = %+v", vi)
	}
	if ls := *vi.LastSuccessTimestamp; ls.Before(start.Add(-time.Second)) || ls.After(time.Now().Add(time.Second)) {
		t.Errorf("LastSuccessTimestamp %v is not around now", ls)
	}

	_, err = s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("EASY.example.com")})
	wantError[*types.AlreadyExistsException](t, err, 400, "")
}

// TestVerificationErrorInfo: a wrong CNAME is reported in VerificationInfo.
func TestVerificationErrorInfo(t *testing.T) {
	s := stack.Start(t)
	const domain = "wrong.example.com"
	out, err := s.SESv2.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{
		EmailIdentity:         aws.String(domain),
		DkimSigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa1024Bit},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range out.DkimAttributes.Tokens {
		s.DNS.AddCNAME(tok+"._domainkey."+domain, "elsewhere.example.net")
	}
	eventually(t, 15*time.Second, func() (bool, string) {
		got := getIdentity(t, s, domain)
		vi := got.VerificationInfo
		if vi == nil || vi.ErrorType != types.VerificationErrorInvalidValue {
			return false, fmt.Sprintf("VerificationInfo = %+v", vi)
		}
		return got.VerificationStatus == types.VerificationStatusPending && !got.VerifiedForSendingStatus, "status " + string(got.VerificationStatus)
	})
}

// TestEasyDKIM1024: NextSigningKeyLength RSA_1024_BIT makes 1024-bit keys.
func TestEasyDKIM1024(t *testing.T) {
	s := stack.Start(t)
	tokens := verifyDomain1024(t, s, "short.example.com")
	got := getIdentity(t, s, "short.example.com")
	if got.DkimAttributes.CurrentSigningKeyLength != types.DkimSigningKeyLengthRsa1024Bit {
		t.Errorf("CurrentSigningKeyLength = %s", got.DkimAttributes.CurrentSigningKeyLength)
	}
	for _, tok := range tokens {
		if bits := zoneKeyBits(t, s, tok); bits != 1024 {
			t.Errorf("key under %s is %d bits, want 1024", tok, bits)
		}
	}
}

// TestBYODKIM: a domain with the caller's own key is verified by its TXT
// record; a key that is not one is refused.
func TestBYODKIM(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	const domain, selector = "byo.example.com", "sesame1"
	out, err := s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String(domain),
		DkimSigningAttributes: &types.DkimSigningAttributes{
			DomainSigningSelector:   aws.String(selector),
			DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(key))),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := out.DkimAttributes
	if d.SigningAttributesOrigin != types.DkimSigningAttributesOriginExternal || !slices.Equal(d.Tokens, []string{selector}) || d.Status != types.DkimStatusPending {
		t.Errorf("DkimAttributes = %+v", *d)
	}
	s.DNS.AddTXT(selector+"._domainkey."+domain, publicKeyRecord(t, key))
	got := s.WaitVerified(t, domain)
	if got.DkimAttributes.Status != types.DkimStatusSuccess || got.DkimAttributes.SigningAttributesOrigin != types.DkimSigningAttributesOriginExternal {
		t.Errorf("after DNS: %+v", *got.DkimAttributes)
	}

	_, err = s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("bad-key.example.com"),
		DkimSigningAttributes: &types.DkimSigningAttributes{
			DomainSigningSelector:   aws.String(selector),
			DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString([]byte("not a key"))),
		},
	})
	if e := wantError[*types.BadRequestException](t, err, 400, ""); !strings.HasPrefix(e.ErrorMessage(), "Invalid DomainSigningPrivateKey: ") {
		t.Errorf("message %q does not say the key is invalid", e.ErrorMessage())
	}
	if _, err := s.SESv2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("bad-key.example.com")}); err == nil {
		t.Error("a refused identity was created")
	}
}

// TestDkimSigningAttributes switches a domain from Easy DKIM to BYODKIM and
// back, and turns signing off and on.
func TestDkimSigningAttributes(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	const domain = "switch.example.com"
	easy := verifyDomain1024(t, s, domain)

	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := s.SESv2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity:           aws.String(domain),
		SigningAttributesOrigin: types.DkimSigningAttributesOriginExternal,
		SigningAttributes: &types.DkimSigningAttributes{
			DomainSigningSelector:   aws.String("ext"),
			DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(key))),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ext.DkimStatus != types.DkimStatusPending || !slices.Equal(ext.DkimTokens, []string{"ext"}) {
		t.Errorf("EXTERNAL: status %s, tokens %q", ext.DkimStatus, ext.DkimTokens)
	}
	if got := getIdentity(t, s, domain); got.DkimAttributes.SigningAttributesOrigin != types.DkimSigningAttributesOriginExternal {
		t.Errorf("origin after switch = %s", got.DkimAttributes.SigningAttributesOrigin)
	}

	back, err := s.SESv2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity:           aws.String(domain),
		SigningAttributesOrigin: types.DkimSigningAttributesOriginAwsSes,
		SigningAttributes:       &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa1024Bit},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(back.DkimTokens) != 3 || slices.Equal(back.DkimTokens, easy) {
		t.Errorf("AWS_SES again: tokens %q (before %q), want 3 new ones", back.DkimTokens, easy)
	}
	if back.DkimStatus != types.DkimStatusPending {
		t.Errorf("AWS_SES again: status %s", back.DkimStatus)
	}

	_, err = s.SESv2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity:           aws.String("nobody.example.com"),
		SigningAttributesOrigin: types.DkimSigningAttributesOriginAwsSes,
	})
	wantError[*types.NotFoundException](t, err, 404, "Email identity nobody.example.com does not exist.")

	for _, on := range []bool{false, true} {
		if _, err := s.SESv2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{
			EmailIdentity: aws.String(domain), SigningEnabled: on,
		}); err != nil {
			t.Fatal(err)
		}
		if got := getIdentity(t, s, domain).DkimAttributes.SigningEnabled; got != on {
			t.Errorf("SigningEnabled = %v after setting %v", got, on)
		}
	}
}

// TestEmailIdentity: an address stays PENDING until its link is followed.
func TestEmailIdentity(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	const addr = "Alice@Example.com"
	before := len(s.Sink.Messages())
	out, err := s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil {
		t.Fatal(err)
	}
	if out.IdentityType != types.IdentityTypeEmailAddress || out.VerifiedForSendingStatus {
		t.Errorf("created: %s, verified %v", out.IdentityType, out.VerifiedForSendingStatus)
	}
	link := s.VerificationLink(t, "alice@example.com", before)
	got := getIdentity(t, s, "alice@example.com")
	if got.VerificationStatus != types.VerificationStatusPending || got.VerifiedForSendingStatus {
		t.Errorf("before the link: %s, verified %v", got.VerificationStatus, got.VerifiedForSendingStatus)
	}

	resp, err := noRedirects().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("following the link: %s", resp.Status)
	}
	got = getIdentity(t, s, addr) // the name is case-insensitive
	if got.VerificationStatus != types.VerificationStatusSuccess || !got.VerifiedForSendingStatus || got.IdentityType != types.IdentityTypeEmailAddress {
		t.Errorf("after the link: %s, verified %v", got.VerificationStatus, got.VerifiedForSendingStatus)
	}

	_, err = s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)})
	wantError[*types.AlreadyExistsException](t, err, 400, "")

	_, err = s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("bad@@example.com")})
	wantError[*types.BadRequestException](t, err, 400, "Invalid email address <bad@@example.com>.")
}

// TestIdentityNotFoundAndDelete: unknown identities are NotFoundException
// (404) for every operation on one; a deleted identity is gone.
func TestIdentityNotFoundAndDelete(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	const missing = "ghost@example.com"
	const msg = "Email identity ghost@example.com does not exist."
	calls := map[string]func() error{
		"Get": func() error {
			_, err := s.SESv2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(missing)})
			return err
		},
		"Delete": func() error {
			_, err := s.SESv2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(missing)})
			return err
		},
		"Dkim": func() error {
			_, err := s.SESv2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: aws.String(missing)})
			return err
		},
		"Feedback": func() error {
			_, err := s.SESv2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: aws.String(missing)})
			return err
		},
		"MailFrom": func() error {
			_, err := s.SESv2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String(missing)})
			return err
		},
		"ConfigSet": func() error {
			_, err := s.SESv2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: aws.String(missing)})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantError[*types.NotFoundException](t, call(), 404, msg) })
	}

	if _, err := s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("gone@example.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SESv2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("gone@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err := s.SESv2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("gone@example.com")})
	wantError[*types.NotFoundException](t, err, 404, "Email identity gone@example.com does not exist.")
}

// TestIdentityAttributes: feedback forwarding, the default configuration set
// and the custom MAIL FROM domain, as GetEmailIdentity reports them.
func TestIdentityAttributes(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	const domain = "attrs.example.com"
	verifyDomain1024(t, s, domain)

	if _, err := s.SESv2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{
		EmailIdentity: aws.String(domain), EmailForwardingEnabled: false,
	}); err != nil {
		t.Fatal(err)
	}
	if getIdentity(t, s, domain).FeedbackForwardingStatus {
		t.Error("feedback forwarding still on")
	}

	if _, err := s.SESv2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{
		EmailIdentity: aws.String(domain), ConfigurationSetName: aws.String("transactional"),
	}); err != nil {
		t.Fatal(err)
	}
	if got := getIdentity(t, s, domain).ConfigurationSetName; aws.ToString(got) != "transactional" {
		t.Errorf("ConfigurationSetName = %v", got)
	}
	if _, err := s.SESv2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{
		EmailIdentity: aws.String(domain),
	}); err != nil {
		t.Fatal(err)
	}
	if got := getIdentity(t, s, domain).ConfigurationSetName; got != nil {
		t.Errorf("ConfigurationSetName = %q after clearing", *got)
	}

	_, err := s.SESv2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
		EmailIdentity: aws.String(domain), MailFromDomain: aws.String("bounce.other.org"),
	})
	wantError[*types.BadRequestException](t, err, 400, "Custom MAIL FROM domain bounce.other.org must be a subdomain of attrs.example.com.")

	const mailFrom = "bounce." + domain
	if _, err := s.SESv2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{
		EmailIdentity: aws.String(domain), MailFromDomain: aws.String(mailFrom), BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage,
	}); err != nil {
		t.Fatal(err)
	}
	m := getIdentity(t, s, domain).MailFromAttributes
	if aws.ToString(m.MailFromDomain) != mailFrom || m.MailFromDomainStatus != types.MailFromDomainStatusPending || m.BehaviorOnMxFailure != types.BehaviorOnMxFailureRejectMessage {
		t.Errorf("MailFromAttributes = {%v %s %s}", aws.ToString(m.MailFromDomain), m.MailFromDomainStatus, m.BehaviorOnMxFailure)
	}
	s.DNS.AddMX(mailFrom, 10, stack.Hostname)
	eventually(t, 30*time.Second, func() (bool, string) {
		st := getIdentity(t, s, domain).MailFromAttributes.MailFromDomainStatus
		return st == types.MailFromDomainStatusSuccess, "MAIL FROM status " + string(st)
	})
}

// TestListEmailIdentities pages through five identities two at a time.
func TestListEmailIdentities(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("user%d@list.example.com", i)
		if _, err := s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	var got []string
	var sizes []int
	var token *string
	for page := 0; ; page++ {
		if page == 10 {
			t.Fatal("pagination does not end")
		}
		out, err := s.SESv2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(out.EmailIdentities))
		for _, e := range out.EmailIdentities {
			got = append(got, aws.ToString(e.IdentityName))
			if e.IdentityType != types.IdentityTypeEmailAddress || e.SendingEnabled || e.VerificationStatus != types.VerificationStatusPending {
				t.Errorf("%s: type %s, sending %v, status %s", aws.ToString(e.IdentityName), e.IdentityType, e.SendingEnabled, e.VerificationStatus)
			}
		}
		if out.NextToken == nil {
			break
		}
		if strings.Contains(*out.NextToken, "@") {
			t.Errorf("NextToken %q shows an identity name", *out.NextToken)
		}
		token = out.NextToken
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) {
		t.Errorf("page sizes %v, want [2 2 1]", sizes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("identities %q, want %q", got, want)
	}

	// The SDK's paginator sees the same list.
	var all []string
	p := sesv2.NewListEmailIdentitiesPaginator(s.SESv2, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(3)})
	for i := 0; p.HasMorePages() && i < 10; i++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.EmailIdentities {
			all = append(all, aws.ToString(e.IdentityName))
		}
	}
	if !slices.Equal(all, want) {
		t.Errorf("paginator: %q", all)
	}

	_, err := s.SESv2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{NextToken: aws.String("%%not-a-token")})
	wantError[*types.BadRequestException](t, err, 400, "Invalid NextToken.")
	_, err = s.SESv2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(1001)})
	wantError[*types.BadRequestException](t, err, 400, "PageSize must be between 0 and 1000.")
}

// zoneKeyBits returns the size of the public key Sesame's DKIM zone
// publishes under an Easy DKIM token.
func zoneKeyBits(t testing.TB, s *stack.Stack, token string) int {
	t.Helper()
	rec, ok, err := s.App.Identities.ZoneTXT(context.Background(), token)
	if err != nil || !ok {
		t.Fatalf("no DKIM zone record for %s: %v", token, err)
	}
	_, p, found := strings.Cut(rec, "p=")
	if !found {
		t.Fatalf("record %q has no p=", rec)
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return pub.(*rsa.PublicKey).N.BitLen()
}

func publicKeyRecord(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
}
