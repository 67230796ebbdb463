package delivery

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sesamehq/sesame/internal/delivery/transport"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/simulator"
)

// The worker is a small MTA scheduler (DESIGN.md §4). Claimed messages are
// split by destination — the recipient's domain, or the relay — into
// parts, and each destination is a lane with its own queue of parts and its
// own concurrency: a destination that is slow, silent or down holds only its
// own lane's deliveries, never the others'. A lane whose deliveries reach no
// server is probed one delivery at a time and then suspended, its mail
// deferred at once with the failure that suspended it, as Postfix does with
// a dead destination. The parts of one message are recorded separately, each
// as its destination answers.

// part is the recipients of one claimed message that go to one destination.
type part struct {
	job   *job
	rcpts []string
	lane  *lane // nil for recipients that never leave the process
}

// lane is one destination's queue and state. Its fields are guarded by
// Worker.mu.
type lane struct {
	key     string  // Transport.Destination: a domain, or "" for the relay
	busy    int     // deliveries in flight
	waiting []*part // claimed, not yet started, in claim order
	reached bool    // a delivery reached one of its servers since it last failed
	// failures counts consecutive deliveries that reached no server; at
	// Config.SuspendAfter the lane is suspended until suspendedUntil.
	failures       int
	suspendedUntil time.Time
	failure        transport.Result // the last such failure, told to deferred mail
}

// limit is how many deliveries the lane may have in flight now.
func (l *lane) limit(cfg Config, now time.Time) int {
	switch {
	case now.Before(l.suspendedUntil):
		return 0
	case l.failures > 0:
		return 1 // probe
	case !l.reached:
		return min(5, cfg.PerDestination) // a new destination: start small
	}
	return cfg.PerDestination
}

// Run claims due deliveries and delivers them until ctx ends; then it
// gives back what it holds and waits for deliveries in flight.
//
// Claims are sized to what the lanes can take. The queue hands out the
// oldest due mail whatever its destination, so when one destination
// dominates it (a newsletter to one provider, everything to a relay) its
// lane fills up and further claims would only be given back. After a lane
// overflows it is "hot": the next claim waits until the hot lanes have half
// their room free and asks for no more than that room — or, after a second,
// claims a full batch anyway, so that mail for other destinations behind a
// slow one is still reached (the overflow, given back for a second, falls
// behind it in the queue).
func (w *Worker) Run(ctx context.Context) {
	defer w.stop()
	var hot []*lane
	var lastClaim time.Time
	for ctx.Err() == nil {
		w.mu.Lock()
		limit := min(w.cfg.MaxHeld-w.held, claimBatch)
		free := 0
		for _, l := range hot {
			free += max(0, w.waitLimit()-len(l.waiting))
		}
		w.mu.Unlock()
		if limit <= 0 {
			w.waitFreed(ctx, time.Second)
			continue
		}
		fitted := false // the claim is sized to the hot lanes' room
		if len(hot) > 0 {
			since := time.Since(lastClaim)
			if free < w.waitLimit()/2 && since < time.Second {
				w.waitFreed(ctx, time.Second-since)
				continue
			}
			if since < time.Second {
				limit, fitted = min(limit, free), true
			}
		}
		claims, err := w.queue.Claim(ctx, limit, w.cfg.Lease)
		lastClaim = time.Now()
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("delivery: claim", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		rows := 0
		for _, c := range claims {
			rows += len(c.Recipients)
		}
		overflowed, toHot := w.dispatch(ctx, claims, hot)
		switch {
		case len(overflowed) > 0:
			hot = overflowed
		case rows < limit, !fitted, 2*toHot < rows:
			// No more due mail, or the queue's head has moved on to
			// other destinations: claim full batches again.
			hot = nil
		}
		if len(claims) == 0 {
			w.idle(ctx)
		}
	}
}

// claimBatch is the most deliveries claimed at once.
const claimBatch = 100

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

// waitFreed waits until a delivery ends, ctx ends, or d passes.
func (w *Worker) waitFreed(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.freed:
	case <-t.C:
	}
}

// dispatch splits claims into parts, starts what may start and queues the
// rest in their lanes. Parts of a lane already holding as many as it may
// wait for are given back to the queue for a moment. dispatch returns the
// lanes that overflowed so, and how many recipients went to the lanes in
// hot.
func (w *Worker) dispatch(ctx context.Context, claims []queue.Claim, hot []*lane) (overflowed []*lane, toHot int) {
	now := w.now()
	var overflow []*part
	w.mu.Lock()
	defer func() {
		w.mu.Unlock()
		if len(overflow) > 0 {
			w.giveBack(ctx, overflow, now.Add(overflowDelay))
			w.release(overflow)
		}
	}()
	w.sweepLocked(now)
	for _, c := range claims {
		j := &job{claim: c, claimed: now}
		w.held += len(c.Recipients)
		for _, p := range w.split(j) {
			if p.lane == nil {
				w.goPart(ctx, p, nil)
				continue
			}
			l := p.lane
			if slices.Contains(hot, l) {
				toHot += len(p.rcpts)
			}
			if len(l.waiting) >= w.waitLimit() && !now.Before(l.suspendedUntil) {
				overflow = append(overflow, p)
				if !slices.Contains(overflowed, l) {
					overflowed = append(overflowed, l)
				}
				continue
			}
			l.waiting = append(l.waiting, p)
			w.startLocked(ctx, l, now)
		}
	}
	return overflowed, toHot
}

// sweepLocked forgets, at most once a minute, the failures of idle
// destinations last heard of longer ago than the longest retry interval:
// mail coming due for one after that starts it afresh. Without it every
// dead domain ever mailed would keep its lane. Called with w.mu held.
func (w *Worker) sweepLocked(now time.Time) {
	if now.Sub(w.swept) < time.Minute {
		return
	}
	w.swept = now
	for key, l := range w.lanes {
		if l.busy == 0 && len(l.waiting) == 0 && now.After(l.suspendedUntil.Add(w.cfg.RetryMax)) {
			delete(w.lanes, key)
		}
	}
}

// overflowDelay is how long a part its lane had no room for stays in the
// queue before it is claimed again.
const overflowDelay = time.Second

// waitLimit is how many parts a lane may hold waiting to start.
func (w *Worker) waitLimit() int { return 4 * w.cfg.PerDestination }

// split groups a claim's recipients by destination. Mailbox simulator
// recipients, and in --dev mode every recipient, stay in the process.
func (w *Worker) split(j *job) []*part {
	var parts []*part
	var local *part
	byLane := map[string]*part{}
	for _, r := range j.claim.Recipients {
		if w.cfg.Dev || simulator.Outcome(r) != simulator.None {
			if local == nil {
				local = &part{job: j}
				parts = append(parts, local)
			}
			local.rcpts = append(local.rcpts, r)
			continue
		}
		key := w.transport.Destination(r) // "" is the relay
		p := byLane[key]
		if p == nil {
			l := w.lanes[key]
			if l == nil {
				l = &lane{key: key}
				w.lanes[key] = l
			}
			p = &part{job: j, lane: l}
			byLane[key] = p
			parts = append(parts, p)
		}
		p.rcpts = append(p.rcpts, r)
	}
	return parts
}

// startLocked starts l's waiting parts while the lane and the worker have
// room. A suspended lane's parts are all deferred at once; a part that
// waited so long its lease may soon run out is given back instead, so no
// other claim can deliver it a second time. Called with w.mu held.
func (w *Worker) startLocked(ctx context.Context, l *lane, now time.Time) {
	if ctx.Err() != nil {
		return // stopping: stop gives the waiting parts back untried
	}
	if now.Before(l.suspendedUntil) {
		failure := l.suspended()
		for _, p := range l.waiting {
			w.goPart(ctx, p, &failure)
		}
		l.waiting = nil
		return
	}
	var stale []*part
	for len(l.waiting) > 0 && l.busy < l.limit(w.cfg, now) && w.busy < w.cfg.Concurrency {
		p := l.waiting[0]
		l.waiting = l.waiting[1:]
		if now.Sub(p.job.claimed) > w.cfg.Lease/2 {
			stale = append(stale, p)
			continue
		}
		l.busy++
		w.busy++
		w.goPart(ctx, p, nil)
	}
	if len(stale) > 0 {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.giveBack(ctx, stale, now)
			w.release(stale)
		}()
	}
}

// suspended is the result told to a suspended lane's mail.
func (l *lane) suspended() transport.Result {
	r := l.failure
	r.Outcome = transport.Transient
	r.Text = fmt.Sprintf("delivery temporarily suspended: %s", r.Text)
	return r
}

// goPart runs one part in its own goroutine: an SMTP delivery, a deferral
// of a suspended lane's part (unreachable non-nil), or the in-process
// outcome of simulator and captured recipients (p.lane nil).
func (w *Worker) goPart(ctx context.Context, p *part, unreachable *transport.Result) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if p.lane == nil {
			w.simulateAndCapture(ctx, p)
			w.finish(ctx, p, false, nil)
			return
		}
		failure := w.deliver(ctx, p, unreachable)
		w.finish(ctx, p, unreachable == nil, failure)
	}()
}

// finish accounts for an ended part, updates its lane's health (failure is
// non-nil when the delivery reached no server), and starts what may start
// now.
func (w *Worker) finish(ctx context.Context, p *part, wasBusy bool, failure *transport.Result) {
	now := w.now()
	w.mu.Lock()
	w.held -= len(p.rcpts)
	if l := p.lane; l != nil {
		if wasBusy {
			l.busy--
			w.busy--
			if failure == nil {
				l.reached, l.failures = true, 0
			} else {
				l.failure = *failure
				l.reached = false
				l.failures++
				if l.failures >= w.cfg.SuspendAfter && !now.Before(l.suspendedUntil) {
					d := w.cfg.Suspend << min(l.failures-w.cfg.SuspendAfter, 16)
					l.suspendedUntil = now.Add(min(d, max(w.cfg.RetryMax, w.cfg.Suspend)))
					w.counters.suspension()
					w.log.Warn("delivery: destination unreachable; its mail is deferred",
						"destination", cmp.Or(l.key, "relay "+w.transport.Relay), "until", l.suspendedUntil, "reason", l.failure.Text)
				}
			}
		}
		w.startLocked(ctx, l, now)
		if l.busy == 0 && len(l.waiting) == 0 && l.failures == 0 {
			delete(w.lanes, l.key)
		}
	}
	// A slot in the worker may let another lane's part start.
	for _, other := range w.lanes {
		if w.busy >= w.cfg.Concurrency {
			break
		}
		if len(other.waiting) > 0 {
			w.startLocked(ctx, other, now)
		}
	}
	w.mu.Unlock()
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// giveBack returns parts to the queue, due at until, without an attempt.
func (w *Worker) giveBack(ctx context.Context, parts []*part, until time.Time) {
	claims := make([]queue.Claim, len(parts))
	for i, p := range parts {
		claims[i] = queue.Claim{MessageID: p.job.claim.MessageID, Recipients: p.rcpts}
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := w.queue.Postpone(wctx, until, claims); err != nil {
		w.log.Error("delivery: giving back claimed mail; it comes due when its lease ends", "err", err)
	}
	n := 0
	for _, c := range claims {
		n += len(c.Recipients)
	}
	w.counters.gaveBack(n)
}

// release stops counting parts that were given back without running.
func (w *Worker) release(parts []*part) {
	n := 0
	for _, p := range parts {
		n += len(p.rcpts)
	}
	w.mu.Lock()
	w.held -= n
	w.mu.Unlock()
}

// stop gives back every part still waiting, waits for the deliveries in
// flight, and closes the transport's idle sessions.
func (w *Worker) stop() {
	w.mu.Lock()
	var waiting []*part
	for _, l := range w.lanes {
		waiting = append(waiting, l.waiting...)
		l.waiting = nil
	}
	w.mu.Unlock()
	if len(waiting) > 0 {
		w.giveBack(context.Background(), waiting, w.now())
		w.release(waiting)
	}
	w.wg.Wait()
	if err := w.transport.Close(); err != nil {
		w.log.Warn("delivery: closing idle SMTP sessions", "err", err)
	}
}
