// Package conntrack keeps the connections of a go-smtp server: the
// connection cap (refused with SES's 421), a graceful shutdown that lets a
// message in flight finish while idle sessions close at once, a hang-up after
// a final reply, and an idle timeout inside DATA. go-smtp's own Shutdown
// waits for every connection, idle ones included, and its Close cannot follow
// a Shutdown, so Sesame's SMTP servers (submission and MX) keep the set
// themselves, with this one piece of code.
package conntrack

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// TooManyConns is written, without an enhanced code (no EHLO has
// negotiated them), to a connection over the cap before hanging up (SES's
// text; a remote MTA retries later, RFC 5321 §4.2.5).
const TooManyConns = "421 Too many concurrent SMTP connections\r\n"

// Set is the set of open connections of a server's listeners: it enforces
// the connection cap and is what a shutdown closes.
type Set struct {
	max     int
	mu      sync.Mutex
	set     map[*Conn]struct{}
	closing bool
}

// NewSet returns a set that admits at most max connections at once.
func NewSet(max int) *Set {
	return &Set{max: max, set: make(map[*Conn]struct{})}
}

// Add tracks c, or reports false when the cap is reached or the server is
// shutting down.
func (cs *Set) Add(c net.Conn) (*Conn, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing || len(cs.set) >= cs.max {
		return nil, false
	}
	tc := &Conn{Conn: c, owner: cs}
	cs.set[tc] = struct{}{}
	return tc, true
}

func (cs *Set) remove(c *Conn) {
	cs.mu.Lock()
	delete(cs.set, c)
	cs.mu.Unlock()
}

// Count is the number of open connections.
func (cs *Set) Count() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.set)
}

// ShutDown stops new connections and closes those not inside a
// transaction; the others close when their transaction ends (Conn.End).
func (cs *Set) ShutDown() {
	cs.mu.Lock()
	cs.closing = true
	open := make([]*Conn, 0, len(cs.set))
	for c := range cs.set {
		open = append(open, c)
	}
	cs.mu.Unlock()
	for _, c := range open {
		c.closeIfIdle()
	}
}

// CloseAll closes every connection, busy or not.
func (cs *Set) CloseAll() {
	cs.mu.Lock()
	open := make([]*Conn, 0, len(cs.set))
	for c := range cs.set {
		open = append(open, c)
	}
	cs.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}

// Closing reports whether a shutdown has begun.
func (cs *Set) Closing() bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.closing
}

// Conn is one accepted TCP connection, beneath any TLS layer. Its state is
// per connection, so it survives the new go-smtp session STARTTLS makes.
type Conn struct {
	net.Conn
	owner *Set

	mu     sync.Mutex
	busy   bool // inside DATA, until the reply is written
	closed bool

	hangUp    atomic.Bool // close after the next write: the final reply
	closeOnce sync.Once

	// dataTimeout, when set, is the idle timeout of every network read
	// (inside DATA); armed is when the deadline was last pushed back (Unix
	// nanoseconds). Atomic: with BDAT, go-smtp runs Data on a goroutine of
	// its own while the connection's goroutine reads.
	dataTimeout atomic.Int64
	armed       atomic.Int64

	// Strikes counts what the server holds against the client — failed
	// AUTH attempts, refused recipients — to hang up on abuse. Only the
	// connection's goroutine touches it.
	Strikes int
}

// SetIdleTimeout makes every read from now on wait at most d for the client
// (0 turns it off). It is applied at each network read, beneath TLS and
// go-smtp's buffering, because go-smtp's DATA reader blocks until it fills
// the caller's buffer: only here is "no byte for d" visible. go-smtp's own
// ReadTimeout, set once per command line, would bound the whole transfer.
func (c *Conn) SetIdleTimeout(d time.Duration) {
	c.armed.Store(0)
	c.dataTimeout.Store(int64(d))
}

// Read reads from the connection, pushing the DATA idle deadline back first
// when one is set.
func (c *Conn) Read(b []byte) (int, error) {
	if d := time.Duration(c.dataTimeout.Load()); d > 0 {
		// Re-arming costs a timer update: do it when a quarter of the
		// timeout (at most a second) has passed, so a client is cut off
		// between three quarters of the timeout and all of it without a
		// byte.
		now := time.Now()
		if armed := c.armed.Load(); armed == 0 || now.Sub(time.Unix(0, armed)) > min(time.Second, d/4) {
			c.armed.Store(now.UnixNano())
			if err := c.Conn.SetReadDeadline(now.Add(d)); err != nil {
				return 0, err
			}
		}
	}
	return c.Conn.Read(b)
}

// Begin marks the connection busy with a message; false means it is
// closing and must not start one.
func (c *Conn) Begin() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.busy = true
	return true
}

// End marks the transaction over (its reply written); during shutdown the
// connection closes now.
func (c *Conn) End() {
	c.mu.Lock()
	c.busy = false
	c.mu.Unlock()
	if c.owner.Closing() {
		c.Close()
	}
}

func (c *Conn) closeIfIdle() {
	c.mu.Lock()
	idle := !c.busy
	c.mu.Unlock()
	if idle {
		c.Close()
	}
}

// HangUpAfterReply closes the connection once the next reply has been
// written: for replies after which the session must not go on (RFC 5321
// §3.8: the server may close after a 421 or a final refusal, and after a
// stalled DATA the stream is out of step).
func (c *Conn) HangUpAfterReply() { c.hangUp.Store(true) }

// Write writes to the connection; go-smtp flushes each reply line in one
// write (one TLS record), so a pending hang-up happens right after it.
func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if c.hangUp.Load() {
		c.Close()
	}
	return n, err
}

// Close closes the connection and forgets it.
func (c *Conn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.owner.remove(c)
		err = c.Conn.Close()
	})
	return err
}

// Of finds the tracked connection beneath go-smtp's (possibly TLS)
// connection.
func Of(nc net.Conn) (*Conn, bool) {
	for {
		switch c := nc.(type) {
		case *Conn:
			return c, true
		case *tls.Conn:
			nc = c.NetConn()
		default:
			return nil, false
		}
	}
}

// Listener tracks accepted connections in Set and refuses those over the cap
// with SES's 421 reply — inside TLS on an implicit-TLS port (TLS set), where
// a plain-text reply would only read as a broken handshake.
type Listener struct {
	net.Listener
	Set *Set
	TLS *tls.Config // set on an implicit-TLS listener

	// Refusing bounds the goroutines answering refused TLS clients (nil:
	// none, such clients are hung up on); WG tracks them.
	Refusing chan struct{}
	WG       *sync.WaitGroup
}

// Accept returns the next connection within the cap; connections over it
// are answered and closed here.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc, ok := l.Set.Add(c); ok {
			return tc, nil
		}
		l.refuse(c)
	}
}

const refuseTimeout = 5 * time.Second

func (l *Listener) refuse(c net.Conn) {
	if l.Set.Closing() {
		c.Close()
		return
	}
	if l.TLS == nil {
		// A short reply fits the socket buffer: no goroutine needed.
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write([]byte(TooManyConns))
		c.Close()
		return
	}
	select {
	case l.Refusing <- struct{}{}:
	default:
		c.Close() // already answering many: just hang up
		return
	}
	l.WG.Add(1)
	go func() {
		defer l.WG.Done()
		defer func() { <-l.Refusing }()
		tc := tls.Server(c, l.TLS)
		defer tc.Close()
		tc.SetDeadline(time.Now().Add(refuseTimeout))
		if tc.Handshake() == nil {
			tc.Write([]byte(TooManyConns))
		}
	}()
}

// Drain shuts a go-smtp server down gracefully over this set: idle
// connections close at once, busy ones once their message is answered
// (go-smtp's Shutdown waits for them). If ctx ends first, abort is called to
// cancel the work in flight, every connection is closed, and forced is true.
func (cs *Set) Drain(ctx context.Context, srv interface{ Shutdown(context.Context) error }, abort func()) (forced bool, err error) {
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Shutdown(context.Background()) }()
	cs.ShutDown()
	select {
	case err = <-stopped:
	case <-ctx.Done():
		forced = true
		abort()
		cs.CloseAll()
		err = <-stopped
	}
	return forced, err
}
