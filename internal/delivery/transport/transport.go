// Package transport delivers one queued message over SMTP: to a relay
// (smarthost) or to each recipient domain's mail exchangers (RFC 5321 §5.1),
// with opportunistic or required STARTTLS (RFC 3207), every stage of the
// conversation bounded by its own timeout (RFC 5321 §4.5.3.2), and one
// outcome per recipient — delivered, transient (the queue retries) or
// permanent (the queue bounces) — carrying the remote reply that becomes the
// bounce's diagnosticCode (SES-BEHAVIOR.md §8.3).
//
// Like an MTA, it keeps SMTP sessions open between messages: a session that
// ends a transaction in good order waits, idle, for the next message to the
// same server, and transactions are pipelined where the server offers it
// (RFC 2920). How many sessions may be in use at once to one server is
// capped, and an attempt waits its turn without holding up other servers.
//
// The package knows nothing of the queue, DKIM or events: it is handed the
// envelope and the final bytes, and reports what the remote servers said.
package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Resolver is the DNS this package needs; internal/dns satisfies it.
//
// Errors are classified by Transport.IsNotFound and Transport.IsNullMX; any
// other error is a temporary failure (the message is retried), whether or not
// it says so with a Temporary() bool method.
type Resolver interface {
	// LookupMX returns the MX records of domain. A domain without MX
	// records may answer with an empty list or a not-found error.
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
	// LookupIP returns the A and AAAA addresses of host.
	LookupIP(ctx context.Context, host string) ([]net.IP, error)
}

// Sentinels recognised by the default classifiers. A Resolver may wrap them.
var (
	// ErrNotFound: the name does not exist (NXDOMAIN) or has no record of
	// the type asked (NODATA).
	ErrNotFound = errors.New("transport: DNS name not found")
	// ErrNullMX: the domain publishes the RFC 7505 null MX.
	ErrNullMX = errors.New("transport: domain publishes a null MX")
)

// Transport delivers messages. The zero value is not usable: Hostname and a
// Resolver (or a Relay given as an IP address) are required. A Transport is
// safe for concurrent use; its fields must not change once it is in use.
//
// A Transport holds a cache of open SMTP sessions between calls: a session
// is kept per server (host name, IP address and port) once a transaction on
// it ends in good order, and the next message to that server is sent on it,
// saving the connection, greeting, EHLO and TLS handshake. Close quits them.
type Transport struct {
	Resolver Resolver
	// Relay, as "host:port", sends every message there in one transaction
	// instead of to the recipients' MX hosts (a smarthost).
	Relay string
	// Port is the port of MX hosts; 0 means 25.
	Port int
	// Hostname is the name given in EHLO (RFC 5321 §4.1.1.1). Required.
	Hostname string
	// TLSConfig is the base configuration for STARTTLS; ServerName is set
	// per host. Certificates are not verified (opportunistic TLS, RFC 7435)
	// unless the message requires TLS and VerifyRequiredTLS is set.
	TLSConfig *tls.Config
	// VerifyRequiredTLS makes a message with RequireTLS also demand a server
	// certificate that verifies for the host name. Off by default: SES's
	// TlsPolicy Require asks for encryption, not authentication.
	VerifyRequiredTLS bool
	// Dial opens TCP connections; nil means a net.Dialer. It is called with a
	// context bounded by Timeouts.Connect.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeouts bound each stage of a session; zero fields take defaults.
	Timeouts Timeouts
	// IsNotFound reports a definitive "no such name / no such record" DNS
	// answer. nil means errors.Is(err, ErrNotFound) or a *net.DNSError with
	// IsNotFound set.
	IsNotFound func(error) bool
	// IsNullMX reports a resolver error meaning the domain published a null
	// MX. nil means errors.Is(err, ErrNullMX). A resolver may instead return
	// the single record "MX 0 .", which is always recognised.
	IsNullMX func(error) bool
	// Logger receives a debug-level trace of each attempt; nil discards.
	Logger *slog.Logger

	// MaxPerHost caps the sessions in use at once to one server address
	// (IP and port); an attempt beyond it waits for a session to come free.
	// Idle sessions are closed as needed so that the server never sees more
	// connections than this. 0 means 20, Postfix's
	// default_destination_concurrency_limit.
	MaxPerHost int
	// MaxIdlePerHost caps the idle sessions kept per server address; 0 (or
	// more than MaxPerHost) means MaxPerHost.
	MaxIdlePerHost int
	// IdleTimeout is how long a session is kept idle before it is quit and
	// closed; 0 means 30s. (Postfix keeps one for 2s; a longer time keeps
	// sessions across the bursts of a sending application.)
	IdleTimeout time.Duration
	// MaxSessionMessages is the number of transactions after which a
	// session is quit rather than kept; 0 means 100.
	MaxSessionMessages int

	// shuffle randomises MX hosts of equal preference; nil means
	// math/rand/v2. Tests set it for a fixed order.
	shuffle func(n int, swap func(i, j int))

	poolOnce sync.Once
	pool     *pool // the session cache, made on first use
}

// Close quits and closes every idle session and stops keeping new ones. It
// does not wait for deliveries in progress: their sessions are closed when
// they end. Deliver may still be called after Close; each of its sessions is
// then closed after its transaction.
func (t *Transport) Close() error {
	t.sessions().close()
	return nil
}

// Timeouts bound the stages of an SMTP session. The defaults are RFC 5321
// §4.5.3.2's where it gives one; the others are Postfix's (connect) or ours.
type Timeouts struct {
	Connect   time.Duration // TCP connect, per address: 30s
	Greeting  time.Duration // the 220 greeting (§4.5.3.2.1): 5m
	EHLO      time.Duration // the EHLO/HELO reply: 5m
	StartTLS  time.Duration // the STARTTLS reply and the TLS handshake: 2m
	Mail      time.Duration // MAIL reply (§4.5.3.2.2): 5m
	Rcpt      time.Duration // each RCPT reply (§4.5.3.2.3): 5m
	DataInit  time.Duration // the 354 reply to DATA (§4.5.3.2.4): 2m
	DataBlock time.Duration // each block of the message written (§4.5.3.2.5): 3m
	DataEnd   time.Duration // the reply to the final "." (§4.5.3.2.6): 10m
	Rset      time.Duration // the RSET reply before a session is reused: 20s (Postfix's smtp_rset_timeout)
	Quit      time.Duration // the QUIT reply: 10s, the outcome is already known
}

func (to Timeouts) withDefaults() Timeouts {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&to.Connect, 30*time.Second)
	set(&to.Greeting, 5*time.Minute)
	set(&to.EHLO, 5*time.Minute)
	set(&to.StartTLS, 2*time.Minute)
	set(&to.Mail, 5*time.Minute)
	set(&to.Rcpt, 5*time.Minute)
	set(&to.DataInit, 2*time.Minute)
	set(&to.DataBlock, 3*time.Minute)
	set(&to.DataEnd, 10*time.Minute)
	set(&to.Rset, 20*time.Second)
	set(&to.Quit, 10*time.Second)
	return to
}

// Message is one message to deliver.
type Message struct {
	// From is the envelope sender (MAIL FROM); "" is the null sender.
	From string
	// To are the envelope recipients, in any number of domains.
	To []string
	// Data is the message as it must arrive (DKIM-signed), with CRLF line
	// endings and a final CRLF; it is dot-stuffed on the wire and received
	// byte for byte. (A bare LF would go out as CRLF, and a missing final
	// CRLF would be added, breaking a signature over the body.)
	Data []byte
	// RequireTLS forbids plaintext: a server that does not offer STARTTLS,
	// or whose handshake fails, gets nothing (SES TlsPolicy REQUIRE).
	RequireTLS bool
}

// Outcome is what became of one recipient.
type Outcome int

const (
	// Delivered: the server took responsibility (250 to the final ".").
	Delivered Outcome = iota + 1
	// Transient: not delivered this time; retry later.
	Transient
	// Permanent: will never be delivered; bounce.
	Permanent
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "Delivered"
	case Transient:
		return "Transient"
	case Permanent:
		return "Permanent"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is the outcome for one recipient.
type Result struct {
	Rcpt    string
	Outcome Outcome
	// Code is the SMTP reply code the outcome rests on; 0 when there is none
	// (DNS, connection or TLS failure), except 556 for a null MX (RFC 7505
	// §4.2).
	Code int
	// Enhanced is the enhanced status code (RFC 3463), e.g. "5.1.1": the
	// server's when it gave one, else ours for failures found locally
	// (5.1.2 no such domain, 4.4.1 no answer, 4.7.4 TLS unavailable, …).
	Enhanced string
	// Text is the server's whole reply, lines joined by spaces, e.g.
	// "550 5.1.1 No such user" or "250 2.0.0 Ok: queued as X" — the part of
	// a diagnosticCode after "smtp; ". For local failures it describes the
	// failure, without codes.
	Text string
	// RemoteMTA and RemoteIP name the server that gave the outcome, empty
	// when none was reached.
	RemoteMTA string
	RemoteIP  string
	// TLS reports that the session with RemoteMTA was encrypted.
	TLS bool
}

// Deliver sends m and returns one Result per recipient, in the order of m.To.
// Recipients of one domain share one transaction (all of them, with a relay);
// domains are delivered one after another. Each transaction runs on a cached
// session to the server when one fits, else on a new one.
//
// The error is non-nil in two cases: m or the Transport is unusable (results
// are nil, nothing was sent), or ctx ended while some recipient was still
// Transient (results are complete all the same: the ones already delivered
// must be recorded as delivered).
func (t *Transport) Deliver(ctx context.Context, m Message) ([]Result, error) {
	if err := t.check(m); err != nil {
		return nil, err
	}
	results := make([]Result, len(m.To))
	for _, g := range t.plan(m.To, results) {
		if ctx.Err() != nil {
			g.fill(results, same(g.rcpts, interruption(ctx).result(peer{})))
			continue
		}
		t.deliverGroup(ctx, m, g, results)
	}
	if ctx.Err() != nil && slices.ContainsFunc(results, func(r Result) bool { return r.Outcome == Transient }) {
		return results, fmt.Errorf("transport: delivery interrupted: %w", context.Cause(ctx))
	}
	return results, nil
}

// check rejects what no server could be asked to accept.
func (t *Transport) check(m Message) error {
	switch {
	case t.Hostname == "" || strings.ContainsAny(t.Hostname, " \r\n\x00"):
		return fmt.Errorf("transport: invalid Hostname %q", t.Hostname)
	case len(m.To) == 0:
		return errors.New("transport: message has no recipients")
	case len(m.Data) == 0:
		return errors.New("transport: message is empty")
	case m.From != "" && !validAddress(m.From):
		return fmt.Errorf("transport: invalid envelope sender %q", m.From)
	}
	if t.Relay != "" {
		host, port, err := net.SplitHostPort(t.Relay)
		if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
			return fmt.Errorf("transport: invalid Relay %q: want host:port", t.Relay)
		}
		if t.Resolver == nil && net.ParseIP(host) == nil {
			return errors.New("transport: Relay is a host name and there is no Resolver")
		}
		return nil
	}
	if t.Resolver == nil {
		return errors.New("transport: no Resolver and no Relay")
	}
	return nil
}

func (t *Transport) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (t *Transport) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if t.Dial != nil {
		return t.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (t *Transport) port() int {
	if t.Port > 0 {
		return t.Port
	}
	return 25
}

func (t *Transport) shuffleFunc() func(n int, swap func(i, j int)) {
	if t.shuffle != nil {
		return t.shuffle
	}
	return rand.Shuffle
}

func (t *Transport) notFound(err error) bool {
	if t.IsNotFound != nil {
		return t.IsNotFound(err)
	}
	var de *net.DNSError
	return errors.Is(err, ErrNotFound) || (errors.As(err, &de) && de.IsNotFound)
}

func (t *Transport) nullMX(err error) bool {
	if t.IsNullMX != nil {
		return t.IsNullMX(err)
	}
	return errors.Is(err, ErrNullMX)
}

// temporary reports an error that says it is temporary (net.Error style),
// checked before the not-found classifiers so a resolver's timeout is never
// taken for a definitive answer.
func temporary(err error) bool {
	var te interface{ Temporary() bool }
	return errors.As(err, &te) && te.Temporary()
}
