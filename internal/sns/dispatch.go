package sns

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// The dispatcher: Run claims due deliveries under a lease, POSTs each to
// its subscriber, and records the attempt with the delivery's next state in
// one write. A 2xx answer is success; anything else — another status, a
// connection error, the attempt timeout — is retried by the delivery
// policy, and a delivery whose policy has no retries left is "failed". The
// attempt happens before its record is written, so a crash in between
// repeats it: delivery is at least once.

// Delivery states.
const (
	stateQueued    = "queued"
	stateDelivered = "delivered"
	stateFailed    = "failed"
	stateDropped   = "dropped" // the subscription went away
)

const (
	// leaseMargin is added to the attempt timeout for a claim's lease.
	leaseMargin = 30 * time.Second
	// maxIdle bounds how long Run sleeps without looking at the table.
	maxIdle = 30 * time.Second
	// sweepEvery is how often finished rows and expired subscriptions are
	// removed.
	sweepEvery = time.Hour
	// maxResponseDrain is how much of a subscriber's answer is read, so
	// the connection can be reused.
	maxResponseDrain = 64 << 10
	// maxErrorText bounds a recorded error.
	maxErrorText = 512
)

// userAgent is the User-Agent SNS sends.
const userAgent = "Amazon Simple Notification Service Agent"

// job is one claimed delivery with what its attempt needs.
type job struct {
	messageID, subscription string
	attempts                int
	msg                     outboxMessage
	createdAt               int64
	protocol, endpoint      string
	raw                     bool
	policy                  effectivePolicy
}

// Run delivers until ctx is done, then waits for the attempts in flight
// (they are cancelled and left to the next start). Leases left by a
// previous process are released first: the store has one dispatcher.
func (s *Service) Run(ctx context.Context) {
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec("UPDATE sns_deliveries SET lease_until = 0 WHERE state = 'queued' AND lease_until > 0")
		return err
	}); err != nil && ctx.Err() == nil {
		s.log.Error("sns: releasing leases", "err", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, s.cfg.Concurrency)
	var nextSweep time.Time
	for ctx.Err() == nil {
		now := s.now()
		if !now.Before(nextSweep) {
			if err := s.sweep(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Error("sns: sweeping the outbox", "err", err)
			}
			nextSweep = now.Add(sweepEvery)
		}
		free := cap(slots) - len(slots)
		var jobs []job
		if free > 0 {
			var err error
			if jobs, err = s.claim(ctx, now, free); err != nil && ctx.Err() == nil {
				s.log.Error("sns: claiming deliveries", "err", err)
			}
		}
		for _, j := range jobs {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.deliver(ctx, j)
				<-slots
				s.poke()
			}()
		}
		var wait time.Duration
		switch {
		case len(slots) == cap(slots):
			wait = maxIdle // every slot busy: a finishing attempt wakes us
		case len(jobs) > 0 && len(jobs) == free:
			continue // there may be more due
		default:
			wait = s.untilDue(ctx, now, nextSweep)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// claim leases up to n due deliveries. Deliveries whose subscription is
// gone or no longer takes the message are dropped in the same write.
func (s *Service) claim(ctx context.Context, now time.Time, n int) ([]job, error) {
	var jobs []job
	at := store.Millis(now)
	// A read first: most wake-ups find nothing due, and the store's single
	// writer is shared with the rest of Sesame.
	var one int
	err := s.db.Read().QueryRowContext(ctx,
		"SELECT 1 FROM sns_deliveries WHERE state = 'queued' AND next_at <= ? AND lease_until <= ? LIMIT 1", at, at).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		jobs = jobs[:0]
		rows, err := tx.Query(`SELECT d.message_id, d.subscription, d.attempts,
				m.account_id, m.topic_arn, m.type, m.subject, m.body, m.structure, m.attributes, m.token, m.sig_version, m.created_at,
				s.protocol, s.endpoint, s.status, s.raw, s.delivery_policy, t.attributes
			FROM sns_deliveries d
			JOIN sns_messages m ON m.id = d.message_id
			LEFT JOIN sns_subscriptions s ON s.arn = d.subscription
			LEFT JOIN sns_topics t ON t.account_id = s.account_id AND t.name = s.topic
			WHERE d.state = 'queued' AND d.next_at <= ? AND d.lease_until <= ?
			ORDER BY d.next_at LIMIT ?`, at, at, n)
		if err != nil {
			return err
		}
		var drop []job
		for rows.Next() {
			var j job
			var protocol, endpoint, status, policy, topicAttrs *string
			var raw *bool
			if err := rows.Scan(&j.messageID, &j.subscription, &j.attempts,
				&j.msg.account, &j.msg.topicARN, &j.msg.typ, &j.msg.subject, &j.msg.body, &j.msg.structure, &j.msg.attributes,
				&j.msg.token, &j.msg.sigVersion, &j.createdAt,
				&protocol, &endpoint, &status, &raw, &policy, &topicAttrs); err != nil {
				rows.Close()
				return err
			}
			if status == nil || !takes(*status, j.msg.typ) {
				drop = append(drop, j)
				continue
			}
			j.protocol, j.endpoint, j.raw = *protocol, *endpoint, *raw
			var ta map[string]string
			if topicAttrs != nil {
				_ = json.Unmarshal([]byte(*topicAttrs), &ta) // written by us
			}
			j.policy = effective(ta[AttrDeliveryPolicy], *policy, s.retry)
			jobs = append(jobs, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, j := range drop {
			if _, err := tx.Exec("UPDATE sns_deliveries SET state = 'dropped', updated_at = ? WHERE message_id = ? AND subscription = ?",
				at, j.messageID, j.subscription); err != nil {
				return err
			}
		}
		lease := store.Millis(now.Add(s.cfg.AttemptTimeout + leaseMargin))
		for _, j := range jobs {
			if _, err := tx.Exec("UPDATE sns_deliveries SET lease_until = ? WHERE message_id = ? AND subscription = ?",
				lease, j.messageID, j.subscription); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return jobs, nil
}

// takes reports whether a subscription in status receives a message type:
// notifications go to confirmed subscriptions, a SubscriptionConfirmation
// to a pending one, an UnsubscribeConfirmation to the deleted one.
func takes(status, typ string) bool {
	switch typ {
	case TypeNotification:
		return status == statusConfirmed
	case TypeSubscriptionConfirmation:
		return status == statusPending
	case TypeUnsubscribeConfirmation:
		return status == statusDeleted
	}
	return false
}

// deliver makes one attempt and records it.
func (s *Service) deliver(ctx context.Context, j job) {
	start := s.now()
	status, err := s.attempt(ctx, j)
	took := s.now().Sub(start)
	rec := context.WithoutCancel(ctx) // the store outlives Run
	if err != nil && ctx.Err() != nil {
		// Shutting down: not the subscriber's failure. Release the claim
		// so the next start tries again.
		if werr := s.db.Write(rec, func(tx *store.Tx) error {
			_, err := tx.Exec("UPDATE sns_deliveries SET lease_until = 0 WHERE message_id = ? AND subscription = ? AND state = 'queued'",
				j.messageID, j.subscription)
			return err
		}); werr != nil {
			s.log.Error("sns: releasing a delivery", "msg_id", j.messageID, "err", werr)
		}
		return
	}
	n := j.attempts + 1
	log := s.log.With("msg_id", j.messageID, "account", j.msg.account, "subscription", j.subscription, "attempt", n)
	state, next := stateDelivered, int64(0)
	if err != nil {
		state = stateFailed
		if d, ok := j.policy.Retry.Delay(n); ok {
			state = stateQueued
			next = store.Millis(s.now().Add(time.Duration(d * float64(s.cfg.DelayUnit))))
		}
	}
	errText := ""
	if err != nil {
		errText = truncate(err.Error(), maxErrorText)
	}
	if werr := s.db.Write(rec, func(tx *store.Tx) error {
		if _, err := tx.Exec("INSERT INTO sns_attempts(message_id, subscription, attempt, at, duration_ms, status, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
			j.messageID, j.subscription, n, store.Millis(start), took.Milliseconds(), status, errText); err != nil {
			return err
		}
		// A delivery dropped meanwhile (unsubscribe) stays dropped.
		_, err := tx.Exec(`UPDATE sns_deliveries SET state = ?, attempts = ?, next_at = ?, lease_until = 0, updated_at = ?
			WHERE message_id = ? AND subscription = ? AND state = 'queued'`,
			state, n, next, store.Millis(s.now()), j.messageID, j.subscription)
		return err
	}); werr != nil {
		log.Error("sns: recording a delivery attempt", "err", werr)
		return
	}
	switch {
	case err == nil:
		log.Debug("sns: delivered", "status", status)
	case state == stateFailed:
		log.Warn("sns: delivery failed; no retries left", "status", status, "err", errText)
	default:
		log.Info("sns: delivery attempt failed; will retry", "status", status, "err", errText)
	}
}

// attempt POSTs the envelope (or the raw message) and returns the HTTP
// status (0 without an answer) and an error unless it was a 2xx.
func (s *Service) attempt(ctx context.Context, j job) (int, error) {
	body, err := s.body(j)
	if err != nil {
		return 0, err
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, j.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	h := req.Header
	h.Set("Content-Type", j.policy.ContentType)
	h.Set("User-Agent", userAgent)
	h.Set("x-amz-sns-message-type", j.msg.typ)
	h.Set("x-amz-sns-message-id", j.messageID)
	h.Set("x-amz-sns-topic-arn", j.msg.topicARN)
	if j.msg.typ != TypeSubscriptionConfirmation {
		h.Set("x-amz-sns-subscription-arn", j.subscription)
	}
	if j.raw && j.msg.typ == TypeNotification {
		h.Set("x-amz-sns-rawdelivery", "true")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxResponseDrain)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// body is what one delivery POSTs: the signed JSON envelope, or for raw
// message delivery of a notification the message alone.
func (s *Service) body(j job) ([]byte, error) {
	message := j.msg.body
	if j.msg.structure == "json" {
		var per map[string]string
		if err := json.Unmarshal([]byte(message), &per); err != nil {
			return nil, err // checked at publish
		}
		message = per["default"]
		if m, ok := per[j.protocol]; ok {
			message = m
		}
	}
	if j.raw && j.msg.typ == TypeNotification {
		return []byte(message), nil
	}
	e := Envelope{
		Type: j.msg.typ, MessageID: j.messageID, TopicARN: j.msg.topicARN, Message: message,
		Timestamp: formatTime(store.FromMillis(j.createdAt)),
	}
	if j.msg.typ == TypeNotification {
		e.Subject = j.msg.subject
		e.UnsubscribeURL = s.unsubscribeURL(j.subscription)
		if j.msg.attributes != "" {
			if err := json.Unmarshal([]byte(j.msg.attributes), &e.MessageAttributes); err != nil {
				return nil, err
			}
		}
	} else {
		e.Token = j.msg.token
		e.SubscribeURL = s.subscribeURL(j.msg.topicARN, j.msg.token)
	}
	if err := s.sign(&e, j.msg.sigVersion); err != nil {
		return nil, err
	}
	return []byte(mustJSON(e)), nil
}

// untilDue is how long Run may sleep: until the next delivery comes due
// (or its lease runs out), the next sweep, or maxIdle.
func (s *Service) untilDue(ctx context.Context, now, nextSweep time.Time) time.Duration {
	wait := min(maxIdle, nextSweep.Sub(now))
	var due *int64
	err := s.db.Read().QueryRowContext(ctx,
		"SELECT MIN(MAX(next_at, lease_until)) FROM sns_deliveries WHERE state = 'queued'").Scan(&due)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("sns: reading the next due delivery", "err", err)
		}
		return min(wait, time.Second)
	}
	if due != nil {
		wait = min(wait, store.FromMillis(*due).Sub(now))
	}
	return max(wait, time.Millisecond)
}

// sweep removes finished deliveries (with their attempts and messages)
// older than the retention, and subscriptions whose token expired while
// pending or deleted.
func (s *Service) sweep(ctx context.Context, now time.Time) error {
	cutoff := store.Millis(now.Add(-s.cfg.Retention))
	at := store.Millis(now)
	return s.db.Write(ctx, func(tx *store.Tx) error {
		stmts := []struct {
			q    string
			args []any
		}{
			{`UPDATE sns_deliveries SET state = 'dropped', lease_until = 0, updated_at = ? WHERE state = 'queued' AND subscription IN
				(SELECT arn FROM sns_subscriptions WHERE status IN ('pending', 'deleted') AND token_expires < ?)`, []any{at, at}},
			{"DELETE FROM sns_subscriptions WHERE status IN ('pending', 'deleted') AND token_expires < ?", []any{at}},
			{`DELETE FROM sns_attempts WHERE (message_id, subscription) IN
				(SELECT message_id, subscription FROM sns_deliveries WHERE state <> 'queued' AND updated_at < ?)`, []any{cutoff}},
			{"DELETE FROM sns_deliveries WHERE state <> 'queued' AND updated_at < ?", []any{cutoff}},
			{"DELETE FROM sns_messages WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM sns_deliveries d WHERE d.message_id = sns_messages.id)", []any{cutoff}},
		}
		for _, st := range stmts {
			if _, err := tx.Exec(st.q, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
