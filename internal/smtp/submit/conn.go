package submit

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conns is the set of open connections of both listeners: it enforces the
// connection cap and is what Shutdown closes. go-smtp's own Shutdown waits
// for every connection, idle ones included, and its Close cannot follow a
// Shutdown, so Sesame keeps the set itself.
type conns struct {
	max     int
	mu      sync.Mutex
	set     map[*conn]struct{}
	closing bool
}

func newConns(max int) *conns {
	return &conns{max: max, set: make(map[*conn]struct{})}
}

// add tracks c, or reports false when the cap is reached or the server is
// shutting down.
func (cs *conns) add(c net.Conn) (*conn, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing || len(cs.set) >= cs.max {
		return nil, false
	}
	tc := &conn{Conn: c, owner: cs}
	cs.set[tc] = struct{}{}
	return tc, true
}

func (cs *conns) remove(c *conn) {
	cs.mu.Lock()
	delete(cs.set, c)
	cs.mu.Unlock()
}

func (cs *conns) count() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.set)
}

// shutDown stops new connections and closes those not inside a
// transaction; the others close when their transaction ends (conn.end).
func (cs *conns) shutDown() {
	cs.mu.Lock()
	cs.closing = true
	open := make([]*conn, 0, len(cs.set))
	for c := range cs.set {
		open = append(open, c)
	}
	cs.mu.Unlock()
	for _, c := range open {
		c.closeIfIdle()
	}
}

// closeAll closes every connection, busy or not.
func (cs *conns) closeAll() {
	cs.mu.Lock()
	open := make([]*conn, 0, len(cs.set))
	for c := range cs.set {
		open = append(open, c)
	}
	cs.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}

func (cs *conns) isClosing() bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.closing
}

// conn is one accepted TCP connection, beneath any TLS layer. Its state is
// per connection, so it survives the new go-smtp session STARTTLS makes.
type conn struct {
	net.Conn
	owner *conns

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

	// authFailures counts failed AUTH attempts; only the connection's
	// goroutine touches it.
	authFailures int
}

// setDataTimeout makes every read from now on wait at most d for the client
// (0 turns it off). It is applied at each network read, beneath TLS and
// go-smtp's buffering, because go-smtp's DATA reader blocks until it fills
// the caller's buffer: only here is "no byte for d" visible. go-smtp's own
// ReadTimeout, set once per command line, would bound the whole transfer.
func (c *conn) setDataTimeout(d time.Duration) {
	c.armed.Store(0)
	c.dataTimeout.Store(int64(d))
}

// Read reads from the connection, pushing the DATA idle deadline back first
// when one is set.
func (c *conn) Read(b []byte) (int, error) {
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

// begin marks the connection busy with a message; false means it is
// closing and must not start one.
func (c *conn) begin() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.busy = true
	return true
}

// end marks the transaction over (its reply written); during shutdown the
// connection closes now.
func (c *conn) end() {
	c.mu.Lock()
	c.busy = false
	c.mu.Unlock()
	if c.owner.isClosing() {
		c.Close()
	}
}

func (c *conn) closeIfIdle() {
	c.mu.Lock()
	idle := !c.busy
	c.mu.Unlock()
	if idle {
		c.Close()
	}
}

// hangUpAfterReply closes the connection once the next reply has been
// written: for replies after which the session must not go on (RFC 5321
// §3.8: the server may close after a 421, and after a stalled DATA the
// stream is out of step).
func (c *conn) hangUpAfterReply() { c.hangUp.Store(true) }

// Write writes to the connection; go-smtp flushes each reply line in one
// write (one TLS record), so a pending hang-up happens right after it.
func (c *conn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if c.hangUp.Load() {
		c.Close()
	}
	return n, err
}

func (c *conn) Close() error {
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

// connOf finds the tracked connection beneath go-smtp's (possibly TLS)
// connection.
func connOf(nc net.Conn) (*conn, bool) {
	for {
		switch c := nc.(type) {
		case *conn:
			return c, true
		case *tls.Conn:
			nc = c.NetConn()
		default:
			return nil, false
		}
	}
}

// listener tracks accepted connections and refuses those over the cap with
// SES's 421 reply — inside TLS on the implicit-TLS port, where a plain-text
// reply would only read as a broken handshake.
type listener struct {
	net.Listener
	conns *conns
	tls   *tls.Config // set on the implicit-TLS listener

	refusing chan struct{} // bounds the goroutines answering refused TLS clients
	wg       *sync.WaitGroup
}

// Accept returns the next connection within the cap; connections over it
// are answered and closed here.
func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc, ok := l.conns.add(c); ok {
			return tc, nil
		}
		l.refuse(c)
	}
}

const refuseTimeout = 5 * time.Second

func (l *listener) refuse(c net.Conn) {
	if l.conns.isClosing() {
		c.Close()
		return
	}
	if l.tls == nil {
		// A short reply fits the socket buffer: no goroutine needed.
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write([]byte(tooManyConns))
		c.Close()
		return
	}
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close() // already answering many: just hang up
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer func() { <-l.refusing }()
		tc := tls.Server(c, l.tls)
		defer tc.Close()
		tc.SetDeadline(time.Now().Add(refuseTimeout))
		if tc.Handshake() == nil {
			tc.Write([]byte(tooManyConns))
		}
	}()
}
