// Package sinksrv is the benchmark's SMTP sink: a go-smtp server that
// accepts every message, counts it, and keeps nothing. It notes whether each
// message carries a DKIM-Signature and verifies a sample of them against the
// published keys (RFC 6376 §6), so the end-to-end figure is for mail that
// was really signed. Its stall mode accepts connections and never greets:
// pointed at as Sesame's relay it parks the delivery workers, so an accept
// benchmark measures the accept path alone.
package sinksrv

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Config is the sink's behaviour.
type Config struct {
	Domain string      // in the greeting; default sink.bench.test
	TLS    *tls.Config // offer STARTTLS when set
	// Auth, when set, offers AUTH PLAIN and accepts what it accepts (for
	// testing submission clients against the sink).
	Auth func(user, pass string) error
	// Stall accepts connections and never sends a greeting.
	Stall bool
	// VerifyEvery verifies the DKIM signatures of one message in so many
	// (0: none), looking keys up with LookupTXT.
	VerifyEvery int64
	LookupTXT   func(name string) ([]string, error)
	Timeout     time.Duration // per read and write; default 1 minute
	ErrorLog    *log.Logger   // go-smtp's errors; nil discards them
}

// Stats is what the sink has seen.
type Stats struct {
	Conns        int64
	Messages     int64 // accepted (250 to DATA)
	Recipients   int64
	Bytes        int64
	Signed       int64 // messages with a DKIM-Signature header
	Verified     int64 // sampled messages whose every signature verified
	VerifyFailed int64
	KeyBits      int // size of the last RSA key seen in DNS
	First, Last  time.Time
}

// Sink is a running sink.
type Sink struct {
	cfg    Config
	ln     net.Listener
	srv    *smtp.Server
	served chan struct{}

	conns, msgs, rcpts, bytes, signed, verified, failed atomic.Int64
	first, last                                         atomic.Int64 // UnixNano
	keyBits                                             atomic.Int64

	mu       sync.Mutex
	stalled  map[net.Conn]struct{}
	closed   bool
	arrived  chan struct{} // closed and replaced on every message
	bufs     sync.Pool
	keyCache sync.Map // name → []string
}

// Listen starts a sink on addr (127.0.0.1:0 for any port).
func Listen(addr string, cfg Config) (*Sink, error) {
	if cfg.Domain == "" {
		cfg.Domain = "sink.bench.test"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.VerifyEvery > 0 && cfg.LookupTXT == nil {
		return nil, errors.New("sinksrv: DKIM verification needs LookupTXT")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, ln: ln, served: make(chan struct{}), stalled: map[net.Conn]struct{}{}, arrived: make(chan struct{})}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	if cfg.Stall {
		go s.stall()
		return s, nil
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Domain
	srv.TLSConfig = cfg.TLS
	srv.MaxMessageBytes = 50 << 20
	srv.MaxRecipients = 1000
	srv.ReadTimeout, srv.WriteTimeout = cfg.Timeout, cfg.Timeout
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	if cfg.ErrorLog != nil {
		srv.ErrorLog = cfg.ErrorLog
	} else {
		srv.ErrorLog = log.New(io.Discard, "", 0)
	}
	s.srv = srv
	go func() {
		defer close(s.served)
		_ = srv.Serve(countingListener{ln, &s.conns})
	}()
	return s, nil
}

// Addr is the bound address.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Stats returns the counters now.
func (s *Sink) Stats() Stats {
	st := Stats{Conns: s.conns.Load(), Messages: s.msgs.Load(), Recipients: s.rcpts.Load(), Bytes: s.bytes.Load(),
		Signed: s.signed.Load(), Verified: s.verified.Load(), VerifyFailed: s.failed.Load(), KeyBits: int(s.keyBits.Load())}
	if f := s.first.Load(); f != 0 {
		st.First = time.Unix(0, f)
	}
	if l := s.last.Load(); l != 0 {
		st.Last = time.Unix(0, l)
	}
	return st
}

// Wait returns once n messages have arrived, or with ctx's error.
func (s *Sink) Wait(ctx context.Context, n int64) error {
	for {
		s.mu.Lock()
		ch := s.arrived
		s.mu.Unlock()
		if s.msgs.Load() >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Close stops the sink and drops its connections.
func (s *Sink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.stalled {
		c.Close()
	}
	s.mu.Unlock()
	if s.srv != nil {
		err := s.srv.Close()
		<-s.served
		return err
	}
	return s.ln.Close()
}

// stall accepts and holds connections, reading whatever comes, until Close.
func (s *Sink) stall() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.stalled[c] = struct{}{}
		s.mu.Unlock()
		go func() {
			_, _ = io.Copy(io.Discard, c)
			c.Close()
			s.mu.Lock()
			delete(s.stalled, c)
			s.mu.Unlock()
		}()
	}
}

// newSession is called for every EHLO, and again after STARTTLS;
// connections are counted by the listener.
func (s *Sink) newSession(*smtp.Conn) (smtp.Session, error) {
	return &session{s: s}, nil
}

// arrive counts one accepted message.
func (s *Sink) arrive(rcpts int, data []byte) {
	now := time.Now().UnixNano()
	s.first.CompareAndSwap(0, now)
	s.last.Store(now)
	s.rcpts.Add(int64(rcpts))
	s.bytes.Add(int64(len(data)))
	signed := hasDKIM(data)
	if signed {
		s.signed.Add(1)
	}
	n := s.msgs.Add(1)
	if signed && s.cfg.VerifyEvery > 0 && (n-1)%s.cfg.VerifyEvery == 0 {
		if s.verify(data) {
			s.verified.Add(1)
		} else {
			s.failed.Add(1)
		}
	}
	s.mu.Lock()
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()
}

// verify checks every DKIM signature of data.
func (s *Sink) verify(data []byte) bool {
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{LookupTXT: s.lookupTXT})
	if err != nil || len(vs) == 0 {
		return false
	}
	for _, v := range vs {
		if v.Err != nil {
			return false
		}
	}
	return true
}

// lookupTXT caches key records (they do not change during a run) and notes
// the RSA key size.
func (s *Sink) lookupTXT(name string) ([]string, error) {
	if v, ok := s.keyCache.Load(name); ok {
		return v.([]string), nil
	}
	txts, err := s.cfg.LookupTXT(name)
	if err != nil {
		return nil, err
	}
	for _, t := range txts {
		if bits := rsaBits(t); bits > 0 {
			s.keyBits.Store(int64(bits))
		}
	}
	s.keyCache.Store(name, txts)
	return txts, nil
}

// rsaBits is the size of the RSA key in a DKIM key record (RFC 6376
// §3.6.1: p= is the base64 SubjectPublicKeyInfo), 0 if it holds none.
func rsaBits(record string) int {
	for _, tag := range strings.Split(record, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(tag), "=")
		if strings.TrimSpace(k) != "p" {
			continue
		}
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
		if err != nil {
			return 0
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return 0
		}
		if k, ok := pub.(*rsa.PublicKey); ok {
			return k.N.BitLen()
		}
	}
	return 0
}

// hasDKIM reports whether the header section has a DKIM-Signature field.
func hasDKIM(data []byte) bool {
	const name = "dkim-signature:"
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		if len(bytes.TrimRight(line, "\r")) == 0 {
			return false // end of the header section
		}
		if len(line) >= len(name) && strings.EqualFold(string(line[:len(name)]), name) {
			return true
		}
		data = rest
	}
	return false
}

type session struct {
	s     *Sink
	rcpts int
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.cfg.Auth == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.cfg.Auth == nil || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if err := ss.s.cfg.Auth(user, pass); err != nil {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		return nil
	}), nil
}

func (ss *session) Mail(string, *smtp.MailOptions) error { ss.rcpts = 0; return nil }

func (ss *session) Rcpt(string, *smtp.RcptOptions) error { ss.rcpts++; return nil }

func (ss *session) Data(r io.Reader) error {
	buf := ss.s.bufs.Get().(*bytes.Buffer)
	defer ss.s.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	ss.s.arrive(ss.rcpts, buf.Bytes())
	return nil
}

func (ss *session) Reset()        { ss.rcpts = 0 }
func (ss *session) Logout() error { return nil }

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
