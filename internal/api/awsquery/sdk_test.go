package awsquery_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsquery"
	"github.com/sesamehq/sesame/internal/api/v1wire"
)

// These tests drive the real aws-sdk-go-v2 SES client against a minimal
// Query adapter built from this codec, proving wire compatibility both ways:
// the SDK's requests decode into the generated inputs, and our XML (outputs
// and errors) parses back into the SDK's own types.

// queryServer is the smallest honest v1 adapter: parse, resolve, decode,
// invoke, encode. It records the last decoded input.
type queryServer struct {
	svc v1wire.Service
	mu  sync.Mutex
	in  any
}

func (s *queryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const requestID = "5ac1b3f0-0000-4000-8000-000000000001"
	fail := func(err error) {
		var ae *apierr.Error
		if !errors.As(err, &ae) {
			ae = awsquery.InternalFailure()
		}
		awsquery.WriteError(w, ae, requestID)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(err)
		return
	}
	form, err := awsquery.ParseForm(r, body)
	if err != nil {
		fail(err)
		return
	}
	op, err := awsquery.Resolve(form, v1wire.LookupOperation)
	if err != nil {
		fail(err)
		return
	}
	in, _ := v1wire.NewInput(op.Name)
	if err := awsquery.Decode(form, in); err != nil {
		fail(err)
		return
	}
	s.mu.Lock()
	s.in = in
	s.mu.Unlock()
	out, err := v1wire.Invoke(r.Context(), s.svc, op.Name, in)
	if err != nil {
		fail(err)
		return
	}
	if err := awsquery.WriteResponse(w, op, out, requestID); err != nil {
		fail(err)
	}
}

func (s *queryServer) last() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.in
}

var (
	t0 = time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	t1 = time.Date(2024, 1, 2, 3, 19, 5, 0, time.UTC)
)

// fakeSES answers with fixed outputs, or modelled errors for magic inputs.
type fakeSES struct{ v1wire.Unimplemented }

func (fakeSES) SendEmail(_ context.Context, in *v1wire.SendEmailRequest) (*v1wire.SendEmailResponse, error) {
	if in.Source == "blocked@example.com" {
		return nil, v1wire.ErrMessageRejected("Email address is not verified. The following identities failed the check in region US-EAST-1: blocked@example.com")
	}
	return &v1wire.SendEmailResponse{MessageId: "0100018c-abc-000000"}, nil
}

func (fakeSES) SendRawEmail(context.Context, *v1wire.SendRawEmailRequest) (*v1wire.SendRawEmailResponse, error) {
	return &v1wire.SendRawEmailResponse{MessageId: "raw-1"}, nil
}

func (fakeSES) ListIdentities(_ context.Context, in *v1wire.ListIdentitiesRequest) (*v1wire.ListIdentitiesResponse, error) {
	if in.NextToken == "" {
		return &v1wire.ListIdentitiesResponse{Identities: []string{"a@example.com", "example.com"}, NextToken: "tok2"}, nil
	}
	return &v1wire.ListIdentitiesResponse{}, nil // nil required list: sent as <Identities/>
}

func (fakeSES) GetIdentityVerificationAttributes(context.Context, *v1wire.GetIdentityVerificationAttributesRequest) (*v1wire.GetIdentityVerificationAttributesResponse, error) {
	return &v1wire.GetIdentityVerificationAttributesResponse{VerificationAttributes: map[string]v1wire.IdentityVerificationAttributes{
		"example.com":   {VerificationStatus: "Pending", VerificationToken: "tok<&>"},
		"a@example.com": {VerificationStatus: "Success"},
	}}, nil
}

func (fakeSES) GetIdentityPolicies(context.Context, *v1wire.GetIdentityPoliciesRequest) (*v1wire.GetIdentityPoliciesResponse, error) {
	return &v1wire.GetIdentityPoliciesResponse{Policies: map[string]string{"p1": `{"Version":"2012-10-17"}`}}, nil
}

func (fakeSES) GetSendStatistics(context.Context, *v1wire.GetSendStatisticsInput) (*v1wire.GetSendStatisticsResponse, error) {
	return &v1wire.GetSendStatisticsResponse{SendDataPoints: []v1wire.SendDataPoint{
		{Timestamp: &t0, DeliveryAttempts: ptr[int64](10), Bounces: ptr[int64](1), Complaints: ptr[int64](0), Rejects: ptr[int64](2)},
		{Timestamp: &t1, DeliveryAttempts: ptr[int64](3)},
	}}, nil
}

func (fakeSES) GetSendQuota(context.Context, *v1wire.GetSendQuotaInput) (*v1wire.GetSendQuotaResponse, error) {
	return &v1wire.GetSendQuotaResponse{Max24HourSend: ptr(200.0), MaxSendRate: ptr(1.5), SentLast24Hours: ptr(0.0)}, nil
}

func (fakeSES) SetIdentityDkimEnabled(context.Context, *v1wire.SetIdentityDkimEnabledRequest) (*v1wire.SetIdentityDkimEnabledResponse, error) {
	return &v1wire.SetIdentityDkimEnabledResponse{}, nil
}

func (fakeSES) VerifyEmailAddress(context.Context, *v1wire.VerifyEmailAddressRequest) (*v1wire.VerifyEmailAddressOutput, error) {
	return nil, nil
}

func (fakeSES) CreateReceiptRuleSet(_ context.Context, in *v1wire.CreateReceiptRuleSetRequest) (*v1wire.CreateReceiptRuleSetResponse, error) {
	return nil, v1wire.ErrAlreadyExists("Rule set "+in.RuleSetName+" already exists.", in.RuleSetName)
}

func (fakeSES) GetTemplate(_ context.Context, in *v1wire.GetTemplateRequest) (*v1wire.GetTemplateResponse, error) {
	return nil, v1wire.ErrTemplateDoesNotExist("Template "+in.TemplateName+" does not exist.", in.TemplateName)
}

func (fakeSES) DeleteConfigurationSetEventDestination(_ context.Context, in *v1wire.DeleteConfigurationSetEventDestinationRequest) (*v1wire.DeleteConfigurationSetEventDestinationResponse, error) {
	return nil, v1wire.ErrEventDestinationDoesNotExist("No such destination.", in.ConfigurationSetName, in.EventDestinationName)
}

func (fakeSES) DescribeConfigurationSet(_ context.Context, in *v1wire.DescribeConfigurationSetRequest) (*v1wire.DescribeConfigurationSetResponse, error) {
	return &v1wire.DescribeConfigurationSetResponse{
		ConfigurationSet: &v1wire.ConfigurationSet{Name: in.ConfigurationSetName},
		EventDestinations: []v1wire.EventDestination{{
			Name: "to-sns", Enabled: ptr(true), MatchingEventTypes: []string{"send", "bounce"},
			SNSDestination: &v1wire.SNSDestination{TopicARN: "arn:aws:sns:us-east-1:123456789012:t"},
		}},
		DeliveryOptions:   &v1wire.DeliveryOptions{TlsPolicy: "Require"},
		ReputationOptions: &v1wire.ReputationOptions{SendingEnabled: ptr(true), ReputationMetricsEnabled: ptr(false), LastFreshStart: &t0},
	}, nil
}

func ptr[T any](v T) *T { return &v }

func newSES(t *testing.T) (*ses.Client, *queryServer) {
	t.Helper()
	qs := &queryServer{svc: fakeSES{}}
	srv := httptest.NewServer(qs)
	t.Cleanup(srv.Close)
	client := ses.New(ses.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
	return client, qs
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSDKSendEmail(t *testing.T) {
	client, qs := newSES(t)
	ctx := testContext(t)
	out, err := client.SendEmail(ctx, &ses.SendEmailInput{
		Source: aws.String("Sender <sender@example.com>"),
		Destination: &types.Destination{
			ToAddresses:  []string{"to1@example.com", "to2@example.com"},
			CcAddresses:  []string{"cc@example.com"},
			BccAddresses: []string{},
		},
		Message: &types.Message{
			Subject: &types.Content{Data: aws.String("Héllo & <you>"), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String("line1\nline2")},
				Html: &types.Content{Data: aws.String("<p>hi</p>"), Charset: aws.String("UTF-8")},
			},
		},
		ReplyToAddresses:     []string{"reply@example.com"},
		Tags:                 []types.MessageTag{{Name: aws.String("campaign"), Value: aws.String("spring")}, {Name: aws.String("k2"), Value: aws.String("v 2")}},
		ConfigurationSetName: aws.String("cs1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.MessageId) != "0100018c-abc-000000" {
		t.Errorf("MessageId %q", aws.ToString(out.MessageId))
	}
	want := &v1wire.SendEmailRequest{
		Source: "Sender <sender@example.com>",
		Destination: &v1wire.Destination{
			ToAddresses:  []string{"to1@example.com", "to2@example.com"},
			CcAddresses:  []string{"cc@example.com"},
			BccAddresses: []string{}, // sent as "Destination.BccAddresses="
		},
		Message: &v1wire.Message{
			Subject: &v1wire.Content{Data: "Héllo & <you>", Charset: "UTF-8"},
			Body: &v1wire.Body{
				Text: &v1wire.Content{Data: "line1\nline2"},
				Html: &v1wire.Content{Data: "<p>hi</p>", Charset: "UTF-8"},
			},
		},
		ReplyToAddresses:     []string{"reply@example.com"},
		Tags:                 []v1wire.MessageTag{{Name: "campaign", Value: "spring"}, {Name: "k2", Value: "v 2"}},
		ConfigurationSetName: "cs1",
	}
	if got := qs.last(); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", got, want)
	}
}

func TestSDKSendRawEmailBlob(t *testing.T) {
	client, qs := newSES(t)
	raw := []byte("From: a@example.com\r\nSubject: x\r\n\r\nbody \xff\xfe\x00 binary")
	_, err := client.SendRawEmail(testContext(t), &ses.SendRawEmailInput{
		RawMessage:   &types.RawMessage{Data: raw},
		Destinations: []string{"b@example.com"},
		Source:       aws.String("a@example.com"),
	})
	if err != nil {
		t.Fatal(err)
	}
	in := qs.last().(*v1wire.SendRawEmailRequest)
	if string(in.RawMessage.Data) != string(raw) || !reflect.DeepEqual(in.Destinations, []string{"b@example.com"}) || in.Source != "a@example.com" {
		t.Errorf("decoded %#v", in)
	}
}

func TestSDKListIdentitiesPaginated(t *testing.T) {
	client, qs := newSES(t)
	ctx := testContext(t)
	p := ses.NewListIdentitiesPaginator(client, &ses.ListIdentitiesInput{IdentityType: types.IdentityTypeEmailAddress, MaxItems: aws.Int32(2)})
	var all []string
	for pages := 0; p.HasMorePages(); pages++ {
		if pages > 5 {
			t.Fatal("paginator does not stop")
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Identities...)
	}
	if !reflect.DeepEqual(all, []string{"a@example.com", "example.com"}) {
		t.Errorf("identities %v", all)
	}
	want := &v1wire.ListIdentitiesRequest{IdentityType: "EmailAddress", MaxItems: ptr[int64](2), NextToken: "tok2"}
	if got := qs.last(); !reflect.DeepEqual(got, want) {
		t.Errorf("second page request %#v", got)
	}
}

func TestSDKMapOutputs(t *testing.T) {
	client, qs := newSES(t)
	ctx := testContext(t)
	va, err := client.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.com", "a@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := va.VerificationAttributes["example.com"]; got.VerificationStatus != types.VerificationStatusPending || aws.ToString(got.VerificationToken) != "tok<&>" {
		t.Errorf("example.com: %+v", got)
	}
	if got := va.VerificationAttributes["a@example.com"]; got.VerificationStatus != types.VerificationStatusSuccess || got.VerificationToken != nil {
		t.Errorf("a@example.com: %+v", got)
	}
	if in := qs.last().(*v1wire.GetIdentityVerificationAttributesRequest); !reflect.DeepEqual(in.Identities, []string{"example.com", "a@example.com"}) {
		t.Errorf("decoded %#v", in)
	}
	pol, err := client.GetIdentityPolicies(ctx, &ses.GetIdentityPoliciesInput{Identity: aws.String("example.com"), PolicyNames: []string{"p1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pol.Policies, map[string]string{"p1": `{"Version":"2012-10-17"}`}) {
		t.Errorf("policies %v", pol.Policies)
	}
}

func TestSDKTimestampsAndNumbers(t *testing.T) {
	client, _ := newSES(t)
	ctx := testContext(t)
	st, err := client.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.SendDataPoints) != 2 {
		t.Fatalf("points %+v", st.SendDataPoints)
	}
	p := st.SendDataPoints[0]
	if !aws.ToTime(p.Timestamp).Equal(t0) || p.DeliveryAttempts != 10 || p.Bounces != 1 || p.Rejects != 2 {
		t.Errorf("point 0 %+v (%v)", p, aws.ToTime(p.Timestamp))
	}
	if !aws.ToTime(st.SendDataPoints[1].Timestamp).Equal(t1) {
		t.Errorf("point 1 %v", aws.ToTime(st.SendDataPoints[1].Timestamp))
	}
	q, err := client.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Max24HourSend != 200 || q.MaxSendRate != 1.5 || q.SentLast24Hours != 0 {
		t.Errorf("quota %+v", q)
	}
	cs, err := client.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{
		ConfigurationSetName:           aws.String("cs1"),
		ConfigurationSetAttributeNames: []types.ConfigurationSetAttribute{types.ConfigurationSetAttributeEventDestinations, types.ConfigurationSetAttributeReputationOptions},
	})
	if err != nil {
		t.Fatal(err)
	}
	ed := cs.EventDestinations
	if aws.ToString(cs.ConfigurationSet.Name) != "cs1" || len(ed) != 1 || !ed[0].Enabled ||
		!reflect.DeepEqual(ed[0].MatchingEventTypes, []types.EventType{"send", "bounce"}) ||
		aws.ToString(ed[0].SNSDestination.TopicARN) != "arn:aws:sns:us-east-1:123456789012:t" ||
		cs.DeliveryOptions.TlsPolicy != types.TlsPolicyRequire ||
		!cs.ReputationOptions.SendingEnabled || cs.ReputationOptions.ReputationMetricsEnabled ||
		!aws.ToTime(cs.ReputationOptions.LastFreshStart).Equal(t0) {
		t.Errorf("configuration set %+v %+v %+v", cs.ConfigurationSet, ed, cs.ReputationOptions)
	}
}

func TestSDKBooleansAndEmptyOutputs(t *testing.T) {
	client, qs := newSES(t)
	ctx := testContext(t)
	if _, err := client.SetIdentityDkimEnabled(ctx, &ses.SetIdentityDkimEnabledInput{Identity: aws.String("example.com"), DkimEnabled: false}); err != nil {
		t.Fatal(err)
	}
	in := qs.last().(*v1wire.SetIdentityDkimEnabledRequest)
	if in.DkimEnabled == nil || *in.DkimEnabled || in.Identity != "example.com" {
		t.Errorf("decoded %#v", in)
	}
	// No output shape at all: <VerifyEmailAddressResponse> holds only metadata.
	if _, err := client.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String("x@example.com")}); err != nil {
		t.Fatal(err)
	}
}

func TestSDKTypedErrors(t *testing.T) {
	client, _ := newSES(t)
	ctx := testContext(t)

	_, err := client.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("rs1")})
	var exists *types.AlreadyExistsException
	if !errors.As(err, &exists) || aws.ToString(exists.Name) != "rs1" || exists.ErrorMessage() != "Rule set rs1 already exists." {
		t.Errorf("CreateReceiptRuleSet: %v", err)
	}

	_, err = client.SendEmail(ctx, &ses.SendEmailInput{
		Source:      aws.String("blocked@example.com"),
		Destination: &types.Destination{ToAddresses: []string{"x@example.com"}},
		Message:     &types.Message{Subject: &types.Content{Data: aws.String("s")}, Body: &types.Body{Text: &types.Content{Data: aws.String("b")}}},
	})
	var rejected *types.MessageRejected
	if !errors.As(err, &rejected) || rejected.ErrorFault() != smithy.FaultClient {
		t.Errorf("SendEmail: %v", err)
	}

	_, err = client.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("t1")})
	var noTemplate *types.TemplateDoesNotExistException
	if !errors.As(err, &noTemplate) || aws.ToString(noTemplate.TemplateName) != "t1" {
		t.Errorf("GetTemplate: %v", err)
	}

	_, err = client.DeleteConfigurationSetEventDestination(ctx, &ses.DeleteConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("cs"), EventDestinationName: aws.String("ed")})
	var noDest *types.EventDestinationDoesNotExistException
	if !errors.As(err, &noDest) || aws.ToString(noDest.ConfigurationSetName) != "cs" || aws.ToString(noDest.EventDestinationName) != "ed" {
		t.Errorf("DeleteConfigurationSetEventDestination: %v", err)
	}

	// Not implemented by the fake: a generic API error with our code.
	_, err = client.ListTemplates(ctx, &ses.ListTemplatesInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidAction" || apiErr.ErrorMessage() != "Operation ListTemplates is not implemented by Sesame yet." {
		t.Errorf("ListTemplates: %v", err)
	}
}
