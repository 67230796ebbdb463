package transport

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// recSink is a go-smtp server that shows what the session cache does to
// connections: how many were accepted, how many were open at once, how many
// TLS handshakes there were, every byte read from each connection, and when
// each connection ended. smtpsink's Sink counts messages, not connections.
type recSink struct {
	ln  net.Listener
	srv *smtp.Server

	refuse  map[string]bool // RCPT TO addresses answered 550 5.1.1
	slow    time.Duration   // each DATA takes this long: a slow server
	discard bool            // keep no reads or messages (benchmarks)

	mu         sync.Mutex
	conns      []*recConn
	open       int // connections open now
	maxOpen    int // the most ever open at once
	ended      int // connections closed, by either side
	handshakes int // TLS handshakes started
	msgs       []recMsg
	events     []string      // "N accept" and "N read <chunk>" for connection N, in order
	changed    chan struct{} // closed and replaced on every change
}

type recMsg struct {
	from string
	to   []string
	data []byte
}

type recOption func(*recSink)

func withTLS(cert tls.Certificate) recOption {
	return func(s *recSink) {
		s.srv.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{cert},
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
				s.update(func() { s.handshakes++ })
				return nil, nil
			},
		}
	}
}

func withRefused(addrs ...string) recOption {
	return func(s *recSink) {
		for _, a := range addrs {
			s.refuse[a] = true
		}
	}
}

// withIdleTimeout makes the server say 421 and hang up on a client silent
// for d (go-smtp's ReadTimeout).
func withIdleTimeout(d time.Duration) recOption {
	return func(s *recSink) { s.srv.ReadTimeout = d }
}

func withSlowData(d time.Duration) recOption { return func(s *recSink) { s.slow = d } }

func discarding() recOption { return func(s *recSink) { s.discard = true } }

func newRecSink(t testing.TB, opts ...recOption) *recSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &recSink{ln: ln, refuse: map[string]bool{}, changed: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &recSession{sink: s}, nil }))
	s.srv.Domain = "rec.test"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	for _, o := range opts {
		o(s)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = s.srv.Serve(recListener{s})
	}()
	t.Cleanup(func() {
		_ = s.srv.Close()
		_ = ln.Close()
		<-served
	})
	return s
}

func (s *recSink) addr() string { return s.ln.Addr().String() }

func (s *recSink) update(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor waits until cond (called with s.mu held) holds, failing the test
// after timeout. Call it from the test goroutine.
func (s *recSink) waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("recSink: still waiting for %s after %v", what, timeout)
		}
	}
}

type recStats struct{ accepts, open, maxOpen, ended, handshakes, msgs int }

func (s *recSink) stats() recStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return recStats{len(s.conns), s.open, s.maxOpen, s.ended, s.handshakes, len(s.msgs)}
}

func (s *recSink) messages() []recMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recMsg(nil), s.msgs...)
}

// reads returns the chunks read from connection i, as the Read calls
// returned them.
func (s *recSink) reads(i int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.conns[i].reads...)
}

// eventIndex is the position of event e in the order things happened, -1
// if it did not.
func (s *recSink) eventIndex(e string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Index(s.events, e)
}

// stream is everything read from connection i.
func (s *recSink) stream(i int) string { return strings.Join(s.reads(i), "") }

// dropAll closes every connection from the server's side, as a server does
// with a client idle too long.
func (s *recSink) dropAll() {
	s.mu.Lock()
	conns := append([]*recConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type recListener struct{ s *recSink }

func (l recListener) Accept() (net.Conn, error) {
	c, err := l.s.ln.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recConn{Conn: c, s: l.s}
	l.s.update(func() {
		rc.n = len(l.s.conns)
		l.s.events = append(l.s.events, fmt.Sprintf("%d accept", rc.n))
		l.s.conns = append(l.s.conns, rc)
		l.s.open++
		l.s.maxOpen = max(l.s.maxOpen, l.s.open)
	})
	return rc, nil
}

func (l recListener) Close() error   { return l.s.ln.Close() }
func (l recListener) Addr() net.Addr { return l.s.ln.Addr() }

type recConn struct {
	net.Conn
	s     *recSink
	n     int // index in s.conns
	once  sync.Once
	reads []string // guarded by s.mu
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.s.discard {
		c.s.update(func() {
			c.reads = append(c.reads, string(p[:n]))
			c.s.events = append(c.s.events, fmt.Sprintf("%d read %s", c.n, p[:n]))
		})
	}
	return n, err
}

func (c *recConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.s.update(func() { c.s.open--; c.s.ended++ }) })
	return err
}

type recSession struct {
	sink *recSink
	from string
	to   []string
}

func (r *recSession) Mail(from string, _ *smtp.MailOptions) error {
	r.from, r.to = from, nil
	return nil
}

func (r *recSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if r.sink.refuse[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	r.to = append(r.to, to)
	return nil
}

func (r *recSession) Data(rd io.Reader) error {
	data, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	if r.sink.slow > 0 {
		time.Sleep(r.sink.slow)
	}
	m := recMsg{from: r.from, to: append([]string(nil), r.to...), data: data}
	r.sink.update(func() {
		if r.sink.discard {
			m = recMsg{}
		}
		r.sink.msgs = append(r.sink.msgs, m)
	})
	return nil
}

func (r *recSession) Reset()        { r.from, r.to = "", nil }
func (r *recSession) Logout() error { return nil }

// rawServer is a hand-written SMTP server for what go-smtp's server will not
// do: it may leave PIPELINING unannounced and then flag every command that
// arrives before the reply to the one before it (a client pipelining
// uninvited), answer DATA with 354 even when it refused every recipient
// (the case RFC 2920 §3.1 tells clients to expect), or say 421 and hang up
// in the middle of the RCPTs. It records every command line, and a message's
// content as one "body:" entry.
type rawServer struct {
	rawOptions
	refused     map[string]bool
	ln          net.Listener
	mu          sync.Mutex
	lines       []string
	uninvited   []string // commands pipelined without PIPELINING
	connections int
}

type rawOptions struct {
	pipelining bool     // announce PIPELINING
	always354  bool     // answer DATA with 354 whatever the RCPTs got
	refuse     []string // RCPT TO addresses answered 550 5.1.1
	hangUpAt   string   // the RCPT TO address answered 421, then the connection closed
}

func newRawServer(t *testing.T, o rawOptions) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{rawOptions: o, refused: map[string]bool{}, ln: ln}
	for _, a := range o.refuse {
		s.refused[a] = true
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.connections++
			s.mu.Unlock()
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *rawServer) addr() string { return s.ln.Addr().String() }

func (s *rawServer) record(line string, early bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, line)
	if early {
		s.uninvited = append(s.uninvited, line)
	}
}

func (s *rawServer) got() (lines, uninvited []string, conns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...), append([]string(nil), s.uninvited...), s.connections
}

func (s *rawServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	io.WriteString(c, "220 raw.test ESMTP\r\n")
	accepted := 0
	for range 1000 {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		s.record(line, !s.pipelining && r.Buffered() > 0)
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if s.pipelining {
				io.WriteString(c, "250-raw.test\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n")
			} else {
				io.WriteString(c, "250-raw.test\r\n250 SIZE 1000000\r\n")
			}
		case "MAIL":
			accepted = 0
			io.WriteString(c, "250 2.1.0 ok\r\n")
		case "RCPT":
			addr := strings.TrimSuffix(strings.TrimPrefix(arg, "TO:<"), ">")
			if addr == s.hangUpAt {
				io.WriteString(c, "421 4.3.2 shutting down\r\n")
				return
			}
			if s.refused[addr] {
				io.WriteString(c, "550 5.1.1 no such user here\r\n")
				continue
			}
			accepted++
			io.WriteString(c, "250 2.1.5 ok\r\n")
		case "DATA":
			if accepted == 0 && !s.always354 {
				io.WriteString(c, "554 5.5.1 no valid recipients\r\n")
				continue
			}
			io.WriteString(c, "354 go on\r\n")
			var b strings.Builder
			for range 10000 {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.record("body:"+b.String(), false)
			if accepted == 0 {
				io.WriteString(c, "554 5.5.1 no valid recipients\r\n")
			} else {
				io.WriteString(c, "250 2.0.0 raw queued\r\n")
			}
		case "RSET":
			accepted = 0
			io.WriteString(c, "250 2.0.0 reset\r\n")
		case "QUIT":
			io.WriteString(c, "221 2.0.0 bye\r\n")
			return
		default:
			io.WriteString(c, "502 5.5.2 unknown command\r\n")
		}
	}
}

// silentServer accepts connections and never says a word; each accept is
// reported on the channel. The connections are closed when the test ends.
func silentServer(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 100)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			ch <- struct{}{}
		}
	})
	return ln.Addr().String(), ch
}
