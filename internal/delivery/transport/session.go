package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// session is one SMTP connection to one server, from greeting to QUIT. It
// outlives the attempt that opened it: between transactions it waits in the
// Transport's cache (pool.go) for the next message to the same server.
//
// A session is used by one goroutine at a time: the attempt that took it
// from the cache, or the cache itself while it is idle.
type session struct {
	key  destKey
	to   Timeouts
	log  *slog.Logger
	peer peer
	// verified: the server's certificate was verified for peer.host (the
	// session was opened for a RequireTLS message with VerifyRequiredTLS).
	verified bool

	raw  net.Conn      // the TCP connection: Close goes here
	conn net.Conn      // raw, or the TLS connection over it: commands go here
	br   *bufio.Reader // replies, read from conn
	bw   *bufio.Writer // commands, written to conn

	ext     map[string]string // EHLO keywords, upper-case, with their parameters; nil after HELO
	greeted bool              // the server said 220: QUIT is in order
	broken  bool              // the connection cannot carry another command
	dirty   bool              // a transaction started and did not end with the reply to the final "."
	used    int               // transactions started

	stop  func() bool // unregisters the current attempt's close-on-cancel hook
	timer *time.Timer // expires the session while it is idle; guarded by pool.mu
}

// destKey names the server a session talks to. The host name is part of it,
// not only the address: it is the TLS server name a certificate was checked
// against and the RemoteMTA that results report.
type destKey struct {
	host string
	ip   string
	port int
}

// addr is the server's "ip:port", the unit of the per-host concurrency cap.
func (k destKey) addr() string { return net.JoinHostPort(k.ip, strconv.Itoa(k.port)) }

// open connects to k and takes the session up to the point where MAIL can
// be sent: greeting, EHLO, and STARTTLS when offered or required. On failure
// the connection is closed and p names the server if it was reached. The
// session is bound to ctx (see bind).
func (t *Transport) open(ctx context.Context, log *slog.Logger, k destKey, requireTLS bool) (*session, *reply, peer) {
	to := t.Timeouts.withDefaults()
	addr := k.addr()
	dctx, cancel := context.WithTimeout(ctx, to.Connect)
	raw, err := t.dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			r := interruption(ctx)
			return nil, &r, peer{}
		}
		r := local(Transient, "4.4.1", "connect to %s (%s): %v", k.host, addr, err) // 4.4.1: no answer from host
		return nil, &r, peer{}
	}
	s := &session{
		key:  k,
		to:   to,
		peer: peer{host: k.host, ip: k.ip},
		raw:  raw,
		conn: raw,
		br:   bufio.NewReader(raw),
		bw:   bufio.NewWriter(raw),
	}
	s.bind(ctx, log)

	fail := s.greet(ctx)
	if fail == nil {
		fail = s.hello(ctx, t.Hostname)
	}
	if fail == nil {
		fail = s.secure(ctx, t.Hostname, t.tlsConfig(k.host, requireTLS), requireTLS)
	}
	if fail != nil {
		s.quit()
		s.close()
		return nil, fail, s.peer
	}
	s.verified = s.peer.tls && requireTLS && t.VerifyRequiredTLS
	return s, nil, s.peer
}

// bind makes cancelling ctx abort whatever the session is blocked on, for
// the attempt that uses it now, and logs to log.
func (s *session) bind(ctx context.Context, log *slog.Logger) {
	s.log = log
	s.stop = context.AfterFunc(ctx, func() { _ = s.raw.Close() })
}

// unbind ends bind; false means ctx ended first and closed the connection.
func (s *session) unbind() bool {
	ok := s.stop()
	s.stop = func() bool { return false }
	if !ok {
		s.broken = true
	}
	return ok
}

// greet reads the server's greeting (RFC 5321 §4.3.1) under its own
// deadline. Anything but 220 (a 554 refusal, a 421 "busy") makes the server
// unusable; the next MX is tried, as Postfix does by default.
func (s *session) greet(ctx context.Context) *reply {
	code, msg, err := s.read(s.to.Greeting)
	if err != nil {
		r := s.lost(ctx, "greeting", err, "4.4.2") // 4.4.2: bad connection
		return &r
	}
	if code != 220 {
		s.broken = true // RFC 5321 §3.1: after a refusal only QUIT is allowed; just hang up
		r := serverReply(code, msg)
		r.outcome = Transient
		return &r
	}
	s.greeted = true
	s.log.Debug("smtp greeting", "text", msg)
	return nil
}

// hello sends EHLO and records the extensions the server offers (RFC 5321
// §4.1.1.1). A server that does not know EHLO (500, 502) gets HELO and is
// taken to offer none. Whatever the server says otherwise, it is unusable
// and the outcome is Transient.
func (s *session) hello(ctx context.Context, name string) *reply {
	code, msg, err := s.cmd("EHLO "+name, s.to.EHLO)
	if err == nil && (code == 500 || code == 502) {
		s.ext = nil
		code, msg, err = s.cmd("HELO "+name, s.to.EHLO)
		if err == nil && code == 250 {
			return nil
		}
	}
	switch {
	case err != nil:
		r := s.lost(ctx, "EHLO", err, "4.4.2")
		return &r
	case code != 250:
		r := s.answer(code, msg)
		r.outcome = Transient
		return &r
	}
	s.ext = map[string]string{}
	for _, line := range strings.Split(msg, "\n")[1:] { // the first line is the server's name
		kw, param, _ := strings.Cut(line, " ")
		s.ext[strings.ToUpper(kw)] = param
	}
	return nil
}

// offers reports whether the server announced the EHLO keyword kw.
func (s *session) offers(kw string) bool {
	_, ok := s.ext[kw]
	return ok
}

// secure runs STARTTLS (RFC 3207) when the server offers it. A message that
// requires TLS fails here when the server does not offer it or declines.
func (s *session) secure(ctx context.Context, name string, cfg *tls.Config, requireTLS bool) *reply {
	if !s.offers("STARTTLS") {
		if requireTLS {
			r := local(Transient, "4.7.4", "TLS required but %s does not offer STARTTLS", s.peer.host) // 4.7.4: security features not supported
			return &r
		}
		return nil
	}
	code, msg, err := s.cmd("STARTTLS", s.to.StartTLS)
	switch {
	case err != nil:
		r := s.lost(ctx, "STARTTLS", err, "4.4.2")
		return &r
	case code != 220 && !requireTLS:
		// RFC 3207 §4: the server declined (454); opportunistic TLS carries
		// on in plaintext, the session still in its post-EHLO state.
		s.log.Debug("STARTTLS declined; continuing in plaintext", "code", code, "text", msg)
		return nil
	case code != 220:
		r := s.answer(code, msg)
		r.outcome, r.text = Transient, "TLS required but STARTTLS failed: "+r.text
		return &r
	case s.br.Buffered() > 0:
		// RFC 3207 §5: anything the server sent ahead of the handshake
		// would be read as if it came over TLS (the STARTTLS injection of
		// CVE-2011-0411); refuse the server.
		s.broken = true
		r := local(Transient, "4.7.5", "%s sent data ahead of the TLS handshake", s.peer.host)
		return &r
	}
	tc := tls.Client(s.raw, cfg)
	_ = s.raw.SetDeadline(time.Now().Add(s.to.StartTLS))
	err = tc.HandshakeContext(ctx)
	_ = s.raw.SetDeadline(time.Time{})
	if err != nil {
		r := s.lost(ctx, "TLS handshake", err, "4.7.5") // 4.7.5: cryptographic failure
		return &r
	}
	s.peer.tls = true
	s.log.Debug("smtp TLS established", "version", tls.VersionName(tc.ConnectionState().Version))
	s.conn = tc
	s.br.Reset(tc)
	s.bw.Reset(tc)
	// RFC 3207 §4.2: the session starts over as if just greeted; EHLO again.
	return s.hello(ctx, name)
}

// cmd sends one command and reads its reply, each under timeout.
func (s *session) cmd(line string, timeout time.Duration) (code int, msg string, err error) {
	if err := s.write(timeout, line); err != nil {
		return 0, "", err
	}
	return s.read(timeout)
}

// write sends lines, each followed by CRLF, in one write under timeout.
// With PIPELINING, a whole group of commands goes in one write (RFC 2920
// §3.1).
func (s *session) write(timeout time.Duration, lines ...string) error {
	for _, l := range lines {
		_, _ = s.bw.WriteString(l)
		_, _ = s.bw.WriteString("\r\n")
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(timeout))
	return s.bw.Flush()
}

// read reads one reply under timeout, the deadline of its stage (RFC 5321
// §4.5.3.2).
func (s *session) read(timeout time.Duration) (code int, msg string, err error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(timeout))
	return readReply(s.br)
}

// answer turns a server reply into a reply. A 421 means the server is
// closing the session (RFC 5321 §3.8): it can carry nothing more.
func (s *session) answer(code int, msg string) reply {
	if code == 421 {
		s.broken = true
	}
	return serverReply(code, msg)
}

// lost is the reply for a command that got no answer: the connection failed
// (or ctx ended and closed it), so the session is unusable and the outcome
// is Transient with enh.
func (s *session) lost(ctx context.Context, stage string, err error, enh string) reply {
	s.broken = true
	if ctx.Err() != nil {
		return interruption(ctx)
	}
	return local(Transient, enh, "%s with %s: %v", stage, s.peer.host, err)
}

// quit says goodbye politely (RFC 5321 §4.1.1.10) when the connection can
// still carry it. The reply changes nothing: the outcome is already known.
func (s *session) quit() {
	if s.broken || !s.greeted {
		return
	}
	_, _, _ = s.cmd("QUIT", s.to.Quit)
	s.broken = true
}

// close closes the connection, ending any bind.
func (s *session) close() {
	s.stop()
	_ = s.raw.Close()
	s.broken = true
}

// tlsConfig is the STARTTLS configuration for host. Certificates are
// verified only when the message requires TLS and VerifyRequiredTLS is set:
// opportunistic TLS (RFC 7435) takes any certificate, since the alternative
// is plaintext.
func (t *Transport) tlsConfig(host string, requireTLS bool) *tls.Config {
	cfg := &tls.Config{}
	if t.TLSConfig != nil {
		cfg = t.TLSConfig.Clone()
	}
	cfg.ServerName = host
	cfg.InsecureSkipVerify = !(requireTLS && t.VerifyRequiredTLS)
	return cfg
}
