package mx

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conns is the set of open connections: it enforces the connection cap and
// is what Shutdown closes. go-smtp's own Shutdown waits for every
// connection, idle ones included, and its Close cannot follow a Shutdown,
// so the server keeps the set itself.
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

func (cs *conns) snapshot() []*conn {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make([]*conn, 0, len(cs.set))
	for c := range cs.set {
		out = append(out, c)
	}
	return out
}

// shutDown stops new connections and closes those not inside a
// transaction; the others close when their transaction ends (conn.end).
func (cs *conns) shutDown() {
	cs.mu.Lock()
	cs.closing = true
	cs.mu.Unlock()
	for _, c := range cs.snapshot() {
		c.closeIfIdle()
	}
}

// closeAll closes every connection, busy or not.
func (cs *conns) closeAll() {
	for _, c := range cs.snapshot() {
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

	// rejects counts refused recipients; only the connection's goroutine
	// touches it.
	rejects int
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
// written (RFC 5321 §3.8 lets a server close after a 421 or a final
// refusal).
func (c *conn) hangUpAfterReply() { c.hangUp.Store(true) }

// Write writes to the connection; go-smtp flushes each reply in one write,
// so a pending hang-up happens right after it.
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

// tooManyConns is written, without an enhanced code (no EHLO has
// negotiated them), to a connection over the cap before hanging up; a
// remote MTA retries later (RFC 5321 §4.2.5).
const tooManyConns = "421 Too many concurrent SMTP connections\r\n"

// listener tracks accepted connections and refuses those over the cap.
type listener struct {
	net.Listener
	conns *conns
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
		if !l.conns.isClosing() {
			// A short reply fits the socket buffer: no goroutine needed.
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte(tooManyConns))
		}
		c.Close()
	}
}
