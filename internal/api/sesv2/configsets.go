package sesv2

import (
	"context"

	"github.com/sesamehq/sesame/internal/api/v2wire"
	"github.com/sesamehq/sesame/internal/configset"
)

// The configuration-set operations of SES v2 (SES-BEHAVIOR §9; Appendix A.2),
// over the one store v1 shares. Every error goes through wireError: a missing
// set or destination is NotFoundException, a taken name
// AlreadyExistsException, a bad value BadRequestException.

// ListConfigurationSets page sizes: the model gives no bounds; Sesame takes
// those of ListEmailIdentities.
const (
	maxConfigSetPage     = 1000
	defaultConfigSetPage = 100
)

// CreateConfigurationSet is SES v2 CreateConfigurationSet with every option
// group it carries; the ones left out take SES's defaults.
func (s *Service) CreateConfigurationSet(ctx context.Context, in *v2wire.CreateConfigurationSetRequest) (*v2wire.CreateConfigurationSetResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	c := configset.Defaults(in.ConfigurationSetName)
	if t := in.TrackingOptions; t != nil {
		c.Tracking = trackingIn(t.CustomRedirectDomain, t.HttpsPolicy)
	}
	if d := in.DeliveryOptions; d != nil {
		c.Delivery = deliveryIn(d.TlsPolicy, d.SendingPoolName, d.MaxDeliverySeconds)
	}
	if r := in.ReputationOptions; r != nil {
		c.Reputation.MetricsEnabled = deref(r.ReputationMetricsEnabled)
	}
	if o := in.SendingOptions; o != nil {
		c.SendingEnabled = deref(o.SendingEnabled)
	}
	if o := in.SuppressionOptions; o != nil {
		c.Suppression = suppressionIn(o.SuppressedReasons, o.ValidationOptions)
	}
	c.VDM = vdmIn(in.VdmOptions)
	if a := in.ArchivingOptions; a != nil {
		c.ArchiveARN = a.ArchiveArn
	}
	for _, t := range in.Tags {
		c.Tags = append(c.Tags, configset.Tag{Key: t.Key, Value: t.Value})
	}
	if err := s.d.ConfigSets.Create(ctx, acct, c); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.CreateConfigurationSetResponse{}, nil
}

// GetConfigurationSet is SES v2 GetConfigurationSet: delivery, reputation and
// sending options always; tracking, suppression, VDM and archiving options
// when the set has them.
func (s *Service) GetConfigurationSet(ctx context.Context, in *v2wire.GetConfigurationSetRequest) (*v2wire.GetConfigurationSetResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.d.ConfigSets.Get(ctx, acct, in.ConfigurationSetName)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.GetConfigurationSetResponse{
		ConfigurationSetName: c.Name,
		DeliveryOptions: &v2wire.DeliveryOptions{TlsPolicy: string(c.Delivery.TLSPolicy), SendingPoolName: c.Delivery.SendingPoolName,
			MaxDeliverySeconds: nonZero(c.Delivery.MaxDeliverySeconds)},
		ReputationOptions: &v2wire.ReputationOptions{ReputationMetricsEnabled: ptr(c.Reputation.MetricsEnabled),
			LastFreshStart: timePtr(c.Reputation.LastFreshStart)},
		SendingOptions: &v2wire.SendingOptions{SendingEnabled: ptr(c.SendingEnabled)},
		Tags:           make([]v2wire.Tag, len(c.Tags)),
	}
	for i, t := range c.Tags {
		out.Tags[i] = v2wire.Tag{Key: t.Key, Value: t.Value}
	}
	if t := c.Tracking; t != nil {
		out.TrackingOptions = &v2wire.TrackingOptions{CustomRedirectDomain: t.CustomRedirectDomain, HttpsPolicy: t.HTTPSPolicy}
	}
	if sup := c.Suppression; sup != nil {
		// Never nil: an empty list is how the set says "no suppression".
		o := &v2wire.SuppressionOptions{SuppressedReasons: append([]string{}, sup.Reasons...)}
		if v := sup.Validation; v != nil {
			th := &v2wire.SuppressionConditionThreshold{ConditionThresholdEnabled: v.ConditionThresholdEnabled}
			if v.ConfidenceVerdictThreshold != "" {
				th.OverallConfidenceThreshold = &v2wire.SuppressionConfidenceThreshold{ConfidenceVerdictThreshold: v.ConfidenceVerdictThreshold}
			}
			o.ValidationOptions = &v2wire.SuppressionValidationOptions{ConditionThreshold: th}
		}
		out.SuppressionOptions = o
	}
	if v := c.VDM; v != (configset.VDM{}) {
		o := &v2wire.VdmOptions{}
		if v.EngagementMetrics != "" {
			o.DashboardOptions = &v2wire.DashboardOptions{EngagementMetrics: v.EngagementMetrics}
		}
		if v.OptimizedSharedDelivery != "" {
			o.GuardianOptions = &v2wire.GuardianOptions{OptimizedSharedDelivery: v.OptimizedSharedDelivery}
		}
		out.VdmOptions = o
	}
	if c.ArchiveARN != "" {
		out.ArchivingOptions = &v2wire.ArchivingOptions{ArchiveArn: c.ArchiveARN}
	}
	return out, nil
}

// ListConfigurationSets is SES v2 ListConfigurationSets, in name order.
func (s *Service) ListConfigurationSets(ctx context.Context, in *v2wire.ListConfigurationSetsRequest) (*v2wire.ListConfigurationSetsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := pageSize(in.PageSize, 0, maxConfigSetPage, defaultConfigSetPage)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	names, next, err := s.d.ConfigSets.List(ctx, acct, after, limit)
	if err != nil {
		return nil, wireError(err)
	}
	return &v2wire.ListConfigurationSetsResponse{ConfigurationSets: names, NextToken: encodeToken(next)}, nil
}

// DeleteConfigurationSet is SES v2 DeleteConfigurationSet.
func (s *Service) DeleteConfigurationSet(ctx context.Context, in *v2wire.DeleteConfigurationSetRequest) (*v2wire.DeleteConfigurationSetResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.ConfigSets.Delete(ctx, acct, in.ConfigurationSetName); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.DeleteConfigurationSetResponse{}, nil
}

// PutConfigurationSetDeliveryOptions replaces the delivery options: an
// absent TlsPolicy is OPTIONAL, an absent MaxDeliverySeconds Sesame's window.
func (s *Service) PutConfigurationSetDeliveryOptions(ctx context.Context, in *v2wire.PutConfigurationSetDeliveryOptionsRequest) (*v2wire.PutConfigurationSetDeliveryOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	d := deliveryIn(in.TlsPolicy, in.SendingPoolName, in.MaxDeliverySeconds)
	if err := s.d.ConfigSets.PutDelivery(ctx, acct, in.ConfigurationSetName, d); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutConfigurationSetDeliveryOptionsResponse{}, nil
}

// PutConfigurationSetReputationOptions turns reputation metrics on or off
// (absent is off).
func (s *Service) PutConfigurationSetReputationOptions(ctx context.Context, in *v2wire.PutConfigurationSetReputationOptionsRequest) (*v2wire.PutConfigurationSetReputationOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.ConfigSets.SetReputationMetrics(ctx, acct, in.ConfigurationSetName, deref(in.ReputationMetricsEnabled)); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutConfigurationSetReputationOptionsResponse{}, nil
}

// PutConfigurationSetSendingOptions pauses or resumes sending with the set
// (an absent SendingEnabled is false, as in SES).
func (s *Service) PutConfigurationSetSendingOptions(ctx context.Context, in *v2wire.PutConfigurationSetSendingOptionsRequest) (*v2wire.PutConfigurationSetSendingOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.ConfigSets.SetSendingEnabled(ctx, acct, in.ConfigurationSetName, deref(in.SendingEnabled)); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutConfigurationSetSendingOptionsResponse{}, nil
}

// PutConfigurationSetSuppressionOptions makes the set override the account's
// suppression reasons; an empty SuppressedReasons turns suppression off for
// mail sent with the set (SES-BEHAVIOR §11).
func (s *Service) PutConfigurationSetSuppressionOptions(ctx context.Context, in *v2wire.PutConfigurationSetSuppressionOptionsRequest) (*v2wire.PutConfigurationSetSuppressionOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	sup := suppressionIn(in.SuppressedReasons, in.ValidationOptions)
	if err := s.d.ConfigSets.PutSuppression(ctx, acct, in.ConfigurationSetName, *sup); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutConfigurationSetSuppressionOptionsResponse{}, nil
}

// PutConfigurationSetTrackingOptions sets the custom redirect domain and
// HTTPS policy; with neither, the set has no tracking options.
func (s *Service) PutConfigurationSetTrackingOptions(ctx context.Context, in *v2wire.PutConfigurationSetTrackingOptionsRequest) (*v2wire.PutConfigurationSetTrackingOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	t := configset.Tracking{CustomRedirectDomain: in.CustomRedirectDomain, HTTPSPolicy: in.HttpsPolicy}
	if err := s.d.ConfigSets.PutTracking(ctx, acct, in.ConfigurationSetName, t); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutConfigurationSetTrackingOptionsResponse{}, nil
}

// PutConfigurationSetVdmOptions replaces the VDM options (stored only).
func (s *Service) PutConfigurationSetVdmOptions(ctx context.Context, in *v2wire.PutConfigurationSetVdmOptionsRequest) (*v2wire.PutConfigurationSetVdmOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.ConfigSets.PutVDM(ctx, acct, in.ConfigurationSetName, vdmIn(in.VdmOptions)); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutConfigurationSetVdmOptionsResponse{}, nil
}

// PutConfigurationSetArchivingOptions sets the archive ARN (stored only; an
// absent one stops archiving).
func (s *Service) PutConfigurationSetArchivingOptions(ctx context.Context, in *v2wire.PutConfigurationSetArchivingOptionsRequest) (*v2wire.PutConfigurationSetArchivingOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.ConfigSets.PutArchiving(ctx, acct, in.ConfigurationSetName, in.ArchiveArn); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutConfigurationSetArchivingOptionsResponse{}, nil
}

// CreateConfigurationSetEventDestination is SES v2
// CreateConfigurationSetEventDestination.
func (s *Service) CreateConfigurationSetEventDestination(ctx context.Context, in *v2wire.CreateConfigurationSetEventDestinationRequest) (*v2wire.CreateConfigurationSetEventDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	d := destinationIn(in.EventDestinationName, in.EventDestination)
	if err := s.d.ConfigSets.CreateEventDestination(ctx, acct, in.ConfigurationSetName, d); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.CreateConfigurationSetEventDestinationResponse{}, nil
}

// UpdateConfigurationSetEventDestination replaces a destination's definition.
func (s *Service) UpdateConfigurationSetEventDestination(ctx context.Context, in *v2wire.UpdateConfigurationSetEventDestinationRequest) (*v2wire.UpdateConfigurationSetEventDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	d := destinationIn(in.EventDestinationName, in.EventDestination)
	if err := s.d.ConfigSets.UpdateEventDestination(ctx, acct, in.ConfigurationSetName, d); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.UpdateConfigurationSetEventDestinationResponse{}, nil
}

// DeleteConfigurationSetEventDestination is SES v2
// DeleteConfigurationSetEventDestination.
func (s *Service) DeleteConfigurationSetEventDestination(ctx context.Context, in *v2wire.DeleteConfigurationSetEventDestinationRequest) (*v2wire.DeleteConfigurationSetEventDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.ConfigSets.DeleteEventDestination(ctx, acct, in.ConfigurationSetName, in.EventDestinationName); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.DeleteConfigurationSetEventDestinationResponse{}, nil
}

// GetConfigurationSetEventDestinations lists a set's destinations by name.
func (s *Service) GetConfigurationSetEventDestinations(ctx context.Context, in *v2wire.GetConfigurationSetEventDestinationsRequest) (*v2wire.GetConfigurationSetEventDestinationsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := s.d.ConfigSets.EventDestinations(ctx, acct, in.ConfigurationSetName)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.GetConfigurationSetEventDestinationsResponse{EventDestinations: make([]v2wire.EventDestination, len(ds))}
	for i, d := range ds {
		out.EventDestinations[i] = destinationOut(d)
	}
	return out, nil
}

func trackingIn(domain, policy string) *configset.Tracking {
	if domain == "" && policy == "" {
		return nil
	}
	return &configset.Tracking{CustomRedirectDomain: domain, HTTPSPolicy: policy}
}

func deliveryIn(tls, pool string, maxSeconds *int64) configset.Delivery {
	return configset.Delivery{TLSPolicy: configset.TLSPolicy(tls), SendingPoolName: pool, MaxDeliverySeconds: deref(maxSeconds)}
}

func suppressionIn(reasons []string, v *v2wire.SuppressionValidationOptions) *configset.Suppression {
	sup := &configset.Suppression{Reasons: reasons}
	if v != nil && v.ConditionThreshold != nil {
		val := &configset.Validation{ConditionThresholdEnabled: v.ConditionThreshold.ConditionThresholdEnabled}
		if o := v.ConditionThreshold.OverallConfidenceThreshold; o != nil {
			val.ConfidenceVerdictThreshold = o.ConfidenceVerdictThreshold
		}
		sup.Validation = val
	}
	return sup
}

func vdmIn(v *v2wire.VdmOptions) configset.VDM {
	var out configset.VDM
	if v == nil {
		return out
	}
	if v.DashboardOptions != nil {
		out.EngagementMetrics = v.DashboardOptions.EngagementMetrics
	}
	if v.GuardianOptions != nil {
		out.OptimizedSharedDelivery = v.GuardianOptions.OptimizedSharedDelivery
	}
	return out
}

func destinationIn(name string, in *v2wire.EventDestinationDefinition) configset.EventDestination {
	d := configset.EventDestination{Name: name}
	if in == nil {
		return d
	}
	d.Enabled = deref(in.Enabled)
	for _, t := range in.MatchingEventTypes {
		d.Types = append(d.Types, configset.EventType(t))
	}
	if o := in.SnsDestination; o != nil {
		d.SNS = &configset.SNS{TopicARN: o.TopicArn}
	}
	if o := in.CloudWatchDestination; o != nil {
		d.CloudWatch = &configset.CloudWatch{}
		for _, dim := range o.DimensionConfigurations {
			d.CloudWatch.Dimensions = append(d.CloudWatch.Dimensions, configset.Dimension{Name: dim.DimensionName, Source: dim.DimensionValueSource, Default: dim.DefaultDimensionValue})
		}
	}
	if o := in.KinesisFirehoseDestination; o != nil {
		d.Firehose = &configset.Firehose{DeliveryStreamARN: o.DeliveryStreamArn, IAMRoleARN: o.IamRoleArn}
	}
	if o := in.EventBridgeDestination; o != nil {
		d.EventBridge = &configset.EventBridge{EventBusARN: o.EventBusArn}
	}
	if o := in.PinpointDestination; o != nil {
		d.Pinpoint = &configset.Pinpoint{ApplicationARN: o.ApplicationArn}
	}
	return d
}

func destinationOut(d configset.EventDestination) v2wire.EventDestination {
	out := v2wire.EventDestination{Name: d.Name, Enabled: ptr(d.Enabled), MatchingEventTypes: make([]string, len(d.Types))}
	for i, t := range d.Types {
		out.MatchingEventTypes[i] = string(t)
	}
	switch {
	case d.SNS != nil:
		out.SnsDestination = &v2wire.SnsDestination{TopicArn: d.SNS.TopicARN}
	case d.CloudWatch != nil:
		cw := &v2wire.CloudWatchDestination{DimensionConfigurations: make([]v2wire.CloudWatchDimensionConfiguration, len(d.CloudWatch.Dimensions))}
		for i, dim := range d.CloudWatch.Dimensions {
			cw.DimensionConfigurations[i] = v2wire.CloudWatchDimensionConfiguration{DimensionName: dim.Name, DimensionValueSource: dim.Source, DefaultDimensionValue: dim.Default}
		}
		out.CloudWatchDestination = cw
	case d.Firehose != nil:
		out.KinesisFirehoseDestination = &v2wire.KinesisFirehoseDestination{IamRoleArn: d.Firehose.IAMRoleARN, DeliveryStreamArn: d.Firehose.DeliveryStreamARN}
	case d.EventBridge != nil:
		out.EventBridgeDestination = &v2wire.EventBridgeDestination{EventBusArn: d.EventBridge.EventBusARN}
	case d.Pinpoint != nil:
		out.PinpointDestination = &v2wire.PinpointDestination{ApplicationArn: d.Pinpoint.ApplicationARN}
	}
	return out
}

// nonZero is v for an optional number member, nil (absent) for zero.
func nonZero(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}
