// Package smtpsink is a real SMTP server for tests: a go-smtp server on a
// loopback port that records every message it accepts and can be scripted to
// answer any stage with a 4xx/5xx reply, offer STARTTLS, or never greet at
// all. Delivery code is tested by pointing it at a Sink, the way maddy's and
// mox's tests drive their SMTP clients against in-process servers.
package smtpsink

import (
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message the sink accepted (final 250 to DATA).
type Received struct {
	From string   // MAIL FROM address, "" for the null sender
	To   []string // accepted RCPT TO addresses, in order
	Data []byte   // the message exactly as transmitted, dot-unstuffed
	TLS  bool     // the transaction ran over STARTTLS
	Helo string   // the EHLO/HELO name of the session
	At   time.Time
}

// Stats counts what the sink saw, accepted or not.
type Stats struct {
	Conns   int // TCP connections accepted
	Open    int // connections open now (closed by either side are not)
	MaxOpen int // the most open at once
	Mails   int // MAIL commands received
	Rcpts   int // RCPT commands received
}

// Sink is a running SMTP server. It is safe for concurrent use.
type Sink struct {
	cfg    config
	ln     *listener
	srv    *smtp.Server
	served chan struct{} // closed when Serve returns

	mu      sync.Mutex
	msgs    []Received
	stats   Stats
	changed chan struct{} // closed and replaced whenever msgs grows
	closed  bool          // set at cleanup; stops log forwarding to t
}

// New starts a sink on 127.0.0.1:0 (or WithAddr's address) and stops it in
// t.Cleanup.
func New(t testing.TB, opts ...Option) *Sink {
	t.Helper()
	cfg := config{domain: "sink.test", ioTimeout: 30 * time.Second, addr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	inner, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		t.Fatalf("smtpsink: listen: %v", err)
	}
	s := &Sink{cfg: cfg, served: make(chan struct{}), changed: make(chan struct{})}
	s.ln = &listener{Listener: inner, sink: s}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.domain
	srv.MaxMessageBytes = cfg.maxBytes
	srv.ReadTimeout = cfg.ioTimeout
	srv.WriteTimeout = cfg.ioTimeout
	srv.ErrorLog = testLogger{s: s, t: t}
	if cfg.cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cfg.cert}}
	}
	s.srv = srv

	go func() {
		defer close(s.served)
		_ = srv.Serve(s.ln)
	}()
	t.Cleanup(s.close)
	return s
}

// Addr is the sink's "127.0.0.1:port".
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Port is the sink's TCP port.
func (s *Sink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Messages returns a copy of the messages accepted so far, oldest first.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneAll(s.msgs)
}

// Stats returns the counters so far.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Wait returns the accepted messages once there are at least n, failing the
// test (t.Fatalf, so call it from the test goroutine) if that takes longer
// than timeout.
func (s *Sink) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			msgs := cloneAll(s.msgs)
			s.mu.Unlock()
			return msgs
		}
		got, changed := len(s.msgs), s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("smtpsink: %d message(s) after %v, want %d", got, timeout, n)
			return nil
		}
	}
}

func (s *Sink) record(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sink) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// script asks the configured Script about a stage; nil means carry on.
func (s *Sink) script(stage, arg string) error {
	if s.cfg.script == nil {
		return nil
	}
	if e := s.cfg.script(stage, arg); e != nil {
		return e
	}
	return nil
}

func (s *Sink) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	// Close stops the listener and every connection go-smtp tracks; the
	// listener wrapper closes the silent ones it held back.
	_ = s.srv.Close()
	_ = s.ln.Close() // in case Serve had not registered it yet
	<-s.served
	s.ln.closeHeld()
}

func cloneAll(msgs []Received) []Received {
	out := make([]Received, len(msgs))
	for i, m := range msgs {
		m.To = append([]string(nil), m.To...)
		m.Data = append([]byte(nil), m.Data...)
		out[i] = m
	}
	return out
}

// testLogger forwards go-smtp's error log to the test while it runs; after
// cleanup a late line from a connection goroutine is dropped rather than
// reported on a finished test.
type testLogger struct {
	s *Sink
	t testing.TB
}

func (l testLogger) Printf(format string, v ...any) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.s.closed {
		l.t.Logf("smtpsink: "+format, v...)
	}
}

func (l testLogger) Println(v ...any) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.s.closed {
		l.t.Log(append([]any{"smtpsink:"}, v...)...)
	}
}
