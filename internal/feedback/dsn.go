package feedback

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actions of a DSN recipient (RFC 3464 §2.3.3).
const (
	ActionFailed    = "failed"
	ActionDelayed   = "delayed"
	ActionDelivered = "delivered"
	ActionRelayed   = "relayed"
	ActionExpanded  = "expanded"
)

// DSN is a delivery status notification (RFC 3464): what a remote MTA
// reports about a message it accepted and then could not deliver (or
// delayed, or delivered, when asked to say so).
type DSN struct {
	// Per-message fields (RFC 3464 §2.2).
	ReportingMTA    Typed       `json:"reportingMta"`             // "dns; mx.example.net"
	ReceivedFromMTA Typed       `json:"receivedFromMta,omitzero"` // the MTA it got the message from
	EnvelopeID      string      `json:"envelopeId,omitempty"`     // Original-Envelope-Id
	ArrivalDate     time.Time   `json:"arrivalDate,omitzero"`     // when the reporting MTA received it
	Recipients      []Recipient `json:"recipients"`               // at least one

	// OriginalMessageID is the Message-ID of the message the DSN is about,
	// without angle brackets: from the returned message or its headers,
	// else from the X-Original-Message-ID some MTAs (Gmail) add to the
	// per-message fields; "" when the DSN does not say.
	OriginalMessageID string `json:"originalMessageId,omitempty"`
	// OriginalHeaders is the returned message's header as the DSN carries
	// it; nil when it returns none.
	OriginalHeaders Header `json:"originalHeaders,omitempty"`
}

// Recipient is one per-recipient group of a DSN (RFC 3464 §2.3).
type Recipient struct {
	FinalRecipient    Typed     `json:"finalRecipient"`             // the address the MTA tried
	OriginalRecipient Typed     `json:"originalRecipient,omitzero"` // the address as first given (ORCPT)
	Action            string    `json:"action"`                     // lower case; see the Action constants
	Status            string    `json:"status,omitempty"`           // enhanced code, "5.1.1"; "" if missing or malformed
	RemoteMTA         Typed     `json:"remoteMta,omitzero"`         // "dns; mx.example.com"
	DiagnosticCode    Typed     `json:"diagnosticCode,omitzero"`    // "smtp; 550 5.1.1 user unknown"
	LastAttemptDate   time.Time `json:"lastAttemptDate,omitzero"`
	WillRetryUntil    time.Time `json:"willRetryUntil,omitzero"`
}

// Addresses returns the recipient's addresses, final first, then the
// original if it differs: a recipient may be named either way (after an
// alias, the final address is one the sender never used).
func (r Recipient) Addresses() []string {
	var out []string
	for _, t := range []Typed{r.FinalRecipient, r.OriginalRecipient} {
		if t.Value != "" && (len(out) == 0 || out[0] != t.Value) {
			out = append(out, t.Value)
		}
	}
	return out
}

// ParseDSN parses a delivery status notification: a multipart/report with
// report-type=delivery-status whose message/delivery-status part (or
// message/global-delivery-status, RFC 6533) holds the per-message and
// per-recipient fields (RFC 3464 §2). A message of another kind is an
// error wrapping ErrNotReport; a DSN without a recipient naming an address
// is malformed. Unknown fields are ignored and odd lines skipped, so that
// the DSNs of every MTA in the wild are read.
func ParseDSN(msg []byte) (*DSN, error) {
	rep, err := readReport(msg, "delivery-status", "message/delivery-status", "message/global-delivery-status")
	if err != nil {
		return nil, err
	}
	groups := parseGroups(rep.status)
	if len(groups) == 0 {
		return nil, errors.New("feedback: empty delivery-status part")
	}
	d := &DSN{OriginalHeaders: rep.original}
	// RFC 3464 §2.1: the first group is per-message. An MTA that leaves
	// it out starts directly with a recipient group; such a group is
	// recognised by its recipient field.
	first := groups[0]
	if get(first, "final-recipient") == "" && get(first, "original-recipient") == "" {
		d.ReportingMTA = parseMTA(get(first, "reporting-mta"))
		d.ReceivedFromMTA = parseMTA(get(first, "received-from-mta"))
		d.EnvelopeID = get(first, "original-envelope-id")
		d.ArrivalDate = parseDate(get(first, "arrival-date"))
		d.OriginalMessageID = MessageID(get(first, "x-original-message-id"))
		groups = groups[1:]
	}
	for _, g := range groups {
		r := Recipient{
			FinalRecipient:    parseAddressField(get(g, "final-recipient")),
			OriginalRecipient: parseAddressField(get(g, "original-recipient")),
			Action:            actionOf(get(g, "action")),
			Status:            parseStatus(get(g, "status")),
			RemoteMTA:         parseMTA(get(g, "remote-mta")),
			DiagnosticCode:    parseTyped(get(g, "diagnostic-code")),
			LastAttemptDate:   parseDate(get(g, "last-attempt-date")),
			WillRetryUntil:    parseDate(get(g, "will-retry-until")),
		}
		if r.FinalRecipient.Value == "" && r.OriginalRecipient.Value == "" {
			continue // a group naming nobody says nothing usable
		}
		// Action is required, but some MTAs leave it out: a permanent
		// status can only mean the delivery failed.
		if r.Action == "" && len(r.Status) > 0 && r.Status[0] == '5' {
			r.Action = ActionFailed
		}
		d.Recipients = append(d.Recipients, r)
	}
	if len(d.Recipients) == 0 {
		return nil, fmt.Errorf("feedback: DSN with no recipient (%d field groups)", len(groups))
	}
	if id := MessageID(rep.original.Get("Message-Id")); id != "" {
		d.OriginalMessageID = id
	}
	return d, nil
}

// actionOf is an Action field's value in lower case, without comments.
func actionOf(s string) string { return strings.ToLower(stripComments(s)) }
