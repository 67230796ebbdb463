package restjson_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/restjson"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

// These tests drive the real aws-sdk-go-v2 SESv2 client against a minimal
// REST-JSON adapter built from this codec: the SDK's requests must decode
// into the generated inputs, and our JSON (outputs and errors) must parse
// back into the SDK's own types.

type restServer struct {
	svc    v2wire.Service
	router *restjson.Router
	mu     sync.Mutex
	in     any
}

func (s *restServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const requestID = "5ac1b3f0-0000-4000-8000-000000000002"
	fail := func(err error) {
		var ae *apierr.Error
		if !errors.As(err, &ae) {
			ae = restjson.InternalError()
		}
		restjson.WriteError(w, ae, requestID)
	}
	op, params, ok := s.router.Match(r.Method, r.URL.EscapedPath())
	if !ok {
		if methods := s.router.Methods(r.URL.EscapedPath()); len(methods) > 0 {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			fail(restjson.MethodNotAllowed(r.Method))
			return
		}
		fail(restjson.UnknownOperation())
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(err)
		return
	}
	in, _ := v2wire.NewInput(op.Name)
	if err := restjson.Decode(r, body, op, params, in); err != nil {
		fail(err)
		return
	}
	s.mu.Lock()
	s.in = in
	s.mu.Unlock()
	out, err := v2wire.Invoke(r.Context(), s.svc, op.Name, in)
	if err != nil {
		fail(err)
		return
	}
	if err := restjson.WriteResponse(w, op, out, requestID); err != nil {
		fail(err)
	}
}

func (s *restServer) last() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.in
}

var (
	t0 = time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	t1 = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
)

type fakeSESv2 struct{ v2wire.Unimplemented }

func (fakeSESv2) SendEmail(_ context.Context, in *v2wire.SendEmailRequest) (*v2wire.SendEmailResponse, error) {
	if in.FromEmailAddress == "blocked@example.com" {
		return nil, v2wire.ErrMessageRejected("Email address is not verified.")
	}
	return &v2wire.SendEmailResponse{MessageId: "0100018c-v2-000000"}, nil
}

func (fakeSESv2) GetEmailIdentity(_ context.Context, in *v2wire.GetEmailIdentityRequest) (*v2wire.GetEmailIdentityResponse, error) {
	if strings.HasPrefix(in.EmailIdentity, "missing") {
		return nil, v2wire.ErrNotFound("Email identity " + in.EmailIdentity + " does not exist.")
	}
	return &v2wire.GetEmailIdentityResponse{
		IdentityType:             "EMAIL_ADDRESS",
		FeedbackForwardingStatus: ptr(true),
		VerifiedForSendingStatus: ptr(false),
		DkimAttributes: &v2wire.DkimAttributes{
			SigningEnabled: ptr(true), Status: "SUCCESS", Tokens: []string{"tok1", "tok2"},
			SigningAttributesOrigin: "AWS_SES", LastKeyGenerationTimestamp: &t0,
		},
		MailFromAttributes: &v2wire.MailFromAttributes{MailFromDomain: "bounce.example.com", MailFromDomainStatus: "PENDING", BehaviorOnMxFailure: "USE_DEFAULT_VALUE"},
		Policies:           map[string]string{"p1": `{"Version":"2012-10-17"}`},
		Tags:               []v2wire.Tag{{Key: "team", Value: "mail"}},
		VerificationStatus: "PENDING",
	}, nil
}

func (fakeSESv2) ListSuppressedDestinations(_ context.Context, in *v2wire.ListSuppressedDestinationsRequest) (*v2wire.ListSuppressedDestinationsResponse, error) {
	if in.NextToken == "bad" {
		return nil, v2wire.ErrInvalidNextToken("The token is not valid.")
	}
	return &v2wire.ListSuppressedDestinationsResponse{
		SuppressedDestinationSummaries: []v2wire.SuppressedDestinationSummary{
			{EmailAddress: "b@example.com", Reason: "BOUNCE", LastUpdateTime: &t0},
			{EmailAddress: "c@example.com", Reason: "COMPLAINT", LastUpdateTime: &t1},
		},
		NextToken: "next",
	}, nil
}

func (fakeSESv2) GetAccount(context.Context, *v2wire.GetAccountRequest) (*v2wire.GetAccountResponse, error) {
	return &v2wire.GetAccountResponse{
		EnforcementStatus: "HEALTHY", ProductionAccessEnabled: ptr(false), SendingEnabled: ptr(true),
		SendQuota: &v2wire.SendQuota{Max24HourSend: ptr(200.0), MaxSendRate: ptr(1.5), SentLast24Hours: ptr(0.0)},
	}, nil
}

func (fakeSESv2) DeleteSuppressedDestination(_ context.Context, in *v2wire.DeleteSuppressedDestinationRequest) (*v2wire.DeleteSuppressedDestinationResponse, error) {
	if in.EmailAddress == "slow@example.com" {
		return nil, v2wire.ErrTooManyRequests("Too many requests.")
	}
	return &v2wire.DeleteSuppressedDestinationResponse{}, nil
}

func (fakeSESv2) CreateEmailIdentity(context.Context, *v2wire.CreateEmailIdentityRequest) (*v2wire.CreateEmailIdentityResponse, error) {
	return &v2wire.CreateEmailIdentityResponse{IdentityType: "DOMAIN", VerifiedForSendingStatus: ptr(false),
		DkimAttributes: &v2wire.DkimAttributes{Tokens: []string{}, Status: "NOT_STARTED"}}, nil
}

func (fakeSESv2) PutEmailIdentityDkimAttributes(context.Context, *v2wire.PutEmailIdentityDkimAttributesRequest) (*v2wire.PutEmailIdentityDkimAttributesResponse, error) {
	return nil, nil
}

func (fakeSESv2) ListEmailIdentities(_ context.Context, in *v2wire.ListEmailIdentitiesRequest) (*v2wire.ListEmailIdentitiesResponse, error) {
	if in.NextToken == "" {
		return &v2wire.ListEmailIdentitiesResponse{EmailIdentities: []v2wire.IdentityInfo{
			{IdentityName: "example.com", IdentityType: "DOMAIN", SendingEnabled: ptr(true), VerificationStatus: "SUCCESS"},
		}, NextToken: "p2"}, nil
	}
	return &v2wire.ListEmailIdentitiesResponse{EmailIdentities: []v2wire.IdentityInfo{{IdentityName: "a@example.com", IdentityType: "EMAIL_ADDRESS"}}}, nil
}

func ptr[T any](v T) *T { return &v }

func newSESv2(t *testing.T) (*sesv2.Client, *restServer) {
	t.Helper()
	router, err := restjson.NewRouter(append(v2wire.Operations(), v2wire.RouteAliases()...))
	if err != nil {
		t.Fatal(err)
	}
	rs := &restServer{svc: fakeSESv2{}, router: router}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	client := sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
	return client, rs
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSDKSendEmail(t *testing.T) {
	client, rs := newSESv2(t)
	ctx := testContext(t)
	out, err := client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("sender@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"to@example.com"}, BccAddresses: []string{"bcc1@example.com", "bcc2@example.com"}},
		ReplyToAddresses: []string{"r@example.com"},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String("Hi \"there\" ☃"), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String("text")}},
			Headers: []types.MessageHeader{{Name: aws.String("X-Campaign"), Value: aws.String("spring")}},
			Attachments: []types.Attachment{{
				FileName: aws.String("a.bin"), RawContent: []byte{0, 1, 2, 0xff},
				ContentDisposition: types.AttachmentContentDispositionAttachment,
			}},
		}},
		EmailTags:            []types.MessageTag{{Name: aws.String("k"), Value: aws.String("v")}},
		ConfigurationSetName: aws.String("cs1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.MessageId) != "0100018c-v2-000000" {
		t.Errorf("MessageId %q", aws.ToString(out.MessageId))
	}
	want := &v2wire.SendEmailRequest{
		FromEmailAddress: "sender@example.com",
		Destination:      &v2wire.Destination{ToAddresses: []string{"to@example.com"}, BccAddresses: []string{"bcc1@example.com", "bcc2@example.com"}},
		ReplyToAddresses: []string{"r@example.com"},
		Content: &v2wire.EmailContent{Simple: &v2wire.Message{
			Subject:     &v2wire.Content{Data: "Hi \"there\" ☃", Charset: "UTF-8"},
			Body:        &v2wire.Body{Text: &v2wire.Content{Data: "text"}},
			Headers:     []v2wire.MessageHeader{{Name: "X-Campaign", Value: "spring"}},
			Attachments: []v2wire.Attachment{{FileName: "a.bin", RawContent: []byte{0, 1, 2, 0xff}, ContentDisposition: "ATTACHMENT"}},
		}},
		EmailTags:            []v2wire.MessageTag{{Name: "k", Value: "v"}},
		ConfigurationSetName: "cs1",
	}
	if got := rs.last(); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", got, want)
	}

	raw := []byte("From: a@example.com\r\n\r\n\x00\xfe binary")
	if _, err := client.SendEmail(ctx, &sesv2.SendEmailInput{Content: &types.EmailContent{Raw: &types.RawMessage{Data: raw}}}); err != nil {
		t.Fatal(err)
	}
	if got := rs.last().(*v2wire.SendEmailRequest); string(got.Content.Raw.Data) != string(raw) {
		t.Errorf("raw %q", got.Content.Raw.Data)
	}
}

func TestSDKGetEmailIdentity(t *testing.T) {
	client, rs := newSESv2(t)
	out, err := client.GetEmailIdentity(testContext(t), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("user+tag@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.last().(*v2wire.GetEmailIdentityRequest).EmailIdentity; got != "user+tag@example.com" {
		t.Errorf("path label decoded as %q", got)
	}
	d := out.DkimAttributes
	if out.IdentityType != types.IdentityTypeEmailAddress || !out.FeedbackForwardingStatus || out.VerifiedForSendingStatus ||
		!d.SigningEnabled || d.Status != types.DkimStatusSuccess || !reflect.DeepEqual(d.Tokens, []string{"tok1", "tok2"}) ||
		d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSes || !aws.ToTime(d.LastKeyGenerationTimestamp).Equal(t0) ||
		aws.ToString(out.MailFromAttributes.MailFromDomain) != "bounce.example.com" ||
		out.MailFromAttributes.BehaviorOnMxFailure != types.BehaviorOnMxFailureUseDefaultValue ||
		!reflect.DeepEqual(out.Policies, map[string]string{"p1": `{"Version":"2012-10-17"}`}) ||
		len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "team" || out.VerificationStatus != types.VerificationStatusPending {
		t.Errorf("output %+v dkim %+v", out, d)
	}
}

func TestSDKListSuppressedDestinations(t *testing.T) {
	client, rs := newSESv2(t)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out, err := client.ListSuppressedDestinations(testContext(t), &sesv2.ListSuppressedDestinationsInput{
		Reasons:   []types.SuppressionListReason{types.SuppressionListReasonBounce, types.SuppressionListReasonComplaint},
		StartDate: aws.Time(start),
		EndDate:   aws.Time(t0),
		PageSize:  aws.Int32(50),
		NextToken: aws.String("abc/+="),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &v2wire.ListSuppressedDestinationsRequest{
		Reasons: []string{"BOUNCE", "COMPLAINT"}, StartDate: &start, EndDate: &t0, NextToken: "abc/+=", PageSize: ptr[int64](50),
	}
	if got := rs.last(); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", got, want)
	}
	s := out.SuppressedDestinationSummaries
	if len(s) != 2 || aws.ToString(s[0].EmailAddress) != "b@example.com" || s[0].Reason != types.SuppressionListReasonBounce ||
		!aws.ToTime(s[0].LastUpdateTime).Equal(t0) || !aws.ToTime(s[1].LastUpdateTime).Equal(t1) || aws.ToString(out.NextToken) != "next" {
		t.Errorf("output %+v", s)
	}
}

func TestSDKNumbersBooleansAndEmptyOutputs(t *testing.T) {
	client, rs := newSESv2(t)
	ctx := testContext(t)
	acct, err := client.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	q := acct.SendQuota
	if q.Max24HourSend != 200 || q.MaxSendRate != 1.5 || q.SentLast24Hours != 0 || !acct.SendingEnabled || acct.ProductionAccessEnabled ||
		aws.ToString(acct.EnforcementStatus) != "HEALTHY" {
		t.Errorf("account %+v quota %+v", acct, q)
	}
	if _, err := client.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{
		EmailIdentity: aws.String("example.com"), SigningEnabled: true}); err != nil {
		t.Fatal(err)
	}
	in := rs.last().(*v2wire.PutEmailIdentityDkimAttributesRequest)
	if in.EmailIdentity != "example.com" || in.SigningEnabled == nil || !*in.SigningEnabled {
		t.Errorf("decoded %#v", in)
	}
	created, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("example.com"),
		Tags:          []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}},
		DkimSigningAttributes: &types.DkimSigningAttributes{
			NextSigningKeyLength: types.DkimSigningKeyLengthRsa2048Bit,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.IdentityType != types.IdentityTypeDomain || created.DkimAttributes.Status != types.DkimStatusNotStarted ||
		created.DkimAttributes.Tokens == nil {
		t.Errorf("created %+v %+v", created, created.DkimAttributes)
	}
	ci := rs.last().(*v2wire.CreateEmailIdentityRequest)
	if ci.DkimSigningAttributes.NextSigningKeyLength != "RSA_2048_BIT" || !reflect.DeepEqual(ci.Tags, []v2wire.Tag{{Key: "a", Value: "b"}}) {
		t.Errorf("decoded %#v", ci)
	}
}

// TestSDKListEmailIdentities pages through the POST route the SDK uses (not
// the model's GET route; see v2wire.RouteAliases).
func TestSDKListEmailIdentities(t *testing.T) {
	client, rs := newSESv2(t)
	ctx := testContext(t)
	p := sesv2.NewListEmailIdentitiesPaginator(client, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(1)})
	var names []string
	for pages := 0; p.HasMorePages(); pages++ {
		if pages > 5 {
			t.Fatal("paginator does not stop")
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range page.EmailIdentities {
			names = append(names, aws.ToString(id.IdentityName))
		}
	}
	if !reflect.DeepEqual(names, []string{"example.com", "a@example.com"}) {
		t.Errorf("identities %v", names)
	}
	want := &v2wire.ListEmailIdentitiesRequest{NextToken: "p2", PageSize: ptr[int64](1)}
	if got := rs.last(); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %#v", got)
	}
}

func TestSDKTypedErrors(t *testing.T) {
	client, _ := newSESv2(t)
	ctx := testContext(t)

	_, err := client.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("missing@example.com")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Email identity missing@example.com does not exist." {
		t.Errorf("GetEmailIdentity: %v", err)
	}

	_, err = client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("blocked@example.com"),
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: []byte("x")}},
	})
	var rejected *types.MessageRejected
	if !errors.As(err, &rejected) {
		t.Errorf("SendEmail: %v", err)
	}

	_, err = client.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("slow@example.com")})
	var tooMany *types.TooManyRequestsException
	if !errors.As(err, &tooMany) {
		t.Errorf("DeleteSuppressedDestination: %v", err)
	}

	_, err = client.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{NextToken: aws.String("bad")})
	var badToken *types.InvalidNextTokenException
	if !errors.As(err, &badToken) {
		t.Errorf("ListSuppressedDestinations: %v", err)
	}

	// Not implemented by the fake: the modelled BadRequestException.
	_, err = client.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{})
	var bad *types.BadRequestException
	if !errors.As(err, &bad) || bad.ErrorMessage() != "Operation ListEmailTemplates is not implemented by Sesame yet." {
		t.Errorf("ListEmailTemplates: %v", err)
	}

	// Constraints the SDK does not check client-side: AWS's validation text.
	_, err = client.CreateEmailIdentityPolicy(ctx, &sesv2.CreateEmailIdentityPolicyInput{
		EmailIdentity: aws.String("example.com"), PolicyName: aws.String(strings.Repeat("p", 65)), Policy: aws.String("{}")})
	if !errors.As(err, &bad) || bad.ErrorMessage() != "1 validation error detected: Value '"+strings.Repeat("p", 65)+
		"' at 'policyName' failed to satisfy constraint: Member must have length less than or equal to 64" {
		t.Errorf("CreateEmailIdentityPolicy: %v", err)
	}
	_, err = client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("example.com"),
		DkimSigningAttributes: &types.DkimSigningAttributes{
			DomainSigningPrivateKey: aws.String(strings.Repeat("A", 20484)), // sensitive: not echoed
			NextSigningKeyLength:    "RSA_4096_BIT",
		},
	})
	if !errors.As(err, &bad) || bad.ErrorMessage() != "2 validation errors detected: "+
		"Value at 'dkimSigningAttributes.domainSigningPrivateKey' failed to satisfy constraint: Member must have length less than or equal to 20480; "+
		"Value 'RSA_4096_BIT' at 'dkimSigningAttributes.nextSigningKeyLength' failed to satisfy constraint: Member must satisfy enum value set: [RSA_1024_BIT, RSA_2048_BIT]" {
		t.Errorf("CreateEmailIdentity: %v", err)
	}
}
