// Package submit is SES's SMTP interface in Sesame (SES-BEHAVIOR §3): mail
// submission on a STARTTLS port (SES's 587/2587) and an implicit-TLS port
// (465/2465), AUTH PLAIN and LOGIN with the SMTP passwords SES derives from
// an access key's secret, and SES's replies. It is a thin adapter: every
// message goes to the same send use case as SendRawEmail (the envelope
// sender as Source, the RCPT TO addresses as Destinations, DATA as the raw
// message), and the domain's refusals are mapped to SMTP replies in one
// table (reply.go). The protocol itself is go-smtp's.
package submit

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/sesamehq/sesame/internal/smtp/conntrack"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/sending"
)

// Operation is the ses:operation of a message submitted over SMTP, as SES
// records it in events.
const Operation = "SendSmtpEmail"

// Keys finds access keys by id; account.Service is one.
type Keys interface {
	LookupKey(ctx context.Context, id string) (account.Key, error)
}

// Sender is the send use case; sending.Service is one. Send returns the
// MessageId once the message is durable, or a *fault.Error refusal.
type Sender interface {
	Send(ctx context.Context, r *sending.Request) (string, error)
}

// Mode is how a listener starts TLS.
type Mode int

const (
	// STARTTLS: plain text until the client's STARTTLS (SES's 25, 587, 2587).
	STARTTLS Mode = iota
	// ImplicitTLS: TLS from the first byte (SES's 465, 2465).
	ImplicitTLS
)

func (m Mode) String() string {
	if m == ImplicitTLS {
		return "implicit TLS"
	}
	return "STARTTLS"
}

// Defaults of Config (SES-BEHAVIOR §3.1; the timeouts are Sesame's choice).
const (
	DefaultCommandTimeout  = 5 * time.Minute
	DefaultDataTimeout     = 10 * time.Minute
	DefaultWriteTimeout    = time.Minute
	DefaultSendTimeout     = time.Minute
	DefaultLookupTimeout   = 10 * time.Second
	DefaultMaxConns        = 500
	DefaultMaxAuthFailures = 3
	DefaultShutdownGrace   = 10 * time.Second
)

// Config is what the server needs. Zero limits take the defaults.
type Config struct {
	Hostname string // in the greeting
	Region   string // the region SMTP passwords are derived for
	// TLS serves STARTTLS and the implicit-TLS port; required, TLS 1.2+.
	TLS    *tls.Config
	Keys   Keys
	Sender Sender
	Logger *slog.Logger

	// AllowV2Passwords also accepts legacy, region-independent version 2
	// SMTP passwords, which AWS no longer issues (§3.3).
	AllowV2Passwords bool

	MaxMessageBytes int // advertised as SIZE; default sending.MaxSizeV2 (40 MB)
	MaxRecipients   int // RCPT TO per message; default sending.MaxRecipients (50)
	MaxConns        int // open connections over both listeners
	MaxAuthFailures int // failed AUTH attempts before the connection is closed

	CommandTimeout time.Duration // idle wait for a command
	DataTimeout    time.Duration // idle wait inside DATA
	WriteTimeout   time.Duration
	SendTimeout    time.Duration // for the send use case to accept a message
	LookupTimeout  time.Duration // for a credential look-up
	ShutdownGrace  time.Duration // Close waits this long for messages in flight
}

func (c *Config) defaults() error {
	var errs []error
	if c.Hostname == "" {
		errs = append(errs, errors.New("no host name"))
	}
	if c.Region == "" {
		errs = append(errs, errors.New("no region"))
	}
	if c.TLS == nil {
		errs = append(errs, errors.New("no TLS configuration: SES refuses unencrypted sessions"))
	}
	if c.Keys == nil || c.Sender == nil {
		errs = append(errs, errors.New("no key lookup or sender"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("submit: %w", errors.Join(errs...))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxMessageBytes, sending.MaxSizeV2)
	def(&c.MaxRecipients, sending.MaxRecipients)
	def(&c.MaxConns, DefaultMaxConns)
	def(&c.MaxAuthFailures, DefaultMaxAuthFailures)
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defd(&c.CommandTimeout, DefaultCommandTimeout)
	defd(&c.DataTimeout, DefaultDataTimeout)
	defd(&c.WriteTimeout, DefaultWriteTimeout)
	defd(&c.SendTimeout, DefaultSendTimeout)
	defd(&c.LookupTimeout, DefaultLookupTimeout)
	defd(&c.ShutdownGrace, DefaultShutdownGrace)
	return nil
}

// Server is the SMTP submission service: one go-smtp server behind any
// number of listeners.
type Server struct {
	cfg   Config
	log   *slog.Logger
	smtp  *smtp.Server
	conns *conntrack.Set

	// ctx bounds credential look-ups and sends; it ends only when Shutdown
	// gives up waiting, so messages in flight finish during the grace.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	listeners map[Mode]net.Listener
	closed    bool
	serving   sync.WaitGroup // Serve loops and refusal goroutines
	shutdown  sync.Once
	shutErr   error
}

// New validates cfg and returns a server with no listener yet.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	tlsCfg := cfg.TLS.Clone()
	if tlsCfg.MinVersion < tls.VersionTLS12 {
		tlsCfg.MinVersion = tls.VersionTLS12
	}
	cfg.TLS = tlsCfg
	s := &Server{cfg: cfg, log: cfg.Logger, conns: conntrack.NewSet(cfg.MaxConns), listeners: map[Mode]net.Listener{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Hostname
	srv.TLSConfig = tlsCfg
	srv.MaxMessageBytes = int64(cfg.MaxMessageBytes)
	// The recipient cap is the session's, for SES's reply text; go-smtp
	// would answer 452 and advertise LIMITS.
	srv.MaxRecipients = 0
	// AUTH is gated on TLS by the session, so that AUTH before STARTTLS
	// gets SES's 530 rather than go-smtp's 523; EHLO still shows no AUTH
	// before TLS because the session lists no mechanisms then.
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = false // SES does not support SMTPUTF8 (§3.1)
	srv.ReadTimeout = cfg.CommandTimeout
	srv.WriteTimeout = cfg.WriteTimeout
	srv.ErrorLog = errorLog{s.log}
	s.smtp = srv
	return s, nil
}

// newSession is go-smtp's backend: a session per EHLO, renewed after
// STARTTLS.
func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	tc, ok := conntrack.Of(c.Conn())
	if !ok {
		return nil, errTemporary // only listeners made by Listen reach here
	}
	log := s.log.With("remote", c.Conn().RemoteAddr().String(), "tls", tlsVersion(c))
	return &session{srv: s, smtp: c, conn: tc, log: log}, nil
}

// Listen binds addr (host:port; port 0 picks one) and serves mode there in
// the background. An empty addr or "off" serves nothing.
func (s *Server) Listen(mode Mode, addr string) error {
	if addr == "" || addr == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("SMTP %s listener: %w", mode, err)
	}
	return s.Serve(mode, ln)
}

// Serve serves mode on ln in the background; the server owns ln from now.
func (s *Server) Serve(mode Mode, ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ln.Close()
		return errors.New("submit: server closed")
	}
	if _, dup := s.listeners[mode]; dup {
		ln.Close()
		return fmt.Errorf("submit: a %s listener is already served", mode)
	}
	tl := &conntrack.Listener{Listener: ln, Set: s.conns, Refusing: make(chan struct{}, 16), WG: &s.serving}
	var served net.Listener = tl
	if mode == ImplicitTLS {
		tl.TLS = s.cfg.TLS
		served = tls.NewListener(tl, s.cfg.TLS)
	}
	s.listeners[mode] = ln
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := s.smtp.Serve(served); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("SMTP listener stopped", "mode", mode.String(), "err", err)
		}
	}()
	s.log.Debug("SMTP listening", "mode", mode.String(), "addr", ln.Addr().String())
	return nil
}

// Addr is the bound address of mode's listener, or "" when not served.
func (s *Server) Addr(mode Mode) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ln := s.listeners[mode]; ln != nil {
		return ln.Addr().String()
	}
	return ""
}

// Shutdown stops accepting, closes idle connections at once and the others
// as soon as their message is answered; when ctx ends first, it cancels the
// sends in flight and closes everything. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Do(func() {
		s.mu.Lock()
		s.closed = true
		for _, ln := range s.listeners {
			// Closed here too, not only by go-smtp: a Serve goroutine that
			// has not registered its listener yet must not block on it.
			ln.Close()
		}
		s.mu.Unlock()

		open := s.conns.Count()
		var forced bool
		forced, s.shutErr = s.conns.Drain(ctx, s.smtp, s.cancel)
		if forced {
			s.log.Warn("SMTP shutdown grace over: closed busy connections", "open", open)
		}
		s.cancel()
		s.serving.Wait()
		if errors.Is(s.shutErr, net.ErrClosed) {
			s.shutErr = nil
		}
	})
	return s.shutErr
}

// Close is Shutdown with the configured grace.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	return s.Shutdown(ctx)
}

func tlsVersion(c *smtp.Conn) string {
	st, ok := c.TLSConnectionState()
	if !ok {
		return "none"
	}
	return tls.VersionName(st.Version)
}

// errorLog takes go-smtp's log lines into slog: a client's failed
// handshake or broken connection is routine (debug), anything else is not.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Printf(format string, v ...any) { l.print(fmt.Sprintf(format, v...)) }
func (l errorLog) Println(v ...any)               { l.print(strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }

func (l errorLog) print(msg string) {
	switch {
	case strings.HasPrefix(msg, "error handling "):
		l.log.Debug("SMTP connection ended with an error", "detail", msg)
	case strings.HasPrefix(msg, "panic serving "):
		l.log.Error("SMTP session panicked", "detail", msg)
	default:
		l.log.Warn("SMTP server", "detail", msg)
	}
}
