package sesv2_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

func getSet(t testing.TB, s *stack.Stack, name string) *sesv2.GetConfigurationSetOutput {
	t.Helper()
	out, err := s.SESv2.GetConfigurationSet(context.Background(), &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetConfigurationSet %s: %v", name, err)
	}
	return out
}

// A set created with every option group reads back as given; one created
// bare shows SES's defaults.
func TestConfigurationSetCreateAndGet(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	full := &sesv2.CreateConfigurationSetInput{
		ConfigurationSetName: aws.String("full"),
		TrackingOptions:      &types.TrackingOptions{CustomRedirectDomain: aws.String("track.example.com"), HttpsPolicy: types.HttpsPolicyRequire},
		DeliveryOptions:      &types.DeliveryOptions{TlsPolicy: types.TlsPolicyRequire, SendingPoolName: aws.String("pool-a"), MaxDeliverySeconds: aws.Int64(900)},
		ReputationOptions:    &types.ReputationOptions{ReputationMetricsEnabled: true},
		SendingOptions:       &types.SendingOptions{SendingEnabled: true},
		Tags:                 []types.Tag{{Key: aws.String("team"), Value: aws.String("mail")}},
		SuppressionOptions: &types.SuppressionOptions{SuppressedReasons: []types.SuppressionListReason{types.SuppressionListReasonComplaint},
			ValidationOptions: &types.SuppressionValidationOptions{ConditionThreshold: &types.SuppressionConditionThreshold{
				ConditionThresholdEnabled:  types.FeatureStatusEnabled,
				OverallConfidenceThreshold: &types.SuppressionConfidenceThreshold{ConfidenceVerdictThreshold: types.SuppressionConfidenceVerdictThresholdHigh}}}},
		VdmOptions: &types.VdmOptions{DashboardOptions: &types.DashboardOptions{EngagementMetrics: types.FeatureStatusEnabled},
			GuardianOptions: &types.GuardianOptions{OptimizedSharedDelivery: types.FeatureStatusDisabled}},
		ArchivingOptions: &types.ArchivingOptions{ArchiveArn: aws.String("arn:aws:ses:us-east-1:" + account.RootAccountID + ":mailmanager-archive/a-1")},
	}
	if _, err := s.SESv2.CreateConfigurationSet(ctx, full); err != nil {
		t.Fatal(err)
	}
	_, err := s.SESv2.CreateConfigurationSet(ctx, full)
	wantError[*types.AlreadyExistsException](t, err, 400, "Configuration set <full> already exists.")
	_, err = s.SESv2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("no/slash")})
	wantError[*types.BadRequestException](t, err, 400, "")

	g := getSet(t, s, "full")
	if aws.ToString(g.ConfigurationSetName) != "full" ||
		g.TrackingOptions == nil || aws.ToString(g.TrackingOptions.CustomRedirectDomain) != "track.example.com" || g.TrackingOptions.HttpsPolicy != types.HttpsPolicyRequire ||
		g.DeliveryOptions.TlsPolicy != types.TlsPolicyRequire || aws.ToString(g.DeliveryOptions.SendingPoolName) != "pool-a" || aws.ToInt64(g.DeliveryOptions.MaxDeliverySeconds) != 900 ||
		!g.ReputationOptions.ReputationMetricsEnabled || !g.SendingOptions.SendingEnabled ||
		len(g.Tags) != 1 || aws.ToString(g.Tags[0].Key) != "team" || aws.ToString(g.Tags[0].Value) != "mail" ||
		!slices.Equal(g.SuppressionOptions.SuppressedReasons, []types.SuppressionListReason{types.SuppressionListReasonComplaint}) ||
		g.SuppressionOptions.ValidationOptions.ConditionThreshold.OverallConfidenceThreshold.ConfidenceVerdictThreshold != types.SuppressionConfidenceVerdictThresholdHigh ||
		g.VdmOptions.DashboardOptions.EngagementMetrics != types.FeatureStatusEnabled || g.VdmOptions.GuardianOptions.OptimizedSharedDelivery != types.FeatureStatusDisabled ||
		aws.ToString(g.ArchivingOptions.ArchiveArn) != aws.ToString(full.ArchivingOptions.ArchiveArn) {
		t.Errorf("full set = %+v", g)
	}

	if _, err := s.SESv2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("bare")}); err != nil {
		t.Fatal(err)
	}
	b := getSet(t, s, "bare")
	if b.DeliveryOptions.TlsPolicy != types.TlsPolicyOptional || b.DeliveryOptions.MaxDeliverySeconds != nil || !b.SendingOptions.SendingEnabled ||
		b.ReputationOptions.ReputationMetricsEnabled || b.TrackingOptions != nil || b.SuppressionOptions != nil || b.VdmOptions != nil ||
		b.ArchivingOptions != nil || b.Tags == nil || len(b.Tags) != 0 {
		t.Errorf("bare set = %+v", b)
	}

	_, err = s.SESv2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("nope")})
	wantError[*types.NotFoundException](t, err, 404, "Configuration set <nope> does not exist.")
}

// Every Put*Options operation changes what Get shows, and answers
// NotFoundException for a missing set.
func TestConfigurationSetPutOptions(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	if _, err := s.SESv2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("o")}); err != nil {
		t.Fatal(err)
	}
	name := aws.String("o")
	puts := []struct {
		op  string
		put func(*string) error
	}{
		{"delivery", func(n *string) error {
			return csErrOf(s.SESv2.PutConfigurationSetDeliveryOptions(ctx, &sesv2.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: n,
				TlsPolicy: types.TlsPolicyRequire, SendingPoolName: aws.String("p2"), MaxDeliverySeconds: aws.Int64(300)}))
		}},
		{"reputation", func(n *string) error {
			return csErrOf(s.SESv2.PutConfigurationSetReputationOptions(ctx, &sesv2.PutConfigurationSetReputationOptionsInput{ConfigurationSetName: n,
				ReputationMetricsEnabled: true}))
		}},
		{"sending", func(n *string) error {
			return csErrOf(s.SESv2.PutConfigurationSetSendingOptions(ctx, &sesv2.PutConfigurationSetSendingOptionsInput{ConfigurationSetName: n, SendingEnabled: false}))
		}},
		{"suppression", func(n *string) error {
			return csErrOf(s.SESv2.PutConfigurationSetSuppressionOptions(ctx, &sesv2.PutConfigurationSetSuppressionOptionsInput{ConfigurationSetName: n,
				SuppressedReasons: []types.SuppressionListReason{}}))
		}},
		{"tracking", func(n *string) error {
			return csErrOf(s.SESv2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{ConfigurationSetName: n,
				CustomRedirectDomain: aws.String("clicks.example.org"), HttpsPolicy: types.HttpsPolicyRequireOpenOnly}))
		}},
		{"vdm", func(n *string) error {
			return csErrOf(s.SESv2.PutConfigurationSetVdmOptions(ctx, &sesv2.PutConfigurationSetVdmOptionsInput{ConfigurationSetName: n,
				VdmOptions: &types.VdmOptions{GuardianOptions: &types.GuardianOptions{OptimizedSharedDelivery: types.FeatureStatusEnabled}}}))
		}},
		{"archiving", func(n *string) error {
			return csErrOf(s.SESv2.PutConfigurationSetArchivingOptions(ctx, &sesv2.PutConfigurationSetArchivingOptionsInput{ConfigurationSetName: n,
				ArchiveArn: aws.String("arn:aws:ses:us-east-1:" + account.RootAccountID + ":mailmanager-archive/b")}))
		}},
	}
	for _, p := range puts {
		if err := p.put(name); err != nil {
			t.Fatalf("%s: %v", p.op, err)
		}
		wantError[*types.NotFoundException](t, p.put(aws.String("missing")), 404, "Configuration set <missing> does not exist.")
	}
	g := getSet(t, s, "o")
	if g.DeliveryOptions.TlsPolicy != types.TlsPolicyRequire || aws.ToString(g.DeliveryOptions.SendingPoolName) != "p2" || aws.ToInt64(g.DeliveryOptions.MaxDeliverySeconds) != 300 ||
		!g.ReputationOptions.ReputationMetricsEnabled || g.SendingOptions.SendingEnabled ||
		g.SuppressionOptions == nil || g.SuppressionOptions.SuppressedReasons == nil || len(g.SuppressionOptions.SuppressedReasons) != 0 ||
		aws.ToString(g.TrackingOptions.CustomRedirectDomain) != "clicks.example.org" || g.TrackingOptions.HttpsPolicy != types.HttpsPolicyRequireOpenOnly ||
		g.VdmOptions.DashboardOptions != nil || g.VdmOptions.GuardianOptions.OptimizedSharedDelivery != types.FeatureStatusEnabled ||
		g.ArchivingOptions == nil {
		t.Errorf("after puts: %+v", g)
	}

	// Out-of-model values are refused before they reach the domain.
	_, err := s.SESv2.PutConfigurationSetDeliveryOptions(ctx, &sesv2.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: name, MaxDeliverySeconds: aws.Int64(60)})
	wantError[*types.BadRequestException](t, err, 400, "")
	_, err = s.SESv2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{ConfigurationSetName: name, CustomRedirectDomain: aws.String("-bad-.example")})
	wantError[*types.BadRequestException](t, err, 400, "")
	// An empty tracking put removes the options.
	if _, err := s.SESv2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{ConfigurationSetName: name}); err != nil {
		t.Fatal(err)
	}
	if g := getSet(t, s, "o"); g.TrackingOptions != nil {
		t.Errorf("tracking after empty put: %+v", g.TrackingOptions)
	}
}

func csErrOf[T any](_ T, err error) error { return err }

// ListConfigurationSets pages in name order through the route the pinned
// SDK uses (POST /v2/email/list-configuration-sets); DeleteConfigurationSet
// removes a set and then answers NotFoundException.
func TestConfigurationSetListAndDelete(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	for _, n := range []string{"s3", "s1", "s2"} {
		if _, err := s.SESv2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var token *string
	for range 5 {
		out, err := s.SESv2.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{PageSize: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, out.ConfigurationSets...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(names, []string{"s1", "s2", "s3"}) {
		t.Errorf("listed %v", names)
	}
	_, err := s.SESv2.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{NextToken: aws.String("!!")})
	wantError[*types.BadRequestException](t, err, 400, "")

	if _, err := s.SESv2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("s2")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SESv2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("s2")})
	wantError[*types.NotFoundException](t, err, 404, "Configuration set <s2> does not exist.")
	out, err := s.SESv2.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{})
	if err != nil || !slices.Equal(out.ConfigurationSets, []string{"s1", "s3"}) {
		t.Errorf("after delete: %v, %v", out.ConfigurationSets, err)
	}
}

// Event destinations of every v2 kind, with the v2-only event types.
func TestConfigurationSetEventDestinationsV2(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	if _, err := s.SESv2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("ev")}); err != nil {
		t.Fatal(err)
	}
	set := aws.String("ev")
	arn := func(service, resource string) *string {
		return aws.String("arn:aws:" + service + ":" + stack.Region + ":" + account.RootAccountID + ":" + resource)
	}
	defs := map[string]*types.EventDestinationDefinition{
		"bridge": {Enabled: true, MatchingEventTypes: []types.EventType{types.EventTypeDeliveryDelay, types.EventTypeSubscription},
			EventBridgeDestination: &types.EventBridgeDestination{EventBusArn: arn("events", "event-bus/default")}},
		"pinpoint": {MatchingEventTypes: []types.EventType{types.EventTypeOpen},
			PinpointDestination: &types.PinpointDestination{ApplicationArn: arn("mobiletargeting", "apps/abc")}},
		"sns": {Enabled: true, MatchingEventTypes: []types.EventType{types.EventTypeBounce, types.EventTypeComplaint},
			SnsDestination: &types.SnsDestination{TopicArn: arn("sns", "ses-events")}},
		"cw": {Enabled: true, MatchingEventTypes: []types.EventType{types.EventTypeClick},
			CloudWatchDestination: &types.CloudWatchDestination{DimensionConfigurations: []types.CloudWatchDimensionConfiguration{{
				DimensionName: aws.String("link"), DimensionValueSource: types.DimensionValueSourceLinkTag, DefaultDimensionValue: aws.String("none")}}}},
		"firehose": {Enabled: true, MatchingEventTypes: []types.EventType{types.EventTypeSend},
			KinesisFirehoseDestination: &types.KinesisFirehoseDestination{DeliveryStreamArn: arn("firehose", "deliverystream/s"),
				IamRoleArn: aws.String("arn:aws:iam::" + account.RootAccountID + ":role/r")}},
	}
	for name, d := range defs {
		if _, err := s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
			ConfigurationSetName: set, EventDestinationName: aws.String(name), EventDestination: d}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	_, err := s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: set, EventDestinationName: aws.String("sns"), EventDestination: defs["sns"]})
	wantError[*types.AlreadyExistsException](t, err, 400, "")
	_, err = s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: set, EventDestinationName: aws.String("custom-bus"), EventDestination: &types.EventDestinationDefinition{
			MatchingEventTypes: []types.EventType{types.EventTypeSend}, EventBridgeDestination: &types.EventBridgeDestination{EventBusArn: arn("events", "event-bus/mine")}}})
	wantError[*types.BadRequestException](t, err, 400, "")
	_, err = s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("nope"), EventDestinationName: aws.String("x"), EventDestination: defs["sns"]})
	wantError[*types.NotFoundException](t, err, 404, "")

	out, err := s.SESv2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: set})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range out.EventDestinations {
		names = append(names, aws.ToString(d.Name))
		want := defs[aws.ToString(d.Name)]
		if d.Enabled != want.Enabled || !slices.Equal(d.MatchingEventTypes, want.MatchingEventTypes) ||
			(d.SnsDestination == nil) != (want.SnsDestination == nil) || (d.EventBridgeDestination == nil) != (want.EventBridgeDestination == nil) ||
			(d.PinpointDestination == nil) != (want.PinpointDestination == nil) || (d.CloudWatchDestination == nil) != (want.CloudWatchDestination == nil) ||
			(d.KinesisFirehoseDestination == nil) != (want.KinesisFirehoseDestination == nil) {
			t.Errorf("%s = %+v", aws.ToString(d.Name), d)
		}
	}
	if !slices.Equal(names, []string{"bridge", "cw", "firehose", "pinpoint", "sns"}) {
		t.Errorf("names = %v", names)
	}

	// Update replaces the definition, destination kind included.
	if _, err := s.SESv2.UpdateConfigurationSetEventDestination(ctx, &sesv2.UpdateConfigurationSetEventDestinationInput{
		ConfigurationSetName: set, EventDestinationName: aws.String("pinpoint"), EventDestination: defs["sns"]}); err != nil {
		t.Fatal(err)
	}
	out, _ = s.SESv2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: set})
	for _, d := range out.EventDestinations {
		if aws.ToString(d.Name) == "pinpoint" && (d.PinpointDestination != nil || d.SnsDestination == nil || !d.Enabled) {
			t.Errorf("after update: %+v", d)
		}
	}
	_, err = s.SESv2.UpdateConfigurationSetEventDestination(ctx, &sesv2.UpdateConfigurationSetEventDestinationInput{
		ConfigurationSetName: set, EventDestinationName: aws.String("ghost"), EventDestination: defs["sns"]})
	wantError[*types.NotFoundException](t, err, 404, "")
	if _, err := s.SESv2.DeleteConfigurationSetEventDestination(ctx, &sesv2.DeleteConfigurationSetEventDestinationInput{
		ConfigurationSetName: set, EventDestinationName: aws.String("cw")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SESv2.DeleteConfigurationSetEventDestination(ctx, &sesv2.DeleteConfigurationSetEventDestinationInput{
		ConfigurationSetName: set, EventDestinationName: aws.String("cw")})
	wantError[*types.NotFoundException](t, err, 404, "")
	_, err = s.SESv2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("nope")})
	wantError[*types.NotFoundException](t, err, 404, "")
}
