package queue

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/simulator"
	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/suppression"
)

// Feedback that does not come from a delivery attempt: bounces for
// recipients on the account's suppression list (written when the message is
// accepted), complaints, and bounces that arrive later as DSNs. Each is
// written with its event and with the suppression-list entry it causes in one
// transaction (SES-BEHAVIOR §8.3, §11).

// SES's texts for a recipient on the account's suppression list.
const (
	SubTypeOnAccountSuppressionList = "OnAccountSuppressionList"
	suppressedDiagnostic            = "Amazon SES did not send the message to this address because it is on the suppression list for your account."
	suppressedStatus                = "5.1.1"
)

const sesTime = "2006-01-02T15:04:05.000Z"

// AsyncBounce is a bounce reported after the next hop accepted the message:
// a delivery status notification (RFC 3464) received for it.
type AsyncBounce struct {
	BounceType    string // Permanent, Transient or Undetermined
	BounceSubType string // e.g. General, NoEmail, MailboxFull (SES-BEHAVIOR §8.3)
	Recipients    []BouncedRecipient
	ReportingMTA  string // the DSN's Reporting-MTA, e.g. "dns; mx.example.net"
	RemoteMtaIP   string
}

// BouncedRecipient is one failed recipient of a DSN (RFC 3464 §2.3).
type BouncedRecipient struct {
	Rcpt           string // the original recipient
	Action         string // Action: failed, delayed… ("failed" when empty)
	Status         string // Status: the enhanced code, e.g. 5.1.1
	DiagnosticCode string // Diagnostic-Code, e.g. "smtp; 550 5.1.1 user unknown"
}

// RecordBounce records a bounce for message msgID that arrived after
// delivery (a DSN). Recipients the message does not have, and those already
// bounced, are ignored, so a DSN received twice bounces once; when nothing
// is left no event is written. A Permanent bounce puts the address on the
// account's suppression list (if the account suppresses BOUNCE), with the
// event, in one transaction. An unknown message is ErrNoMessage.
func (q *Queue) RecordBounce(ctx context.Context, msgID string, b AsyncBounce) error {
	now := q.now().UTC()
	at := store.Millis(now)
	return q.db.Write(ctx, func(tx *store.Tx) error {
		account, system, err := messageOwner(tx, msgID)
		if err != nil {
			return err
		}
		ev := bounceEvent{BounceType: b.BounceType, BounceSubType: b.BounceSubType, Timestamp: now.Format(sesTime),
			FeedbackID: mail.NewMessageID(now), ReportingMTA: b.ReportingMTA, RemoteMtaIP: b.RemoteMtaIP}
		for _, r := range b.Recipients {
			rcpt, err := bounceDelivery(tx, msgID, r, at)
			if err != nil {
				return err
			}
			if rcpt == "" {
				continue
			}
			action := r.Action
			if action == "" {
				action = "failed"
			}
			ev.BouncedRecipients = append(ev.BouncedRecipients, bouncedRecipient{EmailAddress: rcpt, Action: action,
				Status: r.Status, DiagnosticCode: r.DiagnosticCode})
			if b.BounceType == "Permanent" && !system {
				if err := autoSuppress(tx, account, rcpt, b.BounceSubType, suppression.Bounce, msgID, ev.FeedbackID, now); err != nil {
					return err
				}
			}
		}
		if len(ev.BouncedRecipients) == 0 {
			return nil
		}
		return addEvent(tx, account, msgID, "Bounce", at, ev)
	})
}

// bounceDelivery marks one recipient's delivery bounced, unless it already
// is, and returns the recipient as the message has it ("" when there is
// nothing to record).
func bounceDelivery(tx *store.Tx, msgID string, r BouncedRecipient, at int64) (string, error) {
	var rcpt, state string
	err := tx.QueryRow("SELECT rcpt, state FROM deliveries WHERE message_id = ? AND rcpt = ? COLLATE NOCASE",
		msgID, strings.TrimSpace(r.Rcpt)).Scan(&rcpt, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil || state == Bounced {
		return "", err
	}
	if _, err := tx.Exec(`UPDATE deliveries SET state = 'bounced', next_at = 0, lease_until = 0, last_status = ?, last_text = ?, updated_at = ?
		WHERE message_id = ? AND rcpt = ?`, r.Status, r.DiagnosticCode, at, msgID, rcpt); err != nil {
		return "", err
	}
	return rcpt, nil
}

// RecordComplaint records a complaint about message msgID (an ARF report,
// RFC 5965, or the mailbox simulator's): feedbackType is its Feedback-Type
// (abuse, fraud, …; "" when there is no report), userAgent its User-Agent,
// arrival its Arrival-Date. rcpts are the complaining recipients; those the
// message does not have are ignored, and none at all means every recipient
// of the message (ISPs often redact the address). Each is put on the
// account's suppression list (if the account suppresses COMPLAINT) with the
// event, in one transaction. An unknown message is ErrNoMessage.
func (q *Queue) RecordComplaint(ctx context.Context, msgID string, rcpts []string, feedbackType, userAgent string, arrival time.Time) error {
	now := q.now().UTC()
	return q.db.Write(ctx, func(tx *store.Tx) error {
		account, system, err := messageOwner(tx, msgID)
		if err != nil {
			return err
		}
		matched, err := messageRecipients(tx, msgID, rcpts)
		if err != nil || len(matched) == 0 {
			return err
		}
		return addComplaint(tx, account, msgID, system, matched, feedbackType, userAgent, arrival, now)
	})
}

// addComplaint writes a Complaint event for rcpts and the suppression-list
// entries it causes.
func addComplaint(tx *store.Tx, account, msgID string, system bool, rcpts []string, feedbackType, userAgent string, arrival, now time.Time) error {
	ev := complaintEvent{Timestamp: now.Format(sesTime), FeedbackID: mail.NewMessageID(now),
		FeedbackType: feedbackType, UserAgent: userAgent}
	if !arrival.IsZero() {
		ev.ArrivalDate = arrival.UTC().Format(sesTime)
	}
	for _, r := range rcpts {
		ev.ComplainedRecipients = append(ev.ComplainedRecipients, complainedRecipient{EmailAddress: r})
		if !system {
			if err := autoSuppress(tx, account, r, "", suppression.Complaint, msgID, ev.FeedbackID, now); err != nil {
				return err
			}
		}
	}
	return addEvent(tx, account, msgID, "Complaint", store.Millis(now), ev)
}

// messageRecipients returns the message's recipients among want (all of
// them when want is empty), as the message has them.
func messageRecipients(tx *store.Tx, msgID string, want []string) ([]string, error) {
	rows, err := tx.Query("SELECT rcpt FROM deliveries WHERE message_id = ? ORDER BY rowid", msgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	set := make(map[string]bool, len(want))
	for _, w := range want {
		set[mail.NormalizeAddress(w)] = true
	}
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		if len(want) == 0 || set[mail.NormalizeAddress(r)] {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// messageOwner returns the account a message belongs to and whether it is
// Sesame's own mail.
func messageOwner(tx *store.Tx, msgID string) (account string, system bool, err error) {
	var sys int
	err = tx.QueryRow("SELECT account_id, system FROM messages WHERE id = ?", msgID).Scan(&account, &sys)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, ErrNoMessage
	}
	return account, sys == 1, err
}

// autoSuppress adds a recipient to the account's suppression list after a
// hard bounce or a complaint (SES-BEHAVIOR §11), except for the mailbox
// simulator's addresses, which SES never suppresses (§7), and for a bounce
// that the list itself caused.
func autoSuppress(tx *store.Tx, account, rcpt, subType string, reason suppression.Reason, msgID, feedbackID string, at time.Time) error {
	if simulator.Is(rcpt) || subType == SubTypeOnAccountSuppressionList {
		return nil
	}
	_, err := suppression.AutoAdd(tx, account, rcpt, reason, msgID, feedbackID, at)
	return err
}

// suppressAtSend is the account suppression list's effect on a message being
// accepted (SES-BEHAVIOR §11): it returns the recipients the list stops.
// Their deliveries are written bounced, never attempted, with one Bounce
// event Permanent/OnAccountSuppressionList; the other recipients are
// delivered as usual. Sesame's own mail is not subject to the list.
func suppressAtSend(tx *store.Tx, m *Message, rcpts []string) (map[string]suppression.Reason, error) {
	if m.System {
		return nil, nil
	}
	return suppression.Suppressed(tx, m.AccountID, rcpts)
}

// addSuppressedBounce writes the Bounce event for the recipients the
// account's list stopped at acceptance.
func addSuppressedBounce(tx *store.Tx, m *Message, rcpts []string, now time.Time) error {
	ev := bounceEvent{BounceType: "Permanent", BounceSubType: SubTypeOnAccountSuppressionList, Timestamp: now.UTC().Format(sesTime),
		FeedbackID: mail.NewMessageID(now)}
	for _, r := range rcpts {
		ev.BouncedRecipients = append(ev.BouncedRecipients, bouncedRecipient{EmailAddress: r, Action: "failed",
			Status: suppressedStatus, DiagnosticCode: suppressedDiagnostic})
	}
	return addEvent(tx, m.AccountID, m.ID, "Bounce", store.Millis(now), ev)
}

// complaintEvent is SES's complaint object (SES-BEHAVIOR §8.3).
type complaintEvent struct {
	ComplainedRecipients []complainedRecipient `json:"complainedRecipients"`
	Timestamp            string                `json:"timestamp"`
	FeedbackID           string                `json:"feedbackId"`
	ComplaintSubType     *string               `json:"complaintSubType"` // null unless suppressed at send
	UserAgent            string                `json:"userAgent,omitempty"`
	FeedbackType         string                `json:"complaintFeedbackType,omitempty"`
	ArrivalDate          string                `json:"arrivalDate,omitempty"`
}

type complainedRecipient struct {
	EmailAddress string `json:"emailAddress"`
}
