package publish

import (
	"encoding/json"
	"strings"

	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/metrics"
)

// Counter families the dispatcher keeps (served at GET /metrics).
const (
	// MetricCloudWatch counts events of CloudWatch destinations, labelled
	// event_type, configuration_set and one label per dimension.
	MetricCloudWatch = "sesame_ses_events_total"
	// MetricEvents counts every timeline event handed on, by event_type:
	// accepted messages (Send) and delivery outcomes.
	MetricEvents = "sesame_events_total"
	// MetricSkipped counts events for destinations Sesame has no
	// counterpart for (Firehose, EventBridge, Pinpoint), by kind.
	MetricSkipped = "sesame_event_destinations_skipped_total"
	// MetricFailed counts publications dropped because their topic is gone
	// or refused them, by target (event_destination, identity).
	MetricFailed = "sesame_event_publications_failed_total"
)

type counterKind int

const (
	eventsTotal counterKind = iota
	cloudWatch
	skippedTotal
	failedTotal
)

type counters struct{ events, cloudWatch, skipped, failed *metrics.Counter }

func newCounters(r *metrics.Registry) counters {
	return counters{
		events:     r.Counter(MetricEvents, "Message timeline events handed to their consumers, by SES event type."),
		cloudWatch: r.Counter(MetricCloudWatch, "Events of configuration-set CloudWatch event destinations, labelled with the destinations' dimensions."),
		skipped:    r.Counter(MetricSkipped, "Events for event destinations of kinds Sesame does not publish to (Firehose, EventBridge, Pinpoint)."),
		failed:     r.Counter(MetricFailed, "Event publications dropped because their SNS topic no longer exists or refused them."),
	}
}

func (c counters) of(k counterKind) *metrics.Counter {
	switch k {
	case cloudWatch:
		return c.cloudWatch
	case skippedTotal:
		return c.skipped
	case failedTotal:
		return c.failed
	}
	return c.events
}

// Labels of MetricCloudWatch besides the dimensions; a dimension whose name
// would collide with one (after metrics.LabelName) is prefixed "dimension_".
const (
	labelEventType = "event_type"
	labelConfigSet = "configuration_set"
)

// dimensionLabels are a CloudWatch destination's labels for ev: each
// dimension's value from the message tag, email header or link tag it
// names, else its default (SES-BEHAVIOR §9).
func dimensionLabels(ev event, m *loaded, set string, dims []configset.Dimension) map[string]string {
	labels := map[string]string{labelEventType: ev.Type, labelConfigSet: set}
	for _, dim := range dims {
		name := metrics.LabelName(dim.Name)
		if name == labelEventType || name == labelConfigSet || strings.HasPrefix(name, "__") {
			name = "dimension_" + strings.TrimLeft(name, "_")
		}
		v := ""
		switch dim.Source {
		case configset.SourceMessageTag:
			v = tagValue(m, dim.Name)
		case configset.SourceEmailHeader:
			v = headerValue(m, dim.Name)
		case configset.SourceLinkTag:
			v = linkTagValue(ev, dim.Name)
		}
		if v == "" {
			v = dim.Default
		}
		labels[name] = v
	}
	return labels
}

// tagValue is the message's tag name, including SES's automatic ses:* tags.
func tagValue(m *loaded, name string) string {
	if vs := m.stored.Tags[name]; len(vs) > 0 {
		return vs[0]
	}
	switch name {
	case "ses:configuration-set":
		return m.stored.ConfigSet
	case "ses:operation":
		return m.stored.Operation
	case "ses:from-domain":
		if a := bareAddress(m.stored.Source); strings.Contains(a, "@") {
			return strings.ToLower(a[strings.LastIndexByte(a, '@')+1:])
		}
	}
	return ""
}

// headerValue is the first header field of that name, as submitted.
func headerValue(m *loaded, name string) string {
	for _, h := range m.stored.Headers {
		if strings.EqualFold(h.Name, name) {
			return strings.TrimSpace(h.Value)
		}
	}
	return ""
}

// linkTagValue is a Click event's link tag (click.linkTags).
func linkTagValue(ev event, name string) string {
	if ev.Type != "Click" {
		return ""
	}
	var click struct {
		LinkTags map[string][]string `json:"linkTags"`
	}
	if json.Unmarshal(ev.Detail, &click) != nil {
		return ""
	}
	if vs := click.LinkTags[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}
