package queue

import (
	"encoding/json"

	"github.com/sesamehq/sesame/internal/store"
)

// renderingFailure is the detail of a Rendering Failure event, in SES's
// event-publishing field names (SES-BEHAVIOR §8.3).
type renderingFailure struct {
	TemplateName string `json:"templateName"`
	ErrorMessage string `json:"errorMessage"`
}

// RenderingFailureEvent is the event type SES publishes when it accepted a
// templated message it could not render (with a space, as SES spells it).
const RenderingFailureEvent = "Rendering Failure"

// RecordRenderingFailure stores, inside the caller's write, a templated
// message SES accepted — it has a MessageId — but could not render
// (SES-BEHAVIOR §12): the message row, with no content and no deliveries, so
// nothing is ever delivered, and its Rendering Failure event naming the
// template and SES's reason. The message's Recipients are kept as the
// event's mail.destination.
func (q *Queue) RecordRenderingFailure(tx *store.Tx, m *Message, template, reason string) error {
	// No headers: the message was never built.
	md, err := json.Marshal(meta{From: m.From, Tags: m.Tags, Rcpts: m.Recipients})
	if err != nil {
		return err
	}
	at := store.Millis(m.CreatedAt)
	if _, err := tx.Exec(`INSERT INTO messages(id, account_id, created_at, operation, source, identity, config_set, tags, headers, data, system)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, 0)`,
		m.ID, m.AccountID, at, m.Operation, m.Source, m.From, m.ConfigSet, string(md), []byte{}); err != nil {
		return err
	}
	return addEvent(tx, m.AccountID, m.ID, RenderingFailureEvent, at, renderingFailure{TemplateName: template, ErrorMessage: reason})
}
