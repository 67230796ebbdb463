package sns

import (
	"strings"
	"time"
)

// The message types SNS POSTs to HTTP(S) subscribers (header
// x-amz-sns-message-type and the envelope's Type).
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// TimeFormat is the envelope's Timestamp: ISO 8601, milliseconds, UTC.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Envelope is the JSON document an HTTP(S) subscriber receives ("HTTP/HTTPS
// notification JSON format", SNS Developer Guide). Members are in SNS's
// order; empty ones are left out (a notification without a subject has no
// Subject member).
type Envelope struct {
	Type              string                       `json:"Type"`
	MessageID         string                       `json:"MessageId"`
	Token             string                       `json:"Token,omitempty"`
	TopicARN          string                       `json:"TopicArn"`
	Subject           string                       `json:"Subject,omitempty"`
	Message           string                       `json:"Message"`
	SubscribeURL      string                       `json:"SubscribeURL,omitempty"`
	Timestamp         string                       `json:"Timestamp"`
	SignatureVersion  string                       `json:"SignatureVersion"`
	Signature         string                       `json:"Signature"`
	SigningCertURL    string                       `json:"SigningCertURL"`
	UnsubscribeURL    string                       `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]EnvelopeAttribute `json:"MessageAttributes,omitempty"`
}

// EnvelopeAttribute is a message attribute in an envelope; a Binary value
// is base64.
type EnvelopeAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// canonical is the string SNS signs: "Name\nValue\n" for each signed member
// in byte order of the names — Message, MessageId, Subject (only when
// present), Timestamp, TopicArn, Type for a notification; Message,
// MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type for the
// (un)subscribe confirmations.
func (e *Envelope) canonical() []byte {
	var b strings.Builder
	add := func(name, value string) {
		b.WriteString(name)
		b.WriteByte('\n')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	add("Message", e.Message)
	add("MessageId", e.MessageID)
	if e.Type == TypeNotification {
		if e.Subject != "" {
			add("Subject", e.Subject)
		}
	} else {
		add("SubscribeURL", e.SubscribeURL)
	}
	add("Timestamp", e.Timestamp)
	if e.Type != TypeNotification {
		add("Token", e.Token)
	}
	add("TopicArn", e.TopicARN)
	add("Type", e.Type)
	return []byte(b.String())
}

// sign fills SignatureVersion, Signature and SigningCertURL.
func (s *Service) sign(e *Envelope, version string) error {
	sig, err := s.signer.Sign(version, e.canonical())
	if err != nil {
		return err
	}
	e.SignatureVersion, e.Signature, e.SigningCertURL = version, sig, s.SigningCertURL()
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }
