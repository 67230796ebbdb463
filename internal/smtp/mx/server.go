// Package mx is Sesame's inbound MX for feedback: the SMTP server remote
// MTAs reach when they report on mail Sesame sent. Like SES's
// feedback-smtp endpoint, it accepts mail only for the addresses Sesame
// issued — the VERP envelope sender of every message,
// <MessageId>@<bounce domain> (SES-BEHAVIOR §4.3), the bounce domain being
// Sesame's host name or the sending identity's custom MAIL FROM domain
// (§5.5), and the feedback address complaints@<host name> — and refuses
// everything else with SES's "550 5.1.1 Recipient address rejected: Access
// denied" (§13): it is no open relay. A delivery status notification (RFC
// 3464) becomes a Bounce for the failed recipients, a feedback report (RFC
// 5965) a Complaint (§8.3), both written by the queue with the suppression
// they cause; anything else (an auto-reply, a human answer) is accepted
// and dropped, since SES's forwarding of it is out of scope. The null
// reverse-path, which DSNs carry, is accepted. STARTTLS is offered, AUTH
// is not: remote MTAs do not authenticate. The protocol is go-smtp's.
package mx

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

	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/queue"
)

// Messages reads the envelopes of the messages Sesame accepted;
// queue.Queue is one. An unknown id is queue.ErrNoMessage.
type Messages interface {
	Envelope(ctx context.Context, id string) (*queue.Envelope, error)
}

// Identities finds the verified identity a sender address falls under,
// for its custom MAIL FROM domain; identity.Service is one.
type Identities interface {
	Covering(ctx context.Context, account, addr string) (*identity.Identity, error)
}

// Recorder writes bounces and complaints with their events and the
// suppression-list entries they cause; queue.Queue is one.
type Recorder interface {
	RecordBounce(ctx context.Context, msgID string, b queue.AsyncBounce) error
	RecordComplaint(ctx context.Context, msgID string, rcpts []string, feedbackType, userAgent string, arrival time.Time) error
}

// FeedbackLocalPart is the local part of the address, at Sesame's host
// name, that takes feedback reports not sent to a VERP address.
const FeedbackLocalPart = "complaints"

// Defaults of Config. SES's feedback endpoint takes 10 MB (the API's
// message size); the timeouts are RFC 5321 §4.5.3.2's spirit, shortened.
const (
	DefaultMaxMessageBytes = 10 << 20
	DefaultMaxRecipients   = 100
	DefaultMaxRejects      = 10
	DefaultMaxConns        = 200
	DefaultCommandTimeout  = 5 * time.Minute
	DefaultDataTimeout     = 10 * time.Minute
	DefaultWriteTimeout    = time.Minute
	DefaultProcessTimeout  = time.Minute
	DefaultShutdownGrace   = 10 * time.Second
)

// Config is what the server needs. Zero limits take the defaults.
type Config struct {
	// Hostname is Sesame's host name: the greeting, the default bounce
	// domain of envelope senders, and the feedback address's domain.
	Hostname string
	// TLS is offered with STARTTLS; nil offers none. TLS 1.2 at least.
	TLS        *tls.Config
	Messages   Messages
	Identities Identities
	Recorder   Recorder
	Logger     *slog.Logger

	MaxMessageBytes int // advertised as SIZE
	MaxRecipients   int // RCPT TO per transaction
	MaxRejects      int // refused RCPT TO per connection before hanging up
	MaxConns        int // open connections

	CommandTimeout time.Duration // idle wait for a command
	DataTimeout    time.Duration // idle wait inside DATA
	WriteTimeout   time.Duration
	ProcessTimeout time.Duration // to look up and record what a message reports
	ShutdownGrace  time.Duration // Close waits this long for messages in flight
}

func (c *Config) defaults() error {
	var errs []error
	if c.Hostname == "" {
		errs = append(errs, errors.New("no host name"))
	}
	if c.Messages == nil || c.Identities == nil || c.Recorder == nil {
		errs = append(errs, errors.New("no message lookup, identity lookup or recorder"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("mx: %w", errors.Join(errs...))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	def(&c.MaxRecipients, DefaultMaxRecipients)
	def(&c.MaxRejects, DefaultMaxRejects)
	def(&c.MaxConns, DefaultMaxConns)
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defd(&c.CommandTimeout, DefaultCommandTimeout)
	defd(&c.DataTimeout, DefaultDataTimeout)
	defd(&c.WriteTimeout, DefaultWriteTimeout)
	defd(&c.ProcessTimeout, DefaultProcessTimeout)
	defd(&c.ShutdownGrace, DefaultShutdownGrace)
	return nil
}

// Server is the inbound MX: one go-smtp server on one listener.
type Server struct {
	cfg   Config
	log   *slog.Logger
	smtp  *smtp.Server
	conns *conntrack.Set

	// ctx bounds look-ups and recording; it ends only when Shutdown gives
	// up waiting, so messages in flight finish during the grace.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	ln       net.Listener
	closed   bool
	serving  sync.WaitGroup
	shutdown sync.Once
	shutErr  error
}

// New validates cfg and returns a server with no listener yet.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone()
		if cfg.TLS.MinVersion < tls.VersionTLS12 {
			cfg.TLS.MinVersion = tls.VersionTLS12
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: conntrack.NewSet(cfg.MaxConns)}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Hostname
	srv.TLSConfig = cfg.TLS // nil: no STARTTLS
	srv.MaxMessageBytes = int64(cfg.MaxMessageBytes)
	srv.MaxRecipients = cfg.MaxRecipients
	srv.EnableSMTPUTF8 = false
	srv.ReadTimeout = cfg.CommandTimeout
	srv.WriteTimeout = cfg.WriteTimeout
	srv.ErrorLog = errorLog{s.log}
	s.smtp = srv
	return s, nil
}

// FeedbackAddress is the address that takes feedback reports.
func (s *Server) FeedbackAddress() string { return FeedbackLocalPart + "@" + s.cfg.Hostname }

// newSession is go-smtp's backend: a session per EHLO, renewed after
// STARTTLS.
func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	tc, ok := conntrack.Of(c.Conn())
	if !ok {
		return nil, errTemporary // only the listener made by Serve reaches here
	}
	log := s.log.With("remote", c.Conn().RemoteAddr().String(), "helo", c.Hostname())
	return &session{srv: s, smtp: c, conn: tc, log: log}, nil
}

// Listen binds addr and serves there in the background. An empty addr or
// "off" serves nothing.
func (s *Server) Listen(addr string) error {
	if addr == "" || addr == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("MX listener: %w", err)
	}
	return s.Serve(ln)
}

// Serve serves on ln in the background; the server owns ln from now.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		ln.Close()
		return errors.New("mx: server closed")
	case s.ln != nil:
		ln.Close()
		return errors.New("mx: already serving")
	}
	s.ln = ln
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := s.smtp.Serve(&conntrack.Listener{Listener: ln, Set: s.conns}); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("MX listener stopped", "err", err)
		}
	}()
	s.log.Debug("MX listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the bound address, or "" when not serving.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting, closes idle connections at once and the others
// as soon as their message is answered; when ctx ends first, it cancels
// the work in flight and closes everything. It is safe to call more than
// once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Do(func() {
		s.mu.Lock()
		s.closed = true
		if s.ln != nil {
			s.ln.Close() // here too: Serve's goroutine may not have handed it to go-smtp yet
		}
		s.mu.Unlock()

		open := s.conns.Count()
		var forced bool
		forced, s.shutErr = s.conns.Drain(ctx, s.smtp, s.cancel)
		if forced {
			s.log.Warn("MX shutdown grace over: closed busy connections", "open", open)
		}
		s.cancel()
		s.serving.Wait()
		if errors.Is(s.shutErr, net.ErrClosed) || errors.Is(s.shutErr, smtp.ErrServerClosed) {
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

// errorLog takes go-smtp's log lines into slog: a client's failed
// handshake or broken connection is routine (debug), anything else is not.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Printf(format string, v ...any) { l.print(fmt.Sprintf(format, v...)) }
func (l errorLog) Println(v ...any)               { l.print(strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }

func (l errorLog) print(msg string) {
	switch {
	case strings.HasPrefix(msg, "error handling "):
		l.log.Debug("MX connection ended with an error", "detail", msg)
	case strings.HasPrefix(msg, "panic serving "):
		l.log.Error("MX session panicked", "detail", msg)
	default:
		l.log.Warn("MX server", "detail", msg)
	}
}
