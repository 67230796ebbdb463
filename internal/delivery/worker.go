// Package delivery runs the queue: workers claim due deliveries, sign each
// message with its identity's DKIM key once (kept for retries, so every
// attempt sends the same bytes), send it through the transport, and record
// every recipient's outcome with its event (DESIGN.md §4).
package delivery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/delivery/transport"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/queue"
)

// Config tunes the workers.
type Config struct {
	Hostname    string // reporting MTA, and the bounce domain of envelope senders
	Dev         bool   // capture instead of delivering
	Concurrency int    // messages in flight at once
	Lease       time.Duration
	// Retries back off from RetryBase, doubling to RetryMax, until
	// RetryWindow after acceptance; then the message bounces.
	RetryBase   time.Duration
	RetryMax    time.Duration
	RetryWindow time.Duration
}

// Worker delivers queued mail.
type Worker struct {
	cfg        Config
	queue      *queue.Queue
	identities *identity.Service
	configSets *configset.Service
	transport  *transport.Transport
	now        func() time.Time
	log        *slog.Logger
	wg         sync.WaitGroup
	// signing bounds concurrent DKIM signatures at the core count: RSA
	// signing is pure CPU, and more at once only slows every delivery
	// (DESIGN.md §7).
	signing chan struct{}
}

// New returns a worker pool; Run starts it.
func New(cfg Config, q *queue.Queue, ids *identity.Service, sets *configset.Service, t *transport.Transport, now func() time.Time, log *slog.Logger) *Worker {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 32
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 10 * time.Minute
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = time.Minute
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = time.Hour
	}
	if cfg.RetryWindow <= 0 {
		cfg.RetryWindow = 14 * time.Hour
	}
	return &Worker{cfg: cfg, queue: q, identities: ids, configSets: sets, transport: t, now: now, log: log,
		signing: make(chan struct{}, runtime.NumCPU())}
}

// Run claims and delivers until ctx ends, then waits for deliveries in flight.
func (w *Worker) Run(ctx context.Context) {
	sem := make(chan struct{}, w.cfg.Concurrency)
	defer w.wg.Wait()
	for ctx.Err() == nil {
		claims, err := w.queue.Claim(ctx, w.cfg.Concurrency, w.cfg.Lease)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("delivery: claim", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		for _, c := range claims {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			w.wg.Add(1)
			go func() {
				defer func() { <-sem; w.wg.Done() }()
				w.deliver(ctx, c)
			}()
		}
		if len(claims) > 0 {
			continue
		}
		w.idle(ctx)
	}
}

// idle waits for new mail, the next retry, or a minute.
func (w *Worker) idle(ctx context.Context) {
	wait := time.Minute
	if next, err := w.queue.NextDue(ctx); err == nil && !next.IsZero() {
		wait = min(wait, max(next.Sub(w.now()), 5*time.Millisecond))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.queue.Ready():
	case <-t.C:
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// deliver makes one attempt at one message's claimed recipients.
func (w *Worker) deliver(ctx context.Context, c queue.Claim) {
	log := w.log.With("msg_id", c.MessageID, "attempt", c.Attempts+1)
	m, err := w.queue.Load(ctx, c.MessageID)
	if err != nil {
		log.Error("delivery: load", "err", err)
		return // the lease expires and the claim comes due again
	}
	sig, err := w.signature(ctx, m)
	if err != nil {
		log.Error("delivery: DKIM signing", "err", err)
		return
	}
	data := make([]byte, 0, len(sig)+len(m.Data))
	data = append(append(data, sig...), m.Data...)

	results := make([]queue.Result, 0, len(c.Recipients))
	var real []string // the rest go to the mailbox simulator
	for _, r := range c.Recipients {
		if res, ok := w.simulate(m, r); ok {
			results = append(results, res)
		} else {
			real = append(real, r)
		}
	}
	if len(real) > 0 && w.cfg.Dev {
		for _, r := range real {
			results = append(results, queue.Result{Rcpt: r, State: queue.Captured, Text: "250 Captured by Sesame (--dev)"})
		}
	} else if len(real) > 0 {
		// TlsPolicy REQUIRE of the message's configuration set (SES-BEHAVIOR §9).
		requireTLS, err := w.configSets.RequireTLS(ctx, m.AccountID, m.ConfigSet)
		if err != nil {
			log.Error("delivery: configuration set", "config_set", m.ConfigSet, "err", err)
			return
		}
		sent, err := w.transport.Deliver(ctx, transport.Message{From: w.envelopeSender(ctx, m), To: real, Data: data, RequireTLS: requireTLS})
		if sent == nil {
			log.Error("delivery: transport", "err", err)
			return
		}
		for _, r := range sent {
			results = append(results, w.classify(m, c.Attempts, r))
		}
	}
	// Record even if ctx ended: what was delivered must not be sent again.
	rctx := context.WithoutCancel(ctx)
	if err := w.queue.Record(rctx, m, results, w.cfg.Hostname); err != nil {
		log.Error("delivery: record outcome", "err", err)
		return
	}
	for _, r := range results {
		log.Debug("delivery: outcome", "rcpt", r.Rcpt, "state", r.State, "reply", r.Text)
	}
}

// signature returns the message's DKIM-Signature header lines, made at the
// first attempt. They are stored with that attempt's outcome (queue.Record),
// in the same write, so retries send the same bytes without a write of
// their own; m.DKIM carries them there.
func (w *Worker) signature(ctx context.Context, m *queue.Stored) ([]byte, error) {
	if m.DKIM != nil {
		return m.DKIM, nil
	}
	var sig []byte
	if !m.System {
		keys, err := w.identities.SigningKeys(ctx, m.AccountID, m.From)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			signers := make([]mail.Signer, len(keys))
			for i, k := range keys {
				signers[i] = mail.Signer{Domain: k.Domain, Selector: k.Selector, Key: k.Key}
			}
			w.signing <- struct{}{}
			signed, err := mail.Sign(m.Data, signers, w.now())
			<-w.signing
			if err != nil {
				return nil, err
			}
			if !bytes.HasSuffix(signed, m.Data) {
				return nil, errors.New("delivery: DKIM signing changed the message body")
			}
			sig = signed[:len(signed)-len(m.Data)]
		}
	}
	if sig == nil {
		sig = []byte{}
	}
	m.DKIM = sig
	return sig, nil
}

// envelopeSender is the MAIL FROM: the message id at the identity's verified
// custom MAIL FROM domain, else at Sesame's own bounce domain, so a bounce
// names the message it is about (SES-BEHAVIOR §4.3); the null sender for the
// mailbox simulator's auto-replies.
func (w *Worker) envelopeSender(ctx context.Context, m *queue.Stored) string {
	if m.System && m.Operation == AutoReplyOperation {
		return "" // RFC 3834 §3.3: automatic responses have the null sender
	}
	domain := w.cfg.Hostname
	if !m.System {
		id, err := w.identities.Covering(ctx, m.AccountID, m.Source)
		if err == nil && id != nil && id.MailFrom.Domain != "" && id.MailFrom.Status == identity.Success {
			domain = id.MailFrom.Domain
		}
	}
	return m.ID + "@" + domain
}

// classify turns a transport result into a queue outcome: delivered, a
// bounce classified as SES does, or a retry while the window lasts.
func (w *Worker) classify(m *queue.Stored, attempts int, r transport.Result) queue.Result {
	out := queue.Result{Rcpt: r.Rcpt, Code: r.Code, Status: r.Enhanced, Text: r.Text, RemoteMTA: r.RemoteMTA, RemoteIP: r.RemoteIP}
	switch r.Outcome {
	case transport.Delivered:
		out.State = queue.Delivered
		return out
	case transport.Permanent:
		out.State, out.BounceType, out.BounceSubType = queue.Bounced, "Permanent", permanentSubType(r.Enhanced)
		return out
	}
	expires := m.CreatedAt.Add(w.cfg.RetryWindow)
	retry := w.now().Add(w.backoff(attempts))
	if retry.After(expires) {
		out.State, out.BounceType, out.BounceSubType = queue.Bounced, "Transient", transientSubType(r.Enhanced)
		return out
	}
	out.State, out.RetryAt, out.ExpiresAt, out.DelayType = queue.Queued, retry, expires, delayType(r)
	return out
}

// backoff doubles from RetryBase to RetryMax with ±20 % jitter.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.RetryBase
	for i := 0; i < attempts && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.RetryMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// permanentSubType follows SES's bounce subtypes (SES-BEHAVIOR §8.3).
func permanentSubType(enhanced string) string {
	switch enhanced {
	case "5.1.1", "5.1.10":
		return "NoEmail"
	}
	return "General"
}

func transientSubType(enhanced string) string {
	switch {
	case strings.HasSuffix(enhanced, ".2.2"):
		return "MailboxFull"
	case strings.HasSuffix(enhanced, ".3.4"):
		return "MessageTooLarge"
	}
	return "General"
}

func delayType(r transport.Result) string {
	switch {
	case r.Code == 0:
		return "TransientCommunicationFailure"
	case strings.HasSuffix(r.Enhanced, ".2.2"):
		return "MailboxFull"
	case r.Code >= 400:
		return "RecipientServerError"
	}
	return "Undetermined"
}
