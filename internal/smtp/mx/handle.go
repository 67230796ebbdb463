package mx

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/sesamehq/sesame/internal/feedback"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/queue"
)

// process records what a received message reports: a DSN's failed
// recipients as a Bounce, a feedback report as a Complaint. A message that
// is neither, or a report that cannot be read, is dropped — refusing it
// would only bounce a bounce. The error is for a look-up or a write that
// failed and is worth retrying.
func (s *Server) process(ctx context.Context, log *slog.Logger, targets []target, raw []byte) error {
	dsn, err := feedback.ParseDSN(raw)
	if err == nil {
		envs, err := s.about(ctx, targets, dsn.OriginalMessageID, dsn.OriginalHeaders.Get("Return-Path"))
		if err != nil {
			return err
		}
		for _, env := range envs {
			if err := s.bounce(ctx, log.With("msg_id", env.ID), env, dsn); err != nil {
				return err
			}
		}
		if len(envs) == 0 {
			log.Info("MX: DSN about no message Sesame sent, dropped", "original_message_id", dsn.OriginalMessageID)
		}
		return nil
	}
	if !errors.Is(err, feedback.ErrNotReport) {
		log.Info("MX: unreadable DSN dropped", "err", err)
		return nil
	}

	rep, err := feedback.ParseARF(raw)
	if err == nil {
		envs, err := s.about(ctx, targets, rep.OriginalMessageID, rep.OriginalMailFrom, rep.OriginalHeaders.Get("Return-Path"))
		if err != nil {
			return err
		}
		for _, env := range envs {
			if err := s.complaint(ctx, log.With("msg_id", env.ID), env, rep); err != nil {
				return err
			}
		}
		if len(envs) == 0 {
			log.Info("MX: feedback report about no message Sesame sent, dropped", "original_message_id", rep.OriginalMessageID)
		}
		return nil
	}
	if !errors.Is(err, feedback.ErrNotReport) {
		log.Info("MX: unreadable feedback report dropped", "err", err)
		return nil
	}
	// An auto-reply or a person's answer to a VERP address: SES forwards
	// those to the sender (feedback forwarding), which Sesame does not do.
	log.Debug("MX: message that is no report dropped", "rcpts", len(targets))
	return nil
}

// about finds the messages a report is about. The VERP addresses it was
// sent to name them; a report sent to the feedback address names its
// message by the returned Message-ID (Sesame writes <MessageId@host name>,
// SES-BEHAVIOR §4.3) or, failing that, by a VERP address among
// envelopeSenders (the returned Return-Path, an ARF's Original-Mail-From).
func (s *Server) about(ctx context.Context, targets []target, messageID string, envelopeSenders ...string) ([]*queue.Envelope, error) {
	var out []*queue.Envelope
	seen := map[string]bool{}
	for _, t := range targets {
		if t.env != nil && !seen[t.env.ID] {
			seen[t.env.ID] = true
			out = append(out, t.env)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if local, domain, ok := splitAddress(messageID); ok && strings.EqualFold(domain, s.cfg.Hostname) {
		env, err := s.verp(ctx, local, s.cfg.Hostname)
		if env != nil || err != nil {
			return []*queue.Envelope{env}, err
		}
	}
	for _, addr := range envelopeSenders {
		if local, domain, ok := splitAddress(feedback.MessageID(addr)); ok {
			env, err := s.verp(ctx, local, domain)
			if env != nil || err != nil {
				return []*queue.Envelope{env}, err
			}
		}
	}
	return nil, nil
}

// bounce records a DSN's failed recipients that are recipients of the
// message, one Bounce per bounce type and subtype (SES-BEHAVIOR §8.3);
// recipients it does not have are ignored, not invented. Delayed,
// delivered, relayed and expanded recipients are not bounces: SES reports
// only the failures it has given up on.
func (s *Server) bounce(ctx context.Context, log *slog.Logger, env *queue.Envelope, d *feedback.DSN) error {
	rcpts := recipientIndex(env)
	var order []string
	groups := map[string]*queue.AsyncBounce{}
	for _, r := range d.Recipients {
		if r.Action != feedback.ActionFailed {
			log.Debug("MX: DSN recipient not failed, ignored", "rcpt", r.FinalRecipient.Value, "action", r.Action, "status", r.Status)
			continue
		}
		rcpt := ""
		for _, a := range r.Addresses() {
			if m, ok := rcpts[mail.NormalizeAddress(a)]; ok {
				rcpt = m
				break
			}
		}
		if rcpt == "" {
			log.Info("MX: DSN names a recipient the message does not have, ignored", "rcpt", r.FinalRecipient.Value)
			continue
		}
		typ, sub := r.Classify()
		key := typ + "/" + sub
		b, ok := groups[key]
		if !ok {
			b = &queue.AsyncBounce{BounceType: typ, BounceSubType: sub, ReportingMTA: d.ReportingMTA.String()}
			groups[key] = b
			order = append(order, key)
		}
		b.Recipients = append(b.Recipients, queue.BouncedRecipient{Rcpt: rcpt, Action: feedback.ActionFailed,
			Status: r.Status, DiagnosticCode: r.DiagnosticCode.String()})
	}
	for _, key := range order {
		b := groups[key]
		err := s.cfg.Recorder.RecordBounce(ctx, env.ID, *b)
		if errors.Is(err, queue.ErrNoMessage) {
			return nil // gone since it was looked up
		}
		if err != nil {
			return err
		}
		for _, r := range b.Recipients {
			log.Info("MX: bounce recorded", "rcpt", r.Rcpt, "type", b.BounceType, "subtype", b.BounceSubType, "status", r.Status)
		}
	}
	return nil
}

// complaint records a feedback report against the message. The complaining
// recipient is the Original-Rcpt-To when that is a recipient of the
// message; reporters often leave it out or redact it (RFC 6590), and then
// the complaint is about every recipient, as SES has it.
func (s *Server) complaint(ctx context.Context, log *slog.Logger, env *queue.Envelope, rep *feedback.Report) error {
	rcpts := recipientIndex(env)
	var who []string
	seen := map[string]bool{}
	for _, a := range rep.OriginalRcptTo {
		if m, ok := rcpts[mail.NormalizeAddress(a)]; ok && !seen[m] {
			seen[m] = true
			who = append(who, m)
		}
	}
	// nil: every recipient (queue.RecordComplaint).
	err := s.cfg.Recorder.RecordComplaint(ctx, env.ID, who, rep.FeedbackType, rep.UserAgent, rep.ArrivalDate)
	if errors.Is(err, queue.ErrNoMessage) {
		return nil
	}
	if err != nil {
		return err
	}
	if who == nil {
		who = env.Recipients
	}
	for _, r := range who {
		log.Info("MX: complaint recorded", "rcpt", r, "feedback_type", rep.FeedbackType, "user_agent", rep.UserAgent)
	}
	return nil
}

// recipientIndex maps the message's recipients, normalised, to the
// address as the message has it.
func recipientIndex(env *queue.Envelope) map[string]string {
	m := make(map[string]string, len(env.Recipients))
	for _, r := range env.Recipients {
		m[mail.NormalizeAddress(r)] = r
	}
	return m
}
