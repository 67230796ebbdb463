package transport

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Defaults of the session cache's limits.
const (
	// defaultMaxPerHost is Postfix's default_destination_concurrency_limit.
	defaultMaxPerHost = 20
	// defaultIdleTimeout is longer than Postfix's 2s
	// smtp_connection_cache_time_limit: a session is kept across the bursts
	// of a sending application, not only within one queue run.
	defaultIdleTimeout = 30 * time.Second
	// defaultMaxSessionMessages retires a session after this many
	// transactions, so that no server's per-connection limits or state are
	// pushed far (Postfix bounds reuse by time instead, with
	// smtp_connection_reuse_time_limit).
	defaultMaxSessionMessages = 100
)

// pool is the Transport's session cache and per-host concurrency cap.
//
// Sessions are kept per destination (destKey); the cap counts per server
// address (IP and port), whatever host name leads there. An attempt takes a
// slot of its address first (waiting in line when MaxPerHost are in use),
// then an idle session that fits, or opens one. Opening one when the
// address's sessions in use and idle would exceed MaxPerHost closes the
// least recently used idle one first, so a server never sees more than
// MaxPerHost connections from us.
//
// The lock is held only to look at and change the books, never during I/O:
// a slow or silent server holds its own slots and nothing else.
type pool struct {
	maxBusy, maxIdle, maxMessages int
	idleTimeout                   time.Duration

	mu      sync.Mutex
	hosts   map[string]*hostState // by destKey.addr
	closed  bool                  // Close was called: sessions are no longer kept
	closing sync.WaitGroup        // idle sessions being quit by their timer
}

// hostState is the books of one server address.
type hostState struct {
	busy    int             // slots taken: sessions in use or being opened
	idle    []*session      // least recently used first
	waiters []chan struct{} // attempts waiting for a slot, first come first served; closing the channel hands over a slot
}

func newPool(t *Transport) *pool {
	p := &pool{
		maxBusy:     t.MaxPerHost,
		maxIdle:     t.MaxIdlePerHost,
		maxMessages: t.MaxSessionMessages,
		idleTimeout: t.IdleTimeout,
		hosts:       map[string]*hostState{},
	}
	if p.maxBusy <= 0 {
		p.maxBusy = defaultMaxPerHost
	}
	if p.maxIdle <= 0 || p.maxIdle > p.maxBusy {
		p.maxIdle = p.maxBusy
	}
	if p.maxMessages <= 0 {
		p.maxMessages = defaultMaxSessionMessages
	}
	if p.idleTimeout <= 0 {
		p.idleTimeout = defaultIdleTimeout
	}
	return p
}

// sessions is t's cache, made on first use.
func (t *Transport) sessions() *pool {
	t.poolOnce.Do(func() { t.pool = newPool(t) })
	return t.pool
}

// get waits for a slot at k's address, then returns an idle session to k
// for which fits holds, or nil: the caller opens one. evict is an idle
// session the caller must quit and close before opening one, to stay within
// the cap. The error is ctx's, when it ends first; then no slot is held.
// Every successful get is followed by one put or done.
func (p *pool) get(ctx context.Context, k destKey, fits func(*session) bool) (s, evict *session, err error) {
	addr := k.addr()
	p.mu.Lock()
	h := p.hosts[addr]
	if h == nil {
		h = &hostState{}
		p.hosts[addr] = h
	}
	if h.busy < p.maxBusy && len(h.waiters) == 0 {
		h.busy++
	} else {
		ready := make(chan struct{})
		h.waiters = append(h.waiters, ready)
		p.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			p.mu.Lock()
			if i := slices.Index(h.waiters, ready); i >= 0 {
				h.waiters = slices.Delete(h.waiters, i, i+1)
				p.tidy(addr, h)
			} else {
				p.release(h) // handed a slot just now: pass it on
				p.tidy(addr, h)
			}
			p.mu.Unlock()
			return nil, nil, context.Cause(ctx)
		}
		p.mu.Lock()
	}
	defer p.mu.Unlock()

	for i := len(h.idle) - 1; i >= 0; i-- { // most recently used first
		if c := h.idle[i]; c.key == k && fits(c) {
			h.idle = slices.Delete(h.idle, i, i+1)
			c.timer.Stop() // if it fired, expire finds the session gone
			return c, nil, nil
		}
	}
	if len(h.idle) > 0 && h.busy+len(h.idle) > p.maxBusy {
		evict = h.idle[0]
		h.idle = h.idle[1:]
		evict.timer.Stop()
	}
	return nil, evict, nil
}

// put returns a healthy session's slot and keeps the session for the next
// attempt to its destination. A session that must go instead (the cache is
// closed) is returned, as is the idle session it pushed out; the caller
// quits and closes them.
func (p *pool) put(s *session) (drop []*session) {
	addr := s.key.addr()
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hosts[addr]
	if p.closed {
		drop = append(drop, s)
	} else {
		h.idle = append(h.idle, s)
		if len(h.idle) > p.maxIdle {
			drop = append(drop, h.idle[0])
			h.idle[0].timer.Stop()
			h.idle = h.idle[1:]
		}
		s.timer = time.AfterFunc(p.idleTimeout, func() { p.expire(s) })
	}
	p.release(h)
	p.tidy(addr, h)
	return drop
}

// done returns the slot of an attempt that has no session to keep.
func (p *pool) done(k destKey) {
	addr := k.addr()
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hosts[addr]
	p.release(h)
	p.tidy(addr, h)
}

// release frees a slot of h, handing it straight to the first waiter if
// there is one. p.mu is held.
func (p *pool) release(h *hostState) {
	if len(h.waiters) > 0 {
		close(h.waiters[0])
		h.waiters = h.waiters[1:]
		return
	}
	h.busy--
}

// tidy forgets an address with nothing left in its books, so the map does
// not grow with every server ever reached. p.mu is held.
func (p *pool) tidy(addr string, h *hostState) {
	if h.busy == 0 && len(h.idle) == 0 && len(h.waiters) == 0 {
		delete(p.hosts, addr)
	}
}

// expire quits and closes s when it has been idle for IdleTimeout, unless
// an attempt took it in the meantime.
func (p *pool) expire(s *session) {
	addr := s.key.addr()
	p.mu.Lock()
	h := p.hosts[addr]
	i := -1
	if h != nil {
		i = slices.Index(h.idle, s)
	}
	if i < 0 {
		p.mu.Unlock()
		return
	}
	h.idle = slices.Delete(h.idle, i, i+1)
	p.tidy(addr, h)
	p.closing.Add(1)
	p.mu.Unlock()
	defer p.closing.Done()
	s.log.Debug("smtp session idle too long; closing")
	s.quit()
	s.close()
}

// close stops keeping sessions, and quits and closes every idle one; it
// returns when they are all closed, including any whose timer had just
// fired.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	var idle []*session
	for addr, h := range p.hosts {
		for _, s := range h.idle {
			s.timer.Stop()
		}
		idle = append(idle, h.idle...)
		h.idle = nil
		p.tidy(addr, h)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range idle {
		wg.Go(func() {
			s.quit()
			s.close()
		})
	}
	wg.Wait()
	p.closing.Wait()
}
