package delivery

import (
	"mime"
	"strings"

	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/simulator"
)

// AutoReplyOperation is the operation of the mailbox simulator's
// out-of-office replies: Sesame's own mail, sent with the null envelope
// sender as RFC 3834 §3.3 asks of automatic responses.
const AutoReplyOperation = "MailboxSimulatorAutoReply"

// simulate returns the outcome of a mailbox-simulator recipient, and false
// for any other recipient (SES-BEHAVIOR §7). Simulated mail never leaves the
// process, in --dev mode too.
func (w *Worker) simulate(m *queue.Stored, rcpt string) (queue.Result, bool) {
	delivered := queue.Result{Rcpt: rcpt, State: queue.Delivered, Code: 250, Status: "2.6.0",
		Text: simulator.DeliveryResponse, RemoteMTA: simulator.Domain}
	switch simulator.Outcome(rcpt) {
	case simulator.None:
		return queue.Result{}, false
	case simulator.Bounce:
		return queue.Result{Rcpt: rcpt, State: queue.Bounced, Code: 550, Status: simulator.BounceStatus,
			Text: simulator.BounceResponse, RemoteMTA: simulator.Domain, BounceType: "Permanent", BounceSubType: "General"}, true
	case simulator.SuppressionList:
		// Stopped before any attempt: no SMTP reply, so no "smtp; " prefix.
		return queue.Result{Rcpt: rcpt, State: queue.Bounced, Status: simulator.BounceStatus,
			Text: simulator.SuppressedDiagnostic, BounceType: "Permanent", BounceSubType: "Suppressed"}, true
	case simulator.Complaint:
		delivered.Complaint = &queue.Complaint{FeedbackType: simulator.ComplaintFeedbackType, UserAgent: simulator.ComplaintUserAgent}
	case simulator.OutOfOffice:
		delivered.Reply = w.autoReply(m, rcpt)
	}
	return delivered, true
}

// autoReply is the out-of-office address's answer (RFC 3834): a message
// from the simulator address to the sender. SES's envelope sender is its own
// bounce address, which hands the reply on to the sender; Sesame's is
// <id>@<bounce domain> too, so the reply goes straight to the message's
// Source. Nothing answers Sesame's own mail or another automatic message
// (RFC 3834 §2), so replies cannot loop. nil when there is nothing to send.
func (w *Worker) autoReply(m *queue.Stored, rcpt string) *queue.Message {
	if m.System || m.Source == "" {
		return nil
	}
	var subject, msgID string
	for _, h := range m.Headers {
		switch strings.ToLower(h.Name) {
		case "auto-submitted":
			if !strings.EqualFold(strings.TrimSpace(h.Value), "no") {
				return nil
			}
		case "subject":
			subject = h.Value
		case "message-id":
			msgID = strings.TrimSpace(h.Value)
		}
	}
	if msgID == "" {
		msgID = mail.MessageIDHeader(m.ID, w.cfg.Hostname)
	}
	// RFC 3834 §3.1.5: a brief indication, then the subject answered.
	if s, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		subject = s
	}
	subject = strings.TrimSpace(subject)
	if subject == "" {
		subject = "Out of the Office"
	} else {
		subject = "Out of the Office: " + subject
	}
	now := w.now().UTC()
	id := mail.NewMessageID(now)
	data, err := mail.Build(mail.Simple{
		From:    rcpt,
		To:      []string{m.Source},
		Subject: mail.Content{Data: subject},
		Text: mail.Content{Data: "I am out of the office and will reply when I return.\r\n\r\n" +
			"This is an automatic reply from the Amazon SES mailbox simulator, as run by Sesame.\r\n"},
		Headers: []mail.Header{
			{Name: "Auto-Submitted", Value: "auto-replied"}, // RFC 3834 §5
			{Name: "In-Reply-To", Value: msgID},
			{Name: "References", Value: msgID},
		},
		MessageID: mail.MessageIDHeader(id, w.cfg.Hostname),
		Date:      now,
	})
	if err != nil {
		w.log.Warn("delivery: mailbox simulator auto-reply", "msg_id", m.ID, "err", err)
		return nil
	}
	var headers []queue.Header
	if hs, err := mail.ParseHeader(data); err == nil {
		headers = make([]queue.Header, len(hs))
		for i, h := range hs {
			headers[i] = queue.Header{Name: h.Name, Value: h.Value}
		}
	}
	return &queue.Message{ID: id, AccountID: m.AccountID, CreatedAt: now, Operation: AutoReplyOperation,
		Source: rcpt, From: rcpt, Headers: headers, Data: data, Recipients: []string{m.Source}, System: true}
}
