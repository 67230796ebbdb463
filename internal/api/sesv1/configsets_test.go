package sesv1_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// csAPIError is what every modelled SES v1 exception of the SDK implements.
type csAPIError interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// wantError asserts that err is the SDK's typed exception E with HTTP 400 and
// (unless "") the exact message.
func wantCSError[E csAPIError](t testing.TB, err error, message string) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want %T", err, err, e)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 400 {
		t.Errorf("%s: HTTP status %d, want 400", e.ErrorCode(), re.HTTPStatusCode())
	}
	if message != "" && e.ErrorMessage() != message {
		t.Errorf("%s message:\n got %q\nwant %q", e.ErrorCode(), e.ErrorMessage(), message)
	}
	return e
}

var allAttributes = []types.ConfigurationSetAttribute{types.ConfigurationSetAttributeEventDestinations, types.ConfigurationSetAttributeTrackingOptions,
	types.ConfigurationSetAttributeDeliveryOptions, types.ConfigurationSetAttributeReputationOptions}

func describe(t *testing.T, c *ses.Client, name string) *ses.DescribeConfigurationSetOutput {
	t.Helper()
	out, err := c.DescribeConfigurationSet(context.Background(), &ses.DescribeConfigurationSetInput{
		ConfigurationSetName: aws.String(name), ConfigurationSetAttributeNames: allAttributes})
	if err != nil {
		t.Fatalf("DescribeConfigurationSet %s: %v", name, err)
	}
	return out
}

func createSet(ctx context.Context, c *ses.Client, name string) error {
	_, err := c.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &types.ConfigurationSet{Name: aws.String(name)}})
	return err
}

// The set itself: create, describe with SES's defaults, list in pages,
// delete, and the typed errors of each.
func TestConfigurationSetLifecycle(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	for _, n := range []string{"beta", "alpha", "gamma"} {
		if err := createSet(ctx, s.SES, n); err != nil {
			t.Fatalf("create %s: %v", n, err)
		}
	}
	e := wantCSError[*types.ConfigurationSetAlreadyExistsException](t, createSet(ctx, s.SES, "alpha"), "Configuration set <alpha> already exists.")
	if aws.ToString(e.ConfigurationSetName) != "alpha" {
		t.Errorf("ConfigurationSetName = %q", aws.ToString(e.ConfigurationSetName))
	}
	wantCSError[*types.InvalidConfigurationSetException](t, createSet(ctx, s.SES, "bad name!"), "")

	d := describe(t, s.SES, "alpha")
	r := d.ReputationOptions
	if aws.ToString(d.ConfigurationSet.Name) != "alpha" || d.DeliveryOptions == nil || d.DeliveryOptions.TlsPolicy != types.TlsPolicyOptional ||
		d.TrackingOptions != nil || len(d.EventDestinations) != 0 || r == nil || !r.SendingEnabled || r.ReputationMetricsEnabled || r.LastFreshStart != nil {
		t.Errorf("defaults: %+v, reputation %+v", d, r)
	}
	// Only the attribute groups asked for come back.
	only, err := s.SES.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("alpha")})
	if err != nil || only.DeliveryOptions != nil || only.ReputationOptions != nil || aws.ToString(only.ConfigurationSet.Name) != "alpha" {
		t.Errorf("no attributes: %+v, %v", only, err)
	}

	var names []string
	var token *string
	for range 5 { // bounded: three sets, one a page
		out, err := s.SES.ListConfigurationSets(ctx, &ses.ListConfigurationSetsInput{MaxItems: aws.Int32(1), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out.ConfigurationSets {
			names = append(names, aws.ToString(c.Name))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(names, []string{"alpha", "beta", "gamma"}) {
		t.Errorf("listed %v", names)
	}

	if _, err := s.SES.DeleteConfigurationSet(ctx, &ses.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("beta")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SES.DeleteConfigurationSet(ctx, &ses.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("beta")})
	e2 := wantCSError[*types.ConfigurationSetDoesNotExistException](t, err, "Configuration set <beta> does not exist.")
	if aws.ToString(e2.ConfigurationSetName) != "beta" {
		t.Errorf("ConfigurationSetName = %q", aws.ToString(e2.ConfigurationSetName))
	}
	_, err = s.SES.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("beta")})
	wantCSError[*types.ConfigurationSetDoesNotExistException](t, err, "")
}

// Delivery, reputation and sending options, and the tracking options' own
// create/update/delete with their typed errors.
func TestConfigurationSetOptions(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	if err := createSet(ctx, s.SES, "opts"); err != nil {
		t.Fatal(err)
	}
	set := aws.String("opts")

	_, err := s.SES.PutConfigurationSetDeliveryOptions(ctx, &ses.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: set,
		DeliveryOptions: &types.DeliveryOptions{TlsPolicy: types.TlsPolicyRequire}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SES.UpdateConfigurationSetReputationMetricsEnabled(ctx, &ses.UpdateConfigurationSetReputationMetricsEnabledInput{
		ConfigurationSetName: set, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SES.UpdateConfigurationSetSendingEnabled(ctx, &ses.UpdateConfigurationSetSendingEnabledInput{
		ConfigurationSetName: set, Enabled: false}); err != nil {
		t.Fatal(err)
	}
	d := describe(t, s.SES, "opts")
	if d.DeliveryOptions.TlsPolicy != types.TlsPolicyRequire || d.ReputationOptions.SendingEnabled || !d.ReputationOptions.ReputationMetricsEnabled {
		t.Errorf("after updates: delivery %+v reputation %+v", d.DeliveryOptions, d.ReputationOptions)
	}
	// Without DeliveryOptions the policy returns to Optional.
	if _, err := s.SES.PutConfigurationSetDeliveryOptions(ctx, &ses.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: set}); err != nil {
		t.Fatal(err)
	}
	if got := describe(t, s.SES, "opts").DeliveryOptions.TlsPolicy; got != types.TlsPolicyOptional {
		t.Errorf("TlsPolicy = %s", got)
	}

	tracking := func(domain string) *types.TrackingOptions {
		return &types.TrackingOptions{CustomRedirectDomain: aws.String(domain)}
	}
	_, err = s.SES.UpdateConfigurationSetTrackingOptions(ctx, &ses.UpdateConfigurationSetTrackingOptionsInput{ConfigurationSetName: set, TrackingOptions: tracking("a.example.com")})
	te := wantCSError[*types.TrackingOptionsDoesNotExistException](t, err, "")
	if aws.ToString(te.ConfigurationSetName) != "opts" {
		t.Errorf("ConfigurationSetName = %q", aws.ToString(te.ConfigurationSetName))
	}
	_, err = s.SES.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{ConfigurationSetName: set, TrackingOptions: tracking("not a domain")})
	wantCSError[*types.InvalidTrackingOptionsException](t, err, "")
	if _, err := s.SES.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{ConfigurationSetName: set, TrackingOptions: tracking("a.example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SES.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{ConfigurationSetName: set, TrackingOptions: tracking("b.example.com")})
	wantCSError[*types.TrackingOptionsAlreadyExistsException](t, err, "")
	if _, err := s.SES.UpdateConfigurationSetTrackingOptions(ctx, &ses.UpdateConfigurationSetTrackingOptionsInput{ConfigurationSetName: set, TrackingOptions: tracking("b.example.com")}); err != nil {
		t.Fatal(err)
	}
	if got := describe(t, s.SES, "opts").TrackingOptions; got == nil || aws.ToString(got.CustomRedirectDomain) != "b.example.com" {
		t.Errorf("tracking = %+v", got)
	}
	if _, err := s.SES.DeleteConfigurationSetTrackingOptions(ctx, &ses.DeleteConfigurationSetTrackingOptionsInput{ConfigurationSetName: set}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SES.DeleteConfigurationSetTrackingOptions(ctx, &ses.DeleteConfigurationSetTrackingOptionsInput{ConfigurationSetName: set})
	wantCSError[*types.TrackingOptionsDoesNotExistException](t, err, "")

	// Every option operation on a missing set names it.
	missing := aws.String("missing")
	for name, err := range map[string]error{
		"delivery": csErrOf(s.SES.PutConfigurationSetDeliveryOptions(ctx, &ses.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: missing})),
		"sending":  csErrOf(s.SES.UpdateConfigurationSetSendingEnabled(ctx, &ses.UpdateConfigurationSetSendingEnabledInput{ConfigurationSetName: missing})),
		"reputation": csErrOf(s.SES.UpdateConfigurationSetReputationMetricsEnabled(ctx, &ses.UpdateConfigurationSetReputationMetricsEnabledInput{
			ConfigurationSetName: missing})),
		"tracking": csErrOf(s.SES.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{ConfigurationSetName: missing,
			TrackingOptions: tracking("a.example.com")})),
	} {
		e := wantCSError[*types.ConfigurationSetDoesNotExistException](t, err, "Configuration set <missing> does not exist.")
		if aws.ToString(e.ConfigurationSetName) != "missing" {
			t.Errorf("%s: ConfigurationSetName = %q", name, aws.ToString(e.ConfigurationSetName))
		}
	}
}

func csErrOf[T any](_ T, err error) error { return err }

// Event destinations of the three v1 kinds, their typed errors, and the
// limit of ten per set.
func TestConfigurationSetEventDestinations(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	if err := createSet(ctx, s.SES, "ev"); err != nil {
		t.Fatal(err)
	}
	set := aws.String("ev")
	topic := "arn:aws:sns:" + stack.Region + ":" + account.RootAccountID + ":ses-events"
	sns := types.EventDestination{Name: aws.String("to-sns"), Enabled: true,
		MatchingEventTypes: []types.EventType{types.EventTypeBounce, types.EventTypeSend, types.EventTypeComplaint},
		SNSDestination:     &types.SNSDestination{TopicARN: aws.String(topic)}}
	cw := types.EventDestination{Name: aws.String("to-cw"), MatchingEventTypes: []types.EventType{types.EventTypeOpen, types.EventTypeClick},
		CloudWatchDestination: &types.CloudWatchDestination{DimensionConfigurations: []types.CloudWatchDimensionConfiguration{{
			DimensionName: aws.String("campaign"), DimensionValueSource: types.DimensionValueSourceMessageTag, DefaultDimensionValue: aws.String("none")}}}}
	fh := types.EventDestination{Name: aws.String("to-firehose"), Enabled: true, MatchingEventTypes: []types.EventType{types.EventTypeRenderingFailure},
		KinesisFirehoseDestination: &types.KinesisFirehoseDestination{
			DeliveryStreamARN: aws.String("arn:aws:firehose:" + stack.Region + ":" + account.RootAccountID + ":deliverystream/ses"),
			IAMRoleARN:        aws.String("arn:aws:iam::" + account.RootAccountID + ":role/ses-firehose")}}
	create := func(d types.EventDestination) error {
		_, err := s.SES.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: set, EventDestination: &d})
		return err
	}
	for _, d := range []types.EventDestination{sns, cw, fh} {
		if err := create(d); err != nil {
			t.Fatalf("create %s: %v", aws.ToString(d.Name), err)
		}
	}
	e := wantCSError[*types.EventDestinationAlreadyExistsException](t, create(sns), "")
	if aws.ToString(e.ConfigurationSetName) != "ev" || aws.ToString(e.EventDestinationName) != "to-sns" {
		t.Errorf("already exists names %q/%q", aws.ToString(e.ConfigurationSetName), aws.ToString(e.EventDestinationName))
	}
	badSNS := sns
	badSNS.Name, badSNS.SNSDestination = aws.String("bad-sns"), &types.SNSDestination{TopicARN: aws.String("arn:aws:sns:eu-west-1:" + account.RootAccountID + ":x")}
	wantCSError[*types.InvalidSNSDestinationException](t, create(badSNS), "")
	badCW := cw
	badCW.Name = aws.String("bad-cw")
	badCW.CloudWatchDestination = &types.CloudWatchDestination{DimensionConfigurations: []types.CloudWatchDimensionConfiguration{{
		DimensionName: aws.String("has space"), DimensionValueSource: types.DimensionValueSourceEmailHeader, DefaultDimensionValue: aws.String("x")}}}
	wantCSError[*types.InvalidCloudWatchDestinationException](t, create(badCW), "")
	badFH := fh
	badFH.Name = aws.String("bad-fh")
	badFH.KinesisFirehoseDestination = &types.KinesisFirehoseDestination{DeliveryStreamARN: aws.String("stream"), IAMRoleARN: aws.String("role")}
	wantCSError[*types.InvalidFirehoseDestinationException](t, create(badFH), "")

	got := describe(t, s.SES, "ev").EventDestinations
	if len(got) != 3 {
		t.Fatalf("destinations = %+v", got)
	}
	byName := map[string]types.EventDestination{}
	for _, d := range got {
		byName[aws.ToString(d.Name)] = d
	}
	if d := byName["to-sns"]; !d.Enabled || aws.ToString(d.SNSDestination.TopicARN) != topic ||
		!slices.Equal(d.MatchingEventTypes, []types.EventType{types.EventTypeSend, types.EventTypeBounce, types.EventTypeComplaint}) {
		t.Errorf("sns = %+v", d)
	}
	if d := byName["to-cw"]; d.Enabled || d.CloudWatchDestination == nil || len(d.CloudWatchDestination.DimensionConfigurations) != 1 ||
		d.CloudWatchDestination.DimensionConfigurations[0].DimensionValueSource != types.DimensionValueSourceMessageTag {
		t.Errorf("cloudwatch = %+v", d)
	}
	if d := byName["to-firehose"]; d.KinesisFirehoseDestination == nil || !slices.Equal(d.MatchingEventTypes, []types.EventType{types.EventTypeRenderingFailure}) {
		t.Errorf("firehose = %+v", d)
	}

	sns.Enabled, sns.MatchingEventTypes = false, []types.EventType{types.EventTypeDelivery}
	if _, err := s.SES.UpdateConfigurationSetEventDestination(ctx, &ses.UpdateConfigurationSetEventDestinationInput{ConfigurationSetName: set, EventDestination: &sns}); err != nil {
		t.Fatal(err)
	}
	for _, d := range describe(t, s.SES, "ev").EventDestinations {
		if aws.ToString(d.Name) == "to-sns" && (d.Enabled || !slices.Equal(d.MatchingEventTypes, []types.EventType{types.EventTypeDelivery})) {
			t.Errorf("after update: %+v", d)
		}
	}
	ghost := sns
	ghost.Name = aws.String("ghost")
	_, err := s.SES.UpdateConfigurationSetEventDestination(ctx, &ses.UpdateConfigurationSetEventDestinationInput{ConfigurationSetName: set, EventDestination: &ghost})
	ne := wantCSError[*types.EventDestinationDoesNotExistException](t, err, "")
	if aws.ToString(ne.ConfigurationSetName) != "ev" || aws.ToString(ne.EventDestinationName) != "ghost" {
		t.Errorf("does not exist names %q/%q", aws.ToString(ne.ConfigurationSetName), aws.ToString(ne.EventDestinationName))
	}
	if _, err := s.SES.DeleteConfigurationSetEventDestination(ctx, &ses.DeleteConfigurationSetEventDestinationInput{
		ConfigurationSetName: set, EventDestinationName: aws.String("to-cw")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SES.DeleteConfigurationSetEventDestination(ctx, &ses.DeleteConfigurationSetEventDestinationInput{
		ConfigurationSetName: set, EventDestinationName: aws.String("to-cw")})
	wantCSError[*types.EventDestinationDoesNotExistException](t, err, "")
	_, err = s.SES.DeleteConfigurationSetEventDestination(ctx, &ses.DeleteConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("nope"), EventDestinationName: aws.String("to-sns")})
	wantCSError[*types.ConfigurationSetDoesNotExistException](t, err, "")

	// Ten destinations per set (two are there).
	for i := range 8 {
		d := sns
		d.Name = aws.String("extra-" + string(rune('a'+i)))
		if err := create(d); err != nil {
			t.Fatalf("destination %d: %v", i+3, err)
		}
	}
	eleventh := sns
	eleventh.Name = aws.String("eleventh")
	wantCSError[*types.LimitExceededException](t, create(eleventh), "")
}
