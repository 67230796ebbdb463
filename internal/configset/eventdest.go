package configset

import (
	"regexp"
	"slices"

	"github.com/sesamehq/sesame/internal/fault"
)

// EventType is an event a destination receives, in v2's spelling (v2 shape
// EventType; SES-BEHAVIOR §9).
type EventType string

const (
	EventSend             EventType = "SEND"
	EventReject           EventType = "REJECT"
	EventBounce           EventType = "BOUNCE"
	EventComplaint        EventType = "COMPLAINT"
	EventDelivery         EventType = "DELIVERY"
	EventOpen             EventType = "OPEN"
	EventClick            EventType = "CLICK"
	EventRenderingFailure EventType = "RENDERING_FAILURE"
	EventDeliveryDelay    EventType = "DELIVERY_DELAY" // v2 only
	EventSubscription     EventType = "SUBSCRIPTION"   // v2 only
)

// eventOrder is the model's order of the types, used to store them canonically.
var eventOrder = []EventType{EventSend, EventReject, EventBounce, EventComplaint, EventDelivery, EventOpen, EventClick,
	EventRenderingFailure, EventDeliveryDelay, EventSubscription}

// v1EventNames are v1's names (model EventType of 2010-12-01).
var v1EventNames = map[EventType]string{
	EventSend: "send", EventReject: "reject", EventBounce: "bounce", EventComplaint: "complaint", EventDelivery: "delivery",
	EventOpen: "open", EventClick: "click", EventRenderingFailure: "renderingFailure",
}

// V1 is the type as v1 spells it, or "" for the types v1 has no name for
// (DELIVERY_DELAY, SUBSCRIPTION).
func (t EventType) V1() string { return v1EventNames[t] }

// EventTypeFromV1 reads v1's spelling.
func EventTypeFromV1(s string) (EventType, bool) {
	for t, n := range v1EventNames {
		if n == s {
			return t, true
		}
	}
	return "", false
}

// Sources of a CloudWatch dimension's value (v2 DimensionValueSource).
const (
	SourceMessageTag  = "MESSAGE_TAG"
	SourceEmailHeader = "EMAIL_HEADER"
	SourceLinkTag     = "LINK_TAG"
)

var v1Sources = map[string]string{SourceMessageTag: "messageTag", SourceEmailHeader: "emailHeader", SourceLinkTag: "linkTag"}

// SourceV1 is a dimension source as v1 spells it.
func SourceV1(s string) string { return v1Sources[s] }

// SourceFromV1 reads v1's spelling of a dimension source.
func SourceFromV1(s string) (string, bool) {
	for v2, v1 := range v1Sources {
		if v1 == s {
			return v2, true
		}
	}
	return "", false
}

// Kind names the service an event destination publishes to.
type Kind string

const (
	KindSNS         Kind = "SNS"
	KindCloudWatch  Kind = "CLOUD_WATCH"
	KindFirehose    Kind = "KINESIS_FIREHOSE"
	KindEventBridge Kind = "EVENT_BRIDGE"
	KindPinpoint    Kind = "PINPOINT"
)

// EventDestination is where a set's events of the matching types go (v2
// EventDestination). Exactly one of the destination members is set.
type EventDestination struct {
	Name    string
	Enabled bool // v1 and v2 default: false
	Types   []EventType

	SNS         *SNS
	CloudWatch  *CloudWatch
	Firehose    *Firehose
	EventBridge *EventBridge
	Pinpoint    *Pinpoint
}

// SNS is an Amazon SNS topic destination.
type SNS struct{ TopicARN string }

// CloudWatch is an Amazon CloudWatch metrics destination.
type CloudWatch struct{ Dimensions []Dimension }

// Dimension is one CloudWatch dimension: its name, where its value comes
// from (SourceMessageTag …), and the value when the message has none.
type Dimension struct{ Name, Source, Default string }

// Firehose is an Amazon Kinesis Data Firehose destination.
type Firehose struct{ DeliveryStreamARN, IAMRoleARN string }

// EventBridge is an Amazon EventBridge destination (the default bus only).
type EventBridge struct{ EventBusARN string }

// Pinpoint is an Amazon Pinpoint project destination.
type Pinpoint struct{ ApplicationARN string }

// Kind returns the kind of the destination set ("" for none).
func (d *EventDestination) Kind() Kind {
	switch {
	case d.SNS != nil:
		return KindSNS
	case d.CloudWatch != nil:
		return KindCloudWatch
	case d.Firehose != nil:
		return KindFirehose
	case d.EventBridge != nil:
		return KindEventBridge
	case d.Pinpoint != nil:
		return KindPinpoint
	}
	return ""
}

// Matches reports whether the destination receives events of type t.
func (d *EventDestination) Matches(t EventType) bool { return slices.Contains(d.Types, t) }

// DestinationError is an invalid destination of one kind, for which v1 has
// its own codes (InvalidSNSDestination, InvalidCloudWatchDestination,
// InvalidFirehoseDestination). It unwraps to an InvalidParameter fault.
type DestinationError struct {
	Kind Kind
	Err  *fault.Error
}

func (e *DestinationError) Error() string { return e.Err.Message }
func (e *DestinationError) Unwrap() error { return e.Err }

func destError(k Kind, format string, args ...any) error {
	return &DestinationError{Kind: k, Err: fault.New(fault.InvalidParameter, format, args...)}
}

var (
	// dimensionNameRE: "letters, numbers, underscores, dashes, or colons; 256
	// characters or fewer" (model CloudWatchDimensionConfiguration).
	dimensionNameRE = regexp.MustCompile(`^[A-Za-z0-9_:-]{1,256}$`)
	// dimensionValueRE: "letters, numbers, underscores, dashes, at signs, or
	// periods; 256 characters or fewer".
	dimensionValueRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,256}$`)
)

const maxDimensions = 10

// validate checks d for an account in region and stores its types in
// canonical order.
func (d *EventDestination) validate(region, account string) error {
	if !ValidName(d.Name) {
		return fault.Named(fault.InvalidParameter, d.Name,
			"Invalid event destination name <%s>: up to 64 letters, digits, underscores and dashes.", d.Name)
	}
	if len(d.Types) == 0 {
		return fault.New(fault.InvalidParameter, "MatchingEventTypes must name at least one event type.")
	}
	var types []EventType
	for _, t := range eventOrder {
		if slices.Contains(d.Types, t) {
			types = append(types, t)
		}
	}
	for _, t := range d.Types {
		if !slices.Contains(eventOrder, t) {
			return fault.New(fault.InvalidParameter, "Invalid event type %q.", t)
		}
	}
	d.Types = types

	n := 0
	for _, set := range []bool{d.SNS != nil, d.CloudWatch != nil, d.Firehose != nil, d.EventBridge != nil, d.Pinpoint != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fault.New(fault.InvalidParameter, "An event destination needs exactly one destination: SNS, CloudWatch, Kinesis Firehose, EventBridge or Pinpoint.")
	}
	switch {
	case d.SNS != nil:
		// SNS topics must be in the set's own region and account (SES-BEHAVIOR §9).
		a, ok := parseARN(d.SNS.TopicARN)
		if !ok || a.service != "sns" || (region != "" && a.region != region) || a.account != account {
			return destError(KindSNS, "Invalid SNS topic ARN %s: the topic must be in region %s and account %s.", d.SNS.TopicARN, region, account)
		}
	case d.CloudWatch != nil:
		dims := d.CloudWatch.Dimensions
		if len(dims) == 0 || len(dims) > maxDimensions {
			return destError(KindCloudWatch, "A CloudWatch destination needs 1 to %d dimension configurations.", maxDimensions)
		}
		for _, dim := range dims {
			if !dimensionNameRE.MatchString(dim.Name) {
				return destError(KindCloudWatch, "Invalid dimension name %q.", dim.Name)
			}
			if !dimensionValueRE.MatchString(dim.Default) {
				return destError(KindCloudWatch, "Invalid default dimension value %q.", dim.Default)
			}
			if _, ok := v1Sources[dim.Source]; !ok {
				return destError(KindCloudWatch, "Invalid dimension value source %q.", dim.Source)
			}
		}
	case d.Firehose != nil:
		s, sok := parseARN(d.Firehose.DeliveryStreamARN)
		r, rok := parseARN(d.Firehose.IAMRoleARN)
		if !sok || s.service != "firehose" || !rok || r.service != "iam" {
			return destError(KindFirehose, "Invalid Kinesis Firehose destination: DeliveryStreamARN must be a firehose ARN and IAMRoleARN an IAM role ARN.")
		}
	case d.EventBridge != nil:
		// "Only the default bus is supported" (model EventBridgeDestination).
		a, ok := parseARN(d.EventBridge.EventBusARN)
		if !ok || a.service != "events" || a.resource != "event-bus/default" {
			return destError(KindEventBridge, "Invalid EventBridge destination %s: only the default event bus is supported.", d.EventBridge.EventBusARN)
		}
	case d.Pinpoint != nil:
		if a, ok := parseARN(d.Pinpoint.ApplicationARN); d.Pinpoint.ApplicationARN != "" && (!ok || a.service != "mobiletargeting") {
			return destError(KindPinpoint, "Invalid Pinpoint application ARN %s.", d.Pinpoint.ApplicationARN)
		}
	}
	return nil
}
