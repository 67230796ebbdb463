package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sesamehq/sesame/internal/store"
)

// SNS's Publish limits ("Publish", SNS API Reference).
const (
	// MaxMessageBytes bounds a message with its attributes (256 KiB).
	MaxMessageBytes = 256 << 10
	maxSubject      = 100
	maxAttributes   = 10
	maxAttrName     = 256
)

// PublishInput is one message to publish to a topic.
type PublishInput struct {
	TopicARN string
	// Subject is the notification's Subject; "" for none.
	Subject string
	Message string
	// MessageStructure "json" makes Message a JSON object of per-protocol
	// messages with a required "default" (SNS); "" sends Message as is.
	MessageStructure string
	// MessageAttributes travel in the envelope's MessageAttributes.
	MessageAttributes map[string]Attribute
}

// Attribute is a message attribute: DataType String, Number, Binary or
// String.Array, optionally with a ".<custom>" suffix.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Publish publishes subject and message to a topic of account and returns
// the MessageId once the message is durable; SES events reach their SNS
// subscribers through here. Delivery happens later, in Run.
func (s *Service) Publish(ctx context.Context, account, topicARN, subject, message string) (string, error) {
	return s.PublishMessage(ctx, account, PublishInput{TopicARN: topicARN, Subject: subject, Message: message})
}

// PublishTx is Publish inside the caller's store write, so that what the
// notification reports and the notification commit together; deliveries
// start once the write commits.
func (s *Service) PublishTx(tx *store.Tx, account, topicARN, subject, message string) (string, error) {
	return s.PublishMessageTx(tx, account, PublishInput{TopicARN: topicARN, Subject: subject, Message: message})
}

// PublishMessage is SNS Publish with every option.
func (s *Service) PublishMessage(ctx context.Context, account string, in PublishInput) (string, error) {
	var id string
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.PublishMessageTx(tx, account, in)
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// PublishMessageTx is PublishMessage inside the caller's store write.
func (s *Service) PublishMessageTx(tx *store.Tx, account string, in PublishInput) (string, error) {
	t, err := s.ownTopic(account, in.TopicARN, "Publish")
	if err != nil {
		return "", err
	}
	attrs, err := checkPublish(&in)
	if err != nil {
		return "", err
	}
	topic, err := loadTopic(tx, t)
	if err != nil {
		return "", err
	}
	rows, err := tx.Query("SELECT arn FROM sns_subscriptions WHERE account_id = ? AND topic = ? AND status = 'confirmed' ORDER BY arn", t.account, t.name)
	if err != nil {
		return "", err
	}
	var subs []string
	for rows.Next() {
		var arn string
		if err := rows.Scan(&arn); err != nil {
			rows.Close()
			return "", err
		}
		subs = append(subs, arn)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	m := outboxMessage{
		account: t.account, topicARN: t.arn(), typ: TypeNotification, subject: in.Subject, body: in.Message,
		structure: in.MessageStructure, attributes: attrs, sigVersion: "1",
	}
	if v := topic.attrs[AttrSignatureVersion]; v != "" {
		m.sigVersion = v
	}
	return s.enqueue(tx, m, subs, s.now())
}

// checkPublish applies SNS's rules to a Publish and returns the attributes
// as the envelope carries them (JSON), or "".
func checkPublish(in *PublishInput) (string, error) {
	if in.Subject != "" && !validSubject(in.Subject) {
		return "", invalid("Subject")
	}
	if in.Message == "" {
		return "", invalid("Empty message")
	}
	if !utf8.ValidString(in.Message) {
		return "", invalid("Message Reason: the message must be UTF-8")
	}
	switch in.MessageStructure {
	case "":
	case "json":
		var m map[string]string
		if err := json.Unmarshal([]byte(in.Message), &m); err != nil {
			return "", invalid("Message Structure - JSON message body failed to parse")
		}
		if _, ok := m["default"]; !ok {
			return "", invalid("Message Structure - No default entry in JSON message body")
		}
	default:
		return "", invalid("MessageStructure")
	}
	size := len(in.Message)
	if len(in.MessageAttributes) > maxAttributes {
		return "", attributeInvalid("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(in.MessageAttributes), maxAttributes)
	}
	env := make(map[string]EnvelopeAttribute, len(in.MessageAttributes))
	for name, a := range in.MessageAttributes {
		ea, err := checkAttribute(name, a)
		if err != nil {
			return "", err
		}
		env[name] = ea
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	if size > MaxMessageBytes {
		return "", invalid("Message too long")
	}
	if len(env) == 0 {
		return "", nil
	}
	return mustJSON(env), nil
}

// validSubject: at most 100 characters, no line breaks or control
// characters, starting with a letter, digit or punctuation (SNS Publish).
func validSubject(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxSubject {
		return false
	}
	for i, r := range s {
		if unicode.IsControl(r) || (i == 0 && unicode.IsSpace(r)) {
			return false
		}
	}
	return true
}

// checkAttribute applies SNS's message attribute rules ("Amazon SNS message
// attributes") and returns the envelope form.
func checkAttribute(name string, a Attribute) (EnvelopeAttribute, error) {
	if !validAttributeName(name) {
		return EnvelopeAttribute{}, attributeInvalid("The message attribute name '%s' is invalid. Names may have up to 256 letters, digits, hyphens, underscores and periods, must not start or end with a period or have two in a row, and must not start with AWS. or Amazon.", name)
	}
	base, _, _ := strings.Cut(a.DataType, ".")
	if a.DataType == "String.Array" || strings.HasPrefix(a.DataType, "String.Array.") {
		base = "String.Array"
	}
	if len(a.DataType) > 256 || (base != "String" && base != "Number" && base != "Binary" && base != "String.Array") {
		return EnvelopeAttribute{}, attributeInvalid("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
	}
	if base == "Binary" {
		if len(a.BinaryValue) == 0 {
			return EnvelopeAttribute{}, attributeInvalid("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
		}
		return EnvelopeAttribute{Type: a.DataType, Value: base64.StdEncoding.EncodeToString(a.BinaryValue)}, nil
	}
	if a.StringValue == "" {
		return EnvelopeAttribute{}, attributeInvalid("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
	}
	switch base {
	case "Number":
		if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
			return EnvelopeAttribute{}, attributeInvalid("Could not cast message attribute '%s' value to number.", name)
		}
	case "String.Array":
		var v []any
		if err := json.Unmarshal([]byte(a.StringValue), &v); err != nil {
			return EnvelopeAttribute{}, attributeInvalid("The message attribute '%s' with type 'String.Array' must be a JSON array.", name)
		}
	}
	return EnvelopeAttribute{Type: a.DataType, Value: a.StringValue}, nil
}

func validAttributeName(n string) bool {
	if n == "" || len(n) > maxAttrName || n[0] == '.' || n[len(n)-1] == '.' || strings.Contains(n, "..") {
		return false
	}
	lower := strings.ToLower(n)
	if strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		return false
	}
	for i := range len(n) {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// outboxMessage is a row of sns_messages.
type outboxMessage struct {
	account, topicARN, typ, subject, body, structure, attributes, token, sigVersion string
}

// enqueue stores m with one queued delivery per subscription and wakes the
// dispatcher after the commit. With no subscription nothing is stored; the
// MessageId is returned all the same, as SNS does.
func (s *Service) enqueue(tx *store.Tx, m outboxMessage, subscriptions []string, now time.Time) (string, error) {
	id := uuid.NewString()
	if len(subscriptions) == 0 {
		return id, nil
	}
	at := store.Millis(now)
	if _, err := tx.Exec(`INSERT INTO sns_messages(id, account_id, topic_arn, type, subject, body, structure, attributes, token, sig_version, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, m.account, m.topicARN, m.typ, m.subject, m.body, m.structure, m.attributes, m.token, m.sigVersion, at); err != nil {
		return "", err
	}
	for _, sub := range subscriptions {
		if _, err := tx.Exec("INSERT INTO sns_deliveries(message_id, subscription, state, next_at, updated_at) VALUES (?, ?, 'queued', ?, ?)",
			id, sub, at, at); err != nil {
			return "", err
		}
	}
	tx.AfterCommit(s.poke)
	return id, nil
}
