// Package events renders Sesame's message timeline in the JSON SES sends to
// its consumers (SES-BEHAVIOR §8): event publishing records
// ({"eventType": …, "mail": …, "<detail>": …}) for configuration-set event
// destinations, and notifications ({"notificationType": …}) for identity
// notification topics. Consumers written for SES — listmonk, django-ses,
// hand-written SNS handlers — parse these unchanged, so field names, nesting
// and formats follow SES exactly.
package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sesamehq/sesame/internal/mail"
)

// TimeFormat is SES's timestamp form: ISO 8601, milliseconds, UTC.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// maxHeaderBytes is where SES truncates mail.headers (§8.2).
const maxHeaderBytes = 10 << 10

// detailKeys maps an event type to the member holding its details.
var detailKeys = map[string]string{
	"Send": "send", "Reject": "reject", "Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivery",
	"Open": "open", "Click": "click", "Rendering Failure": "failure", "DeliveryDelay": "deliveryDelay",
	"Subscription": "subscription",
}

// Message is what the mail object is made from.
type Message struct {
	ID               string
	Timestamp        time.Time
	Source           string // the sender address as given
	SourceARN        string // the identity the send was authorised against
	SendingAccountID string
	SourceIP         string
	CallerIdentity   string // the IAM user name, or "root"
	Destination      []string
	Headers          []mail.Header // as submitted
	Tags             map[string][]string
	Operation        string // ses:operation
	ConfigSet        string
}

// Mail is SES's mail object.
type Mail struct {
	Timestamp        string              `json:"timestamp"`
	Source           string              `json:"source"`
	SourceARN        string              `json:"sourceArn"`
	SourceIP         string              `json:"sourceIp,omitempty"`
	SendingAccountID string              `json:"sendingAccountId"`
	CallerIdentity   string              `json:"callerIdentity,omitempty"`
	MessageID        string              `json:"messageId"`
	Destination      []string            `json:"destination"`
	HeadersTruncated *bool               `json:"headersTruncated,omitempty"`
	Headers          []Header            `json:"headers,omitempty"`
	CommonHeaders    *CommonHeaders      `json:"commonHeaders,omitempty"`
	Tags             map[string][]string `json:"tags,omitempty"`
}

// Header is one header in mail.headers.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CommonHeaders is mail.commonHeaders.
type CommonHeaders struct {
	From       []string `json:"from,omitempty"`
	ReplyTo    []string `json:"replyTo,omitempty"`
	Sender     []string `json:"sender,omitempty"`
	To         []string `json:"to,omitempty"`
	Cc         []string `json:"cc,omitempty"`
	Bcc        []string `json:"bcc,omitempty"`
	ReturnPath string   `json:"returnPath,omitempty"`
	Date       string   `json:"date,omitempty"`
	MessageID  string   `json:"messageId,omitempty"`
	Subject    string   `json:"subject,omitempty"`
}

// mailObject builds the mail object; withHeaders adds headers and
// commonHeaders, withTags the tags with SES's automatic ses:* ones.
func mailObject(m *Message, withHeaders, withTags, notification bool) Mail {
	out := Mail{
		Timestamp: m.Timestamp.UTC().Format(TimeFormat), Source: m.Source, SourceARN: m.SourceARN,
		SendingAccountID: m.SendingAccountID, MessageID: m.ID, Destination: m.Destination,
	}
	if out.Destination == nil {
		out.Destination = []string{}
	}
	if notification {
		out.SourceIP, out.CallerIdentity = m.SourceIP, m.CallerIdentity
	}
	if withHeaders {
		truncated := false
		size := 0
		for _, h := range m.Headers {
			size += len(h.Name) + len(h.Value) + 4
			if size > maxHeaderBytes {
				truncated = true
				break
			}
			out.Headers = append(out.Headers, Header{Name: h.Name, Value: h.Value})
		}
		out.HeadersTruncated = &truncated
		c := mail.ExtractCommonHeaders(m.Headers)
		out.CommonHeaders = &CommonHeaders{From: c.From, ReplyTo: c.ReplyTo, Sender: c.Sender, To: c.To, Cc: c.Cc, Bcc: c.Bcc,
			ReturnPath: c.ReturnPath, Date: c.Date, MessageID: c.MessageID, Subject: c.Subject}
	}
	if withTags {
		out.Tags = map[string][]string{}
		for k, v := range m.Tags {
			out.Tags[k] = append([]string(nil), v...)
		}
		auto := map[string]string{
			"ses:operation": m.Operation, "ses:configuration-set": m.ConfigSet, "ses:source-ip": m.SourceIP,
			"ses:from-domain": domainOf(m.Source), "ses:caller-identity": m.CallerIdentity,
		}
		for k, v := range auto {
			if v != "" {
				out.Tags[k] = []string{v}
			}
		}
	}
	return out
}

// domainOf is the domain of an address, display name or not.
func domainOf(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return mail.Domain(a.Addr)
	}
	return ""
}

// Publishing renders an event-publishing record: eventType, the mail object
// with headers and tags, and the detail object under its SES key. detail is
// the timeline entry's JSON.
func Publishing(eventType string, detail json.RawMessage, m *Message) ([]byte, error) {
	key, ok := detailKeys[eventType]
	if !ok {
		return nil, fmt.Errorf("events: unknown event type %q", eventType)
	}
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	return marshalOrdered([]member{{"eventType", eventType}, {"mail", mailObject(m, true, true, false)}, {key, detail}})
}

// Notification renders an identity notification (Bounce, Complaint or
// Delivery): notificationType, the mail object — with headers only when the
// identity asks for them — and the detail.
func Notification(notificationType string, detail json.RawMessage, m *Message, withHeaders bool) ([]byte, error) {
	switch notificationType {
	case "Bounce", "Complaint", "Delivery":
	default:
		return nil, fmt.Errorf("events: no notification for %q", notificationType)
	}
	key := detailKeys[notificationType]
	return marshalOrdered([]member{{"notificationType", notificationType}, {"mail", mailObject(m, withHeaders, false, true)}, {key, detail}})
}

type member struct {
	name  string
	value any
}

// marshalOrdered writes an object with its members in SES's order.
func marshalOrdered(ms []member) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSON(&b, m.name); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := writeJSON(&b, m.value); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSON encodes v without HTML escaping: SES writes "<a@b>" as is.
func writeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}
