package sesv1

import (
	"context"
	"errors"

	"github.com/sesamehq/sesame/internal/api/v1wire"
	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/fault"
)

// The configuration-set operations of SES v1 (SES-BEHAVIOR §9; Appendix A.1
// "Configuration sets & event destinations"), over the one store v2 shares.

// csFamily says which v1 codes an operation's generic kinds take: v1 names
// "already exists", "does not exist" and "invalid" after the thing concerned.
type csFamily int

const (
	famSet         csFamily = iota // the set: ConfigurationSetAlreadyExists, InvalidConfigurationSet
	famDestination                 // EventDestinationAlreadyExists/DoesNotExist, Invalid*Destination
	famTracking                    // TrackingOptionsAlreadyExists/DoesNotExist, InvalidTrackingOptions
	famDelivery                    // InvalidDeliveryOptions
)

// configSetError maps a configuration-set operation's error to the codes the
// v1 model lists for it, then falls back to the common table.
func configSetError(err error, fam csFamily, set, dest string) error {
	var de *configset.DestinationError
	if errors.As(err, &de) {
		switch de.Kind {
		case configset.KindSNS:
			return v1wire.ErrInvalidSNSDestination(de.Err.Message, set, dest)
		case configset.KindCloudWatch:
			return v1wire.ErrInvalidCloudWatchDestination(de.Err.Message, set, dest)
		case configset.KindFirehose:
			return v1wire.ErrInvalidFirehoseDestination(de.Err.Message, set, dest)
		}
	}
	var f *fault.Error
	if errors.As(err, &f) {
		switch {
		case fam == famSet && f.Kind == fault.AlreadyExists:
			return v1wire.ErrConfigurationSetAlreadyExists(f.Message, set)
		case fam == famSet && f.Kind == fault.InvalidParameter:
			return v1wire.ErrInvalidConfigurationSet(f.Message)
		case fam == famDestination && f.Kind == fault.AlreadyExists:
			return v1wire.ErrEventDestinationAlreadyExists(f.Message, set, dest)
		case fam == famDestination && f.Kind == fault.NotFound:
			return v1wire.ErrEventDestinationDoesNotExist(f.Message, set, dest)
		case fam == famTracking && f.Kind == fault.AlreadyExists:
			return v1wire.ErrTrackingOptionsAlreadyExists(f.Message, set)
		case fam == famTracking && f.Kind == fault.NotFound:
			return v1wire.ErrTrackingOptionsDoesNotExist(f.Message, set)
		case fam == famTracking && f.Kind == fault.InvalidParameter:
			return v1wire.ErrInvalidTrackingOptions(f.Message)
		case fam == famDelivery && f.Kind == fault.InvalidParameter:
			return v1wire.ErrInvalidDeliveryOptions(f.Message)
		}
	}
	return wireError(err)
}

func (s *Service) CreateConfigurationSet(ctx context.Context, in *v1wire.CreateConfigurationSetRequest) (*v1wire.CreateConfigurationSetResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	name := ""
	if in.ConfigurationSet != nil {
		name = in.ConfigurationSet.Name
	}
	if err := s.ConfigSets.Create(ctx, acct, configset.Defaults(name)); err != nil {
		return nil, configSetError(err, famSet, name, "")
	}
	return &v1wire.CreateConfigurationSetResponse{}, nil
}

func (s *Service) DeleteConfigurationSet(ctx context.Context, in *v1wire.DeleteConfigurationSetRequest) (*v1wire.DeleteConfigurationSetResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ConfigSets.Delete(ctx, acct, in.ConfigurationSetName); err != nil {
		return nil, configSetError(err, famSet, in.ConfigurationSetName, "")
	}
	return &v1wire.DeleteConfigurationSetResponse{}, nil
}

// DescribeConfigurationSet returns the set's name and the attribute groups
// asked for (ConfigurationSetAttributeNames).
func (s *Service) DescribeConfigurationSet(ctx context.Context, in *v1wire.DescribeConfigurationSetRequest) (*v1wire.DescribeConfigurationSetResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	set := in.ConfigurationSetName
	c, err := s.ConfigSets.Get(ctx, acct, set)
	if err != nil {
		return nil, configSetError(err, famSet, set, "")
	}
	out := &v1wire.DescribeConfigurationSetResponse{ConfigurationSet: &v1wire.ConfigurationSet{Name: c.Name}}
	for _, attr := range in.ConfigurationSetAttributeNames {
		switch attr {
		case "eventDestinations":
			ds, err := s.ConfigSets.EventDestinations(ctx, acct, set)
			if err != nil {
				return nil, configSetError(err, famSet, set, "")
			}
			out.EventDestinations = make([]v1wire.EventDestination, 0, len(ds))
			for _, d := range ds {
				out.EventDestinations = append(out.EventDestinations, destinationToV1(d))
			}
		case "trackingOptions":
			if t := c.Tracking; t != nil {
				out.TrackingOptions = &v1wire.TrackingOptions{CustomRedirectDomain: t.CustomRedirectDomain}
			}
		case "deliveryOptions":
			out.DeliveryOptions = &v1wire.DeliveryOptions{TlsPolicy: c.Delivery.TLSPolicy.V1()}
		case "reputationOptions":
			r := &v1wire.ReputationOptions{SendingEnabled: &c.SendingEnabled, ReputationMetricsEnabled: &c.Reputation.MetricsEnabled}
			if !c.Reputation.LastFreshStart.IsZero() {
				r.LastFreshStart = &c.Reputation.LastFreshStart
			}
			out.ReputationOptions = r
		}
	}
	return out, nil
}

// ListConfigurationSets pages through the account's sets in name order.
func (s *Service) ListConfigurationSets(ctx context.Context, in *v1wire.ListConfigurationSetsRequest) (*v1wire.ListConfigurationSetsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	names, next, err := s.ConfigSets.List(ctx, acct, after, pageSize(in.MaxItems, 1000, 1000))
	if err != nil {
		return nil, wireError(err)
	}
	out := &v1wire.ListConfigurationSetsResponse{ConfigurationSets: make([]v1wire.ConfigurationSet, len(names)), NextToken: encodeToken(next)}
	for i, n := range names {
		out.ConfigurationSets[i] = v1wire.ConfigurationSet{Name: n}
	}
	return out, nil
}

func (s *Service) UpdateConfigurationSetSendingEnabled(ctx context.Context, in *v1wire.UpdateConfigurationSetSendingEnabledRequest) (*v1wire.UpdateConfigurationSetSendingEnabledOutput, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ConfigSets.SetSendingEnabled(ctx, acct, in.ConfigurationSetName, in.Enabled != nil && *in.Enabled); err != nil {
		return nil, configSetError(err, famSet, in.ConfigurationSetName, "")
	}
	return &v1wire.UpdateConfigurationSetSendingEnabledOutput{}, nil
}

func (s *Service) UpdateConfigurationSetReputationMetricsEnabled(ctx context.Context, in *v1wire.UpdateConfigurationSetReputationMetricsEnabledRequest) (*v1wire.UpdateConfigurationSetReputationMetricsEnabledOutput, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ConfigSets.SetReputationMetrics(ctx, acct, in.ConfigurationSetName, in.Enabled != nil && *in.Enabled); err != nil {
		return nil, configSetError(err, famSet, in.ConfigurationSetName, "")
	}
	return &v1wire.UpdateConfigurationSetReputationMetricsEnabledOutput{}, nil
}

// PutConfigurationSetDeliveryOptions sets the TLS policy; without
// DeliveryOptions it returns to Optional.
func (s *Service) PutConfigurationSetDeliveryOptions(ctx context.Context, in *v1wire.PutConfigurationSetDeliveryOptionsRequest) (*v1wire.PutConfigurationSetDeliveryOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	var v1Policy string
	if in.DeliveryOptions != nil {
		v1Policy = in.DeliveryOptions.TlsPolicy
	}
	p, err := configset.TLSPolicyFromV1(v1Policy)
	if err == nil {
		err = s.ConfigSets.SetTLSPolicy(ctx, acct, in.ConfigurationSetName, p)
	}
	if err != nil {
		return nil, configSetError(err, famDelivery, in.ConfigurationSetName, "")
	}
	return &v1wire.PutConfigurationSetDeliveryOptionsResponse{}, nil
}

func (s *Service) CreateConfigurationSetTrackingOptions(ctx context.Context, in *v1wire.CreateConfigurationSetTrackingOptionsRequest) (*v1wire.CreateConfigurationSetTrackingOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ConfigSets.CreateTracking(ctx, acct, in.ConfigurationSetName, trackingFromV1(in.TrackingOptions)); err != nil {
		return nil, configSetError(err, famTracking, in.ConfigurationSetName, "")
	}
	return &v1wire.CreateConfigurationSetTrackingOptionsResponse{}, nil
}

func (s *Service) UpdateConfigurationSetTrackingOptions(ctx context.Context, in *v1wire.UpdateConfigurationSetTrackingOptionsRequest) (*v1wire.UpdateConfigurationSetTrackingOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ConfigSets.UpdateTracking(ctx, acct, in.ConfigurationSetName, trackingFromV1(in.TrackingOptions)); err != nil {
		return nil, configSetError(err, famTracking, in.ConfigurationSetName, "")
	}
	return &v1wire.UpdateConfigurationSetTrackingOptionsResponse{}, nil
}

func (s *Service) DeleteConfigurationSetTrackingOptions(ctx context.Context, in *v1wire.DeleteConfigurationSetTrackingOptionsRequest) (*v1wire.DeleteConfigurationSetTrackingOptionsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ConfigSets.DeleteTracking(ctx, acct, in.ConfigurationSetName); err != nil {
		return nil, configSetError(err, famTracking, in.ConfigurationSetName, "")
	}
	return &v1wire.DeleteConfigurationSetTrackingOptionsResponse{}, nil
}

func (s *Service) CreateConfigurationSetEventDestination(ctx context.Context, in *v1wire.CreateConfigurationSetEventDestinationRequest) (*v1wire.CreateConfigurationSetEventDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	d := destinationFromV1(in.EventDestination)
	if err := s.ConfigSets.CreateEventDestination(ctx, acct, in.ConfigurationSetName, d); err != nil {
		return nil, configSetError(err, famDestination, in.ConfigurationSetName, d.Name)
	}
	return &v1wire.CreateConfigurationSetEventDestinationResponse{}, nil
}

func (s *Service) UpdateConfigurationSetEventDestination(ctx context.Context, in *v1wire.UpdateConfigurationSetEventDestinationRequest) (*v1wire.UpdateConfigurationSetEventDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	d := destinationFromV1(in.EventDestination)
	if err := s.ConfigSets.UpdateEventDestination(ctx, acct, in.ConfigurationSetName, d); err != nil {
		return nil, configSetError(err, famDestination, in.ConfigurationSetName, d.Name)
	}
	return &v1wire.UpdateConfigurationSetEventDestinationResponse{}, nil
}

func (s *Service) DeleteConfigurationSetEventDestination(ctx context.Context, in *v1wire.DeleteConfigurationSetEventDestinationRequest) (*v1wire.DeleteConfigurationSetEventDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ConfigSets.DeleteEventDestination(ctx, acct, in.ConfigurationSetName, in.EventDestinationName); err != nil {
		return nil, configSetError(err, famDestination, in.ConfigurationSetName, in.EventDestinationName)
	}
	return &v1wire.DeleteConfigurationSetEventDestinationResponse{}, nil
}

func trackingFromV1(t *v1wire.TrackingOptions) configset.Tracking {
	if t == nil {
		return configset.Tracking{}
	}
	return configset.Tracking{CustomRedirectDomain: t.CustomRedirectDomain}
}

// destinationFromV1 converts v1's spellings; a value the model does not know
// passes through for the domain to refuse.
func destinationFromV1(in *v1wire.EventDestination) configset.EventDestination {
	if in == nil {
		return configset.EventDestination{}
	}
	d := configset.EventDestination{Name: in.Name, Enabled: in.Enabled != nil && *in.Enabled}
	for _, name := range in.MatchingEventTypes {
		t, ok := configset.EventTypeFromV1(name)
		if !ok {
			t = configset.EventType(name)
		}
		d.Types = append(d.Types, t)
	}
	if sns := in.SNSDestination; sns != nil {
		d.SNS = &configset.SNS{TopicARN: sns.TopicARN}
	}
	if cw := in.CloudWatchDestination; cw != nil {
		d.CloudWatch = &configset.CloudWatch{}
		for _, dim := range cw.DimensionConfigurations {
			src, ok := configset.SourceFromV1(dim.DimensionValueSource)
			if !ok {
				src = dim.DimensionValueSource
			}
			d.CloudWatch.Dimensions = append(d.CloudWatch.Dimensions, configset.Dimension{Name: dim.DimensionName, Source: src, Default: dim.DefaultDimensionValue})
		}
	}
	if fh := in.KinesisFirehoseDestination; fh != nil {
		d.Firehose = &configset.Firehose{DeliveryStreamARN: fh.DeliveryStreamARN, IAMRoleARN: fh.IAMRoleARN}
	}
	return d
}

// destinationToV1 shows a destination as v1 can: event types and
// destination kinds v1 has no name for (v2's DELIVERY_DELAY, EventBridge …)
// are left out.
func destinationToV1(d configset.EventDestination) v1wire.EventDestination {
	out := v1wire.EventDestination{Name: d.Name, Enabled: &d.Enabled, MatchingEventTypes: []string{}}
	for _, t := range d.Types {
		if n := t.V1(); n != "" {
			out.MatchingEventTypes = append(out.MatchingEventTypes, n)
		}
	}
	switch {
	case d.SNS != nil:
		out.SNSDestination = &v1wire.SNSDestination{TopicARN: d.SNS.TopicARN}
	case d.CloudWatch != nil:
		cw := &v1wire.CloudWatchDestination{DimensionConfigurations: []v1wire.CloudWatchDimensionConfiguration{}}
		for _, dim := range d.CloudWatch.Dimensions {
			cw.DimensionConfigurations = append(cw.DimensionConfigurations, v1wire.CloudWatchDimensionConfiguration{
				DimensionName: dim.Name, DimensionValueSource: configset.SourceV1(dim.Source), DefaultDimensionValue: dim.Default})
		}
		out.CloudWatchDestination = cw
	case d.Firehose != nil:
		out.KinesisFirehoseDestination = &v1wire.KinesisFirehoseDestination{IAMRoleARN: d.Firehose.IAMRoleARN, DeliveryStreamARN: d.Firehose.DeliveryStreamARN}
	}
	return out
}
