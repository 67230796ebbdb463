// Package delivery runs the queue: workers claim due deliveries, sign each
// message with its identity's DKIM key once (kept for retries, so every
// attempt sends the same bytes), send it through the transport, and record
// every recipient's outcome with its event (DESIGN.md §4).
package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/delivery/transport"
	"github.com/sesamehq/sesame/internal/feedback"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/queue"
)

// Config tunes the workers.
type Config struct {
	Hostname string // reporting MTA, and the bounce domain of envelope senders
	Dev      bool   // capture instead of delivering
	// Concurrency bounds the SMTP deliveries in flight at once, across
	// destinations (Postfix's default_process_limit: 100).
	Concurrency int
	// PerDestination bounds the deliveries in flight to one destination —
	// a recipient domain, or the relay (Postfix's
	// default_destination_concurrency_limit: 20). A destination not yet
	// reached starts at min(5, PerDestination), one that failed is probed
	// one delivery at a time.
	PerDestination int
	// MaxHeld bounds the recipients claimed from the queue and held in
	// memory, waiting for their destination or in flight.
	MaxHeld int
	// Lease is how long claimed deliveries are reserved for this worker.
	Lease time.Duration
	// Retries back off from RetryBase, doubling to RetryMax, until
	// RetryWindow after acceptance (or the configuration set's
	// MaxDeliverySeconds); then the message bounces.
	RetryBase   time.Duration
	RetryMax    time.Duration
	RetryWindow time.Duration
	// SuspendAfter consecutive deliveries that reached no server of a
	// destination suspend it for Suspend, doubling while it stays
	// unreachable, up to RetryMax: its mail is deferred without a
	// connection, so a dead or silent destination costs the others nothing.
	SuspendAfter int
	Suspend      time.Duration
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

	counters *counters // nil until Instrument

	mu    sync.Mutex
	lanes map[string]*lane // destinations with mail held, or a failure remembered
	swept time.Time        // when lanes were last swept of old failures
	held  int              // recipients claimed and not yet recorded or given back
	busy  int              // SMTP deliveries in flight
	freed chan struct{}    // a delivery ended: the dispatcher may claim again
}

// New returns a worker pool; Run starts it.
func New(cfg Config, q *queue.Queue, ids *identity.Service, sets *configset.Service, t *transport.Transport, now func() time.Time, log *slog.Logger) *Worker {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	orDefault(&cfg.Concurrency, 100)
	orDefault(&cfg.PerDestination, 20)
	orDefault(&cfg.MaxHeld, 1000)
	orDefault(&cfg.SuspendAfter, 3)
	orDefault(&cfg.Lease, 10*time.Minute)
	orDefault(&cfg.RetryBase, time.Minute)
	orDefault(&cfg.RetryMax, time.Hour)
	orDefault(&cfg.RetryWindow, 14*time.Hour)
	orDefault(&cfg.Suspend, time.Minute)
	return &Worker{cfg: cfg, queue: q, identities: ids, configSets: sets, transport: t, now: now, log: log,
		signing: make(chan struct{}, runtime.NumCPU()),
		lanes:   map[string]*lane{}, freed: make(chan struct{}, 1)}
}

// orDefault sets *v to d unless it is positive.
func orDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
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

// job is one claimed message, shared by its parts: loaded once, signed
// once, whichever part needs it first.
type job struct {
	claim   queue.Claim
	claimed time.Time

	mu       sync.Mutex
	m        *queue.Stored      // as loaded; shared by the parts, read-only
	full     bool               // m has its headers, tags and recipients
	dkim     []byte             // the DKIM-Signature lines, once signed
	data     []byte             // DKIM-Signature lines + message, once signed
	delivery configset.Delivery // the configuration set's delivery options
}

// load reads the message and its configuration set's delivery options:
// what sending needs (queue.LoadToSend), or with full also its headers,
// tags and recipients (the mailbox simulator's replies quote them).
func (j *job) load(ctx context.Context, w *Worker, full bool) (*queue.Stored, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.m != nil && (j.full || !full) {
		return j.m, nil
	}
	load := w.queue.LoadToSend
	if full {
		load = w.queue.Load
	}
	m, err := load(ctx, j.claim.MessageID)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if !m.System && j.m == nil {
		if j.delivery, err = w.configSets.DeliveryOptions(ctx, m.AccountID, m.ConfigSet); err != nil {
			return nil, fmt.Errorf("configuration set %q: %w", m.ConfigSet, err)
		}
	}
	j.m, j.full = m, full
	return m, nil
}

// signed returns the bytes to send: the message with its DKIM signature.
func (j *job) signed(ctx context.Context, w *Worker) ([]byte, error) {
	m, err := j.load(ctx, w, false)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.data != nil {
		return j.data, nil
	}
	sig, err := w.signature(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("DKIM signing: %w", err)
	}
	j.dkim = sig
	j.data = make([]byte, 0, len(sig)+len(m.Data))
	j.data = append(append(j.data, sig...), m.Data...)
	return j.data, nil
}

// signature returns the DKIM-Signature lines made by signed.
func (j *job) signature() []byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.dkim
}

// simulateAndCapture records the outcome of recipients that never leave the
// process: the mailbox simulator's, and in --dev mode everyone's.
func (w *Worker) simulateAndCapture(ctx context.Context, p *part) {
	m, err := p.job.load(ctx, w, true)
	if err != nil {
		w.log.Error("delivery: preparing the message", "msg_id", p.job.claim.MessageID, "err", err)
		w.giveBack(ctx, []*part{p}, w.now().Add(time.Minute))
		return
	}
	results := make([]queue.Result, 0, len(p.rcpts))
	for _, r := range p.rcpts {
		if res, ok := w.simulate(m, r); ok {
			results = append(results, res)
		} else {
			results = append(results, queue.Result{Rcpt: r, State: queue.Captured, Text: "250 Captured by Sesame (--dev)"})
		}
	}
	w.record(ctx, m, results)
}

// deliver makes one attempt at a part's recipients, all of one destination.
// A suspended destination's part (unreachable non-nil) is deferred at once
// with the failure that suspended it, without a connection. deliver returns
// the failure when the attempt reached none of the destination's servers,
// nil otherwise.
func (w *Worker) deliver(ctx context.Context, p *part, unreachable *transport.Result) (failure *transport.Result) {
	log := w.log.With("msg_id", p.job.claim.MessageID, "attempt", p.job.claim.Attempts+1)
	m, err := p.job.load(ctx, w, false)
	var data []byte
	if err == nil && unreachable == nil {
		data, err = p.job.signed(ctx, w)
	}
	if err != nil {
		log.Error("delivery: preparing the message", "err", err)
		w.giveBack(ctx, []*part{p}, w.now().Add(time.Minute))
		return nil // the destination is not to blame
	}
	var sent []transport.Result
	if unreachable != nil {
		for _, r := range p.rcpts {
			res := *unreachable
			res.Rcpt = r
			sent = append(sent, res)
		}
	} else {
		sent, err = w.transport.Deliver(ctx, transport.Message{From: w.envelopeSender(ctx, m), To: p.rcpts, Data: data,
			RequireTLS: p.job.delivery.TLSPolicy == configset.TLSRequire})
		if sent == nil {
			log.Error("delivery: transport", "err", err)
			w.giveBack(ctx, []*part{p}, w.now().Add(time.Minute))
			return nil
		}
		// Unreachable: no server said anything — no route, no connection,
		// no greeting (RFC 3463 4.4.x, and no reply code). A refusal, even a
		// 421, or a TLS failure is an answer. An interruption by shutdown
		// is not the destination's failure.
		unreached := !slices.ContainsFunc(sent, func(r transport.Result) bool {
			return r.Outcome != transport.Transient || r.Code != 0 || !strings.HasPrefix(r.Enhanced, "4.4.")
		})
		if unreached && ctx.Err() == nil {
			f := sent[0]
			failure = &f
		}
	}
	results := make([]queue.Result, len(sent))
	for i, r := range sent {
		results[i] = w.classify(m, p.job, r)
	}
	if unreachable == nil {
		withSig := *m
		withSig.DKIM = p.job.signature()
		m = &withSig
	}
	w.record(ctx, m, results)
	for _, r := range results {
		log.Debug("delivery: outcome", "rcpt", r.Rcpt, "state", r.State, "reply", r.Text)
	}
	return failure
}

// record writes a part's outcome, even if ctx ended: what was delivered
// must not be sent again.
func (w *Worker) record(ctx context.Context, m *queue.Stored, results []queue.Result) {
	if err := w.queue.Record(context.WithoutCancel(ctx), m, results, w.cfg.Hostname); err != nil {
		w.log.Error("delivery: record outcome", "msg_id", m.ID, "err", err)
		// The lease runs out and the recipients come due again.
		return
	}
	w.counters.recorded(results)
}

// signature returns the message's DKIM-Signature header lines, made at the
// first attempt. They are stored with that attempt's outcome (queue.Record),
// in the same write, so retries send the same bytes without a write of
// their own; the Stored handed to Record carries them there (job.signed).
// m is not changed: the parts of a message share it.
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
// bounce classified as SES does, or a retry while the window lasts (the
// configuration set's MaxDeliverySeconds, else RetryWindow).
func (w *Worker) classify(m *queue.Stored, j *job, r transport.Result) queue.Result {
	out := queue.Result{Rcpt: r.Rcpt, Code: r.Code, Status: r.Enhanced, Text: r.Text, RemoteMTA: r.RemoteMTA, RemoteIP: r.RemoteIP}
	switch r.Outcome {
	case transport.Delivered:
		out.State = queue.Delivered
		return out
	case transport.Permanent:
		// The server refused for good; the table of SES's bounce types
		// decides whether the address is to blame (SES-BEHAVIOR §8.3).
		out.State = queue.Bounced
		out.BounceType, out.BounceSubType = feedback.ClassifyReply(r.Code, r.Enhanced, r.Text)
		if out.BounceType == feedback.Undetermined {
			out.BounceType, out.BounceSubType = feedback.Permanent, feedback.SubGeneral
		}
		return out
	}
	window := w.cfg.RetryWindow
	if s := j.delivery.MaxDeliverySeconds; s > 0 {
		window = time.Duration(s) * time.Second
	}
	expires := m.CreatedAt.Add(window)
	retry := w.now().Add(w.backoff(j.claim.Attempts))
	if retry.After(expires) {
		// Given up: a soft bounce, whatever the last reply's class.
		out.State, out.BounceType, out.BounceSubType = queue.Bounced, feedback.Transient, feedback.SubGeneral
		if typ, sub := feedback.ClassifyReply(r.Code, r.Enhanced, r.Text); typ == feedback.Transient {
			out.BounceSubType = sub
		}
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

// delayType is the DeliveryDelay event's delayType (SES-BEHAVIOR §8.3).
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
