package sesv2

import (
	"context"
	"strings"

	"github.com/sesamehq/sesame/internal/api/v2wire"
)

// insightTypes maps SES event types to v2's EventType enum.
var insightTypes = map[string]string{
	"Send": "SEND", "Reject": "REJECT", "Bounce": "BOUNCE", "Complaint": "COMPLAINT", "Delivery": "DELIVERY",
	"Open": "OPEN", "Click": "CLICK", "Rendering Failure": "RENDERING_FAILURE", "DeliveryDelay": "DELIVERY_DELAY",
	"Subscription": "SUBSCRIPTION",
}

// GetMessageInsights reads a message's timeline (SES-BEHAVIOR §14, VDM).
func (s *Service) GetMessageInsights(ctx context.Context, in *v2wire.GetMessageInsightsRequest) (*v2wire.GetMessageInsightsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	ins, err := s.d.Queue.Insights(ctx, acct, in.MessageId)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.GetMessageInsightsResponse{MessageId: ins.MessageID, FromEmailAddress: ins.From, Subject: ins.Subject}
	for name, values := range ins.Tags {
		for _, v := range values {
			out.EmailTags = append(out.EmailTags, v2wire.MessageTag{Name: name, Value: v})
		}
	}
	for _, r := range ins.Recipients {
		ei := v2wire.EmailInsights{Destination: r.Rcpt}
		for _, e := range r.Events {
			typ, ok := insightTypes[e.Type]
			if !ok {
				continue
			}
			at := e.At
			ev := v2wire.InsightsEvent{Timestamp: &at, Type: typ}
			switch typ {
			case "BOUNCE":
				ev.Details = &v2wire.EventDetails{Bounce: &v2wire.Bounce{BounceType: strings.ToUpper(e.BounceType),
					BounceSubType: e.BounceSubType, DiagnosticCode: e.DiagnosticCode}}
			case "COMPLAINT":
				ev.Details = &v2wire.EventDetails{Complaint: &v2wire.Complaint{ComplaintSubType: e.ComplaintSubType,
					ComplaintFeedbackType: e.ComplaintFeedbackType}}
			}
			ei.Events = append(ei.Events, ev)
		}
		out.Insights = append(out.Insights, ei)
	}
	return out, nil
}
