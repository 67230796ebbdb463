package queue

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
)

// Insights is a message's timeline per recipient (v2 GetMessageInsights).
type Insights struct {
	MessageID  string
	From       string
	Subject    string
	Tags       map[string][]string
	Recipients []RecipientInsights
}

// RecipientInsights are the events that concern one recipient.
type RecipientInsights struct {
	Rcpt   string
	Events []InsightEvent
}

// InsightEvent is one event of the timeline.
type InsightEvent struct {
	Type string // SES event type: Send, Delivery, Bounce, Complaint, DeliveryDelay, …
	At   time.Time
	// Set for bounces and complaints.
	BounceType, BounceSubType, DiagnosticCode string
	ComplaintSubType, ComplaintFeedbackType   string
}

// Insights returns a message's timeline, or NotFound when the account has no
// such message.
func (q *Queue) Insights(ctx context.Context, account, id string) (*Insights, error) {
	m, err := q.Load(ctx, id)
	if errors.Is(err, ErrNoMessage) || (err == nil && (m.AccountID != account || m.System)) {
		return nil, fault.Named(fault.NotFound, id, "Message %s does not exist.", id)
	}
	if err != nil {
		return nil, err
	}
	events, err := q.Events(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &Insights{MessageID: id, From: m.From, Tags: m.Tags}
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, "Subject") {
			dec := new(mime.WordDecoder)
			if s, err := dec.DecodeHeader(h.Value); err == nil {
				out.Subject = s
			} else {
				out.Subject = h.Value
			}
		}
	}
	index := map[string]int{}
	for _, r := range m.Recipients {
		key := strings.ToLower(r)
		if _, dup := index[key]; dup {
			continue
		}
		index[key] = len(out.Recipients)
		out.Recipients = append(out.Recipients, RecipientInsights{Rcpt: r})
	}
	for _, e := range events {
		var p eventPayload
		if err := json.Unmarshal([]byte(e.Payload), &p); err != nil {
			return nil, err
		}
		ev := InsightEvent{Type: e.Type, At: e.At, BounceType: p.BounceType, BounceSubType: p.BounceSubType,
			ComplaintSubType: p.ComplaintSubType, ComplaintFeedbackType: p.ComplaintFeedbackType}
		concerned := p.recipients()
		if concerned == nil { // message-wide events: Send, Reject, Rendering Failure
			for i := range out.Recipients {
				out.Recipients[i].Events = append(out.Recipients[i].Events, ev)
			}
			continue
		}
		for _, r := range concerned {
			if i, ok := index[strings.ToLower(r.EmailAddress)]; ok {
				rev := ev
				rev.DiagnosticCode = r.DiagnosticCode
				out.Recipients[i].Events = append(out.Recipients[i].Events, rev)
			}
		}
	}
	return out, nil
}

// eventPayload is the union of the event details that name recipients.
type eventPayload struct {
	Recipients            []string           `json:"recipients"`
	BouncedRecipients     []bouncedRecipient `json:"bouncedRecipients"`
	DelayedRecipients     []bouncedRecipient `json:"delayedRecipients"`
	ComplainedRecipients  []bouncedRecipient `json:"complainedRecipients"`
	BounceType            string             `json:"bounceType"`
	BounceSubType         string             `json:"bounceSubType"`
	ComplaintSubType      string             `json:"complaintSubType"`
	ComplaintFeedbackType string             `json:"complaintFeedbackType"`
}

// recipients lists who an event concerns; nil means the whole message.
func (p *eventPayload) recipients() []bouncedRecipient {
	switch {
	case p.Recipients != nil:
		out := make([]bouncedRecipient, len(p.Recipients))
		for i, r := range p.Recipients {
			out[i] = bouncedRecipient{EmailAddress: r}
		}
		return out
	case p.BouncedRecipients != nil:
		return p.BouncedRecipients
	case p.DelayedRecipients != nil:
		return p.DelayedRecipients
	case p.ComplainedRecipients != nil:
		return p.ComplainedRecipients
	}
	return nil
}
