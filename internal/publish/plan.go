package publish

import (
	"context"
	"errors"
	"strings"

	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/events"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/sns"
)

// eventTypes maps the timeline's event types (SES's eventType spelling) to
// the matching types of event destinations (v2 EventType).
var eventTypes = map[string]configset.EventType{
	"Send": configset.EventSend, "Reject": configset.EventReject, "Bounce": configset.EventBounce,
	"Complaint": configset.EventComplaint, "Delivery": configset.EventDelivery, "Open": configset.EventOpen,
	"Click": configset.EventClick, queue.RenderingFailureEvent: configset.EventRenderingFailure,
	"DeliveryDelay": configset.EventDeliveryDelay, "Subscription": configset.EventSubscription,
}

// DestinationType is the matching type of an event type ("" for none).
func DestinationType(eventType string) configset.EventType { return eventTypes[eventType] }

// publication is one SNS message to enqueue.
type publication struct {
	eventID                          int64
	target                           string // "event_destination" | "identity"
	account, topic, subject, message string
}

// increment is one counter to add to once the batch commits.
type increment struct {
	c      counterKind
	labels map[string]string
}

// planner turns a batch of events into publications and increments,
// loading each message, destination list and identity once per batch.
type planner struct {
	d       *Dispatcher
	msgs    map[string]*loaded
	dests   map[[2]string][]configset.EventDestination
	pubs    []publication
	incs    []increment
	skipped []string // destinations newly found unsupported, logged at commit
}

// loaded is a message with what its events share.
type loaded struct {
	stored   *queue.Stored // nil: unknown message
	identity *identity.Identity
	mail     *events.Message
}

func newPlanner(d *Dispatcher) *planner {
	return &planner{d: d, msgs: map[string]*loaded{}, dests: map[[2]string][]configset.EventDestination{}}
}

// plan adds what ev causes. Only store failures are errors: an event about
// a message that is gone, or of a type nothing consumes, is passed over.
func (p *planner) plan(ctx context.Context, ev event) error {
	p.incs = append(p.incs, increment{eventsTotal, map[string]string{"event_type": ev.Type}})
	m, err := p.message(ctx, ev)
	if err != nil || m.stored == nil || m.stored.System {
		return err // Sesame's own mail (verification requests) is not published
	}
	if err := p.destinations(ctx, ev, m); err != nil {
		return err
	}
	return p.notification(ctx, ev, m)
}

// message reads what decides who hears of ev's message: its sender's
// identity and configuration set (queue.LoadBrief). The rest, for the
// event's body, is read by full only when something consumes it.
func (p *planner) message(ctx context.Context, ev event) (*loaded, error) {
	if m, ok := p.msgs[ev.MessageID]; ok {
		return m, nil
	}
	m := &loaded{}
	p.msgs[ev.MessageID] = m
	s, err := p.d.queue.LoadBrief(ctx, ev.MessageID)
	if errors.Is(err, queue.ErrNoMessage) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	m.stored = s
	if s.System {
		return m, nil
	}
	// The identity the send was authorised against: the one covering the
	// sender address, else the From address's (SES-BEHAVIOR §5.1, §8.2).
	for _, addr := range []string{s.Source, s.From} {
		if addr == "" || m.identity != nil {
			continue
		}
		if m.identity, err = p.d.ids.Covering(ctx, s.AccountID, bareAddress(addr)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// full completes m with the message's tags, headers and recipients, and
// the mail object of SES's event JSON, once.
func (p *planner) full(ctx context.Context, m *loaded) error {
	if m.mail != nil {
		return nil
	}
	s, err := p.d.queue.LoadMeta(ctx, m.stored.ID)
	if err != nil {
		return err
	}
	m.stored = s
	name := identity.DomainOf(bareAddress(s.Source))
	if m.identity != nil {
		name = m.identity.Name
	}
	headers := make([]mail.Header, len(s.Headers))
	for i, h := range s.Headers {
		headers[i] = mail.Header{Name: h.Name, Value: h.Value}
	}
	m.mail = &events.Message{
		ID: s.ID, Timestamp: s.CreatedAt, Source: s.Source,
		SourceARN:        "arn:aws:ses:" + p.d.cfg.Region + ":" + s.AccountID + ":identity/" + name,
		SendingAccountID: s.AccountID, Destination: s.Recipients, Headers: headers, Tags: s.Tags,
		Operation: s.Operation, ConfigSet: s.ConfigSet,
	}
	return nil
}

// destinations plans the configuration set's event destinations.
func (p *planner) destinations(ctx context.Context, ev event, m *loaded) error {
	set := m.stored.ConfigSet
	typ := DestinationType(ev.Type)
	if set == "" || typ == "" {
		return nil
	}
	key := [2]string{ev.AccountID, set}
	dests, ok := p.dests[key]
	if !ok {
		var err error
		dests, err = p.d.sets.EventDestinations(ctx, ev.AccountID, set)
		if fault.Is(err, fault.ConfigSetNotFound) {
			err, dests = nil, nil // deleted since the send: nothing to publish to
		}
		if err != nil {
			return err
		}
		p.dests[key] = dests
	}
	var body []byte
	for _, dest := range dests {
		if !dest.Enabled || !dest.Matches(typ) {
			continue
		}
		if err := p.full(ctx, m); err != nil {
			return err
		}
		switch {
		case dest.SNS != nil:
			if body == nil {
				var err error
				if body, err = events.Publishing(ev.Type, ev.Detail, m.mail); err != nil {
					return err
				}
			}
			p.pubs = append(p.pubs, publication{eventID: ev.ID, target: "event_destination", account: ev.AccountID,
				topic: dest.SNS.TopicARN, subject: Subject, message: string(body)})
		case dest.CloudWatch != nil:
			p.incs = append(p.incs, increment{cloudWatch, dimensionLabels(ev, m, set, dest.CloudWatch.Dimensions)})
		default:
			p.incs = append(p.incs, increment{skippedTotal, map[string]string{"kind": string(dest.Kind())}})
			if k := ev.AccountID + "/" + set + "/" + dest.Name; !p.d.skipped[k] {
				p.skipped = append(p.skipped, k)
			}
		}
	}
	return nil
}

// notifications are the identity notification types (SES-BEHAVIOR §5.7).
var notifications = map[string]bool{identity.NotifyBounce: true, identity.NotifyComplaint: true, identity.NotifyDelivery: true}

// notification plans the sending identity's notification for Bounce,
// Complaint and Delivery.
func (p *planner) notification(ctx context.Context, ev event, m *loaded) error {
	if !notifications[ev.Type] || m.identity == nil {
		return nil
	}
	n, err := p.d.ids.Notifications(ctx, ev.AccountID, m.identity.Name)
	if err != nil {
		return err
	}
	topic := n.Topic(ev.Type)
	if topic == "" {
		return nil
	}
	if err := p.full(ctx, m); err != nil {
		return err
	}
	body, err := events.Notification(ev.Type, ev.Detail, m.mail, n.Headers(ev.Type))
	if err != nil {
		return err
	}
	p.pubs = append(p.pubs, publication{eventID: ev.ID, target: "identity", account: ev.AccountID, topic: topic, message: string(body)})
	return nil
}

// count applies the batch's increments once the batch has committed.
func (p *planner) count() {
	for _, inc := range p.incs {
		p.d.counter.of(inc.c).Inc(inc.labels)
	}
	for _, k := range p.skipped {
		if !p.d.skipped[k] {
			p.d.skipped[k] = true
			p.d.log.Debug("event destination kind not supported: its events are counted as skipped", "destination", k)
		}
	}
}

// permanent reports whether a publication failed for a reason retrying
// cannot cure: the topic is gone or not the account's, or SNS refused the
// message.
func permanent(err error) bool {
	var f *fault.Error
	var auth *sns.AuthorizationError
	var attr *sns.AttributeError
	return errors.As(err, &f) && f.Kind != fault.Internal || errors.As(err, &auth) || errors.As(err, &attr)
}

// bareAddress is the address of "Name <addr>" or addr itself.
func bareAddress(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Addr
	}
	return strings.TrimSpace(s)
}
