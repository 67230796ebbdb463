package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-smtp"
)

// session is one SMTP connection to one server, from greeting to QUIT. It
// keeps everything a connection needs between transactions, so a later
// per-destination pool can hold sessions and call send more than once.
type session struct {
	to     Timeouts
	log    *slog.Logger
	peer   peer
	raw    net.Conn      // the TCP connection: deadlines and Close go here
	br     *bufio.Reader // reads raw until TLS starts
	client *smtp.Client
	broken bool        // the connection cannot carry another command
	stop   func() bool // unregisters the close-on-cancel hook
}

// open connects to ip and takes the session up to the point where MAIL can
// be sent: greeting, EHLO, and STARTTLS when offered or required. On failure
// the connection is closed and p names the server if it was reached.
func (t *Transport) open(ctx context.Context, log *slog.Logger, host, ip string, port int, requireTLS bool) (*session, *reply, peer) {
	to := t.Timeouts.withDefaults()
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	dctx, cancel := context.WithTimeout(ctx, to.Connect)
	raw, err := t.dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			r := interruption(ctx)
			return nil, &r, peer{}
		}
		r := local(Transient, "4.4.1", "connect to %s (%s): %v", host, addr, err) // 4.4.1: no answer from host
		return nil, &r, peer{}
	}
	s := &session{
		to:   to,
		log:  log,
		peer: peer{host: host, ip: ip},
		raw:  raw,
		br:   bufio.NewReader(raw),
	}
	// Cancelling ctx aborts whatever the session is blocked on.
	s.stop = context.AfterFunc(ctx, func() { _ = raw.Close() })

	fail := s.greet(ctx)
	if fail == nil {
		fail = s.hello(ctx, t.Hostname, t.tlsConfig(host, requireTLS), requireTLS)
	}
	if fail != nil {
		s.quit()
		s.close()
		return nil, fail, s.peer
	}
	return s, nil, s.peer
}

// greet reads the server's greeting (RFC 5321 §4.3.1) under its own
// deadline. Anything but 220 (a 554 refusal, a 421 "busy") makes the server
// unusable; the next MX is tried, as Postfix does by default.
func (s *session) greet(ctx context.Context) *reply {
	_ = s.raw.SetReadDeadline(time.Now().Add(s.to.Greeting))
	code, msg, err := readReply(s.br)
	_ = s.raw.SetReadDeadline(time.Time{})
	if err != nil {
		r := s.failure(ctx, "greeting", err, "4.4.2") // 4.4.2: bad connection
		return &r
	}
	if code != 220 {
		s.broken = true // RFC 5321 §3.1: after a refusal only QUIT is allowed; just hang up
		r := serverReply(code, msg)
		r.outcome = Transient
		return &r
	}
	s.log.Debug("smtp greeting", "text", msg)
	s.client = newClient(s.raw, s.br)
	return nil
}

// hello sends EHLO and, when the server offers STARTTLS, upgrades the
// connection and sends EHLO again. A message that requires TLS fails here
// when the server does not offer it.
func (s *session) hello(ctx context.Context, name string, tlsConfig *tls.Config, requireTLS bool) *reply {
	s.client.CommandTimeout = s.to.EHLO
	if err := s.client.Hello(name); err != nil {
		r := s.hostFailure(ctx, "EHLO", err, "4.4.2")
		return &r
	}
	if ok, _ := s.client.Extension("STARTTLS"); !ok {
		if requireTLS {
			r := local(Transient, "4.7.4", "TLS required but %s does not offer STARTTLS", s.peer.host) // 4.7.4: security features not supported
			return &r
		}
		return nil
	}
	return s.startTLS(ctx, name, tlsConfig, requireTLS)
}

// startTLS runs STARTTLS (RFC 3207). go-smtp's client has no method for it on
// a connection it did not dial, so the command and handshake are done here
// and a fresh client takes over the encrypted connection.
func (s *session) startTLS(ctx context.Context, name string, cfg *tls.Config, requireTLS bool) *reply {
	_ = s.raw.SetDeadline(time.Now().Add(s.to.StartTLS))
	defer func() { _ = s.raw.SetDeadline(time.Time{}) }()
	if _, err := io.WriteString(s.raw, "STARTTLS\r\n"); err != nil {
		r := s.failure(ctx, "STARTTLS", err, "4.4.2")
		return &r
	}
	code, msg, err := readReply(s.br)
	switch {
	case err != nil:
		r := s.failure(ctx, "STARTTLS", err, "4.4.2")
		return &r
	case code != 220 && !requireTLS:
		// RFC 3207 §4: the server declined (454); opportunistic TLS carries
		// on in plaintext, the session still in its post-EHLO state.
		s.log.Debug("STARTTLS declined; continuing in plaintext", "code", code, "text", msg)
		return nil
	case code != 220:
		r := serverReply(code, msg)
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
	if err := tc.HandshakeContext(ctx); err != nil {
		r := s.failure(ctx, "TLS handshake", err, "4.7.5") // 4.7.5: cryptographic failure
		return &r
	}
	s.peer.tls = true
	s.log.Debug("smtp TLS established", "version", tls.VersionName(tc.ConnectionState().Version))
	// RFC 3207 §4.2: the session starts over as if just greeted; EHLO again.
	s.client = newClient(tc, tc)
	s.client.CommandTimeout = s.to.EHLO
	if err := s.client.Hello(name); err != nil {
		r := s.hostFailure(ctx, "EHLO", err, "4.4.2")
		return &r
	}
	return nil
}

// send runs one mail transaction (RFC 5321 §3.3) and returns one reply per
// recipient, aligned with rcpts.
func (s *session) send(ctx context.Context, m Message, rcpts []string) []reply {
	out := make([]reply, len(rcpts))
	setAll := func(idx []int, r reply) {
		for _, i := range idx {
			out[i] = r
		}
	}
	every := make([]int, len(rcpts))
	for i := range every {
		every[i] = i
	}

	utf8 := needsUTF8(append([]string{m.From}, rcpts...)...)
	if ok, _ := s.client.Extension("SMTPUTF8"); utf8 && !ok {
		// RFC 6531 §3.2: without SMTPUTF8 the addresses cannot be sent.
		setAll(every, local(Permanent, "5.6.7", "%s does not support SMTPUTF8, needed for a non-ASCII address", s.peer.host))
		return out
	}
	s.client.CommandTimeout = s.to.Mail
	if err := s.client.Mail(m.From, &smtp.MailOptions{Size: int64(len(m.Data)), UTF8: utf8}); err != nil {
		setAll(every, s.failure(ctx, "MAIL", err, "4.4.2"))
		return out
	}

	var accepted []int
	for i, rcpt := range rcpts {
		s.client.CommandTimeout = s.to.Rcpt
		err := s.client.Rcpt(rcpt, nil)
		if err == nil {
			accepted = append(accepted, i)
			continue
		}
		out[i] = s.failure(ctx, "RCPT", err, "4.4.2")
		if s.broken {
			setAll(accepted, out[i])
			setAll(every[i+1:], out[i])
			return out
		}
	}
	if len(accepted) == 0 {
		return out
	}

	s.client.CommandTimeout = s.to.DataInit
	w, err := s.client.Data()
	if err != nil {
		setAll(accepted, s.failure(ctx, "DATA", err, "4.4.2"))
		return out
	}
	if err := s.writeBody(w, m.Data); err != nil {
		setAll(accepted, s.failure(ctx, "DATA", err, "4.4.2"))
		return out
	}
	s.client.SubmissionTimeout = s.to.DataEnd
	resp, err := w.CloseWithResponse()
	if err != nil {
		// A connection lost here may have delivered the message anyway
		// (RFC 1047); retrying risks a duplicate, not a loss.
		setAll(accepted, s.failure(ctx, "end of DATA", err, "4.4.2"))
		return out
	}
	setAll(accepted, serverReply(250, resp.StatusText))
	return out
}

// writeBody writes data in blocks, each under its own write deadline: RFC
// 5321 §4.5.3.2.5 bounds each send, not the whole message, so a large
// message on a slow link is not cut off while it makes progress.
func (s *session) writeBody(w io.Writer, data []byte) error {
	const block = 64 << 10
	for len(data) > 0 {
		n := min(block, len(data))
		_ = s.raw.SetWriteDeadline(time.Now().Add(s.to.DataBlock))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	// The final buffered bytes and "." are flushed by CloseWithResponse.
	_ = s.raw.SetWriteDeadline(time.Now().Add(s.to.DataBlock))
	return nil
}

// failure turns an error from a command into the reply for the recipients
// it concerns: the server's reply when there is one, else a Transient
// failure with enh (the session is then unusable).
func (s *session) failure(ctx context.Context, stage string, err error, enh string) reply {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		if se.Code == 421 { // RFC 5321 §3.8: the server is closing the session
			s.broken = true
		}
		return errorReply(se)
	}
	s.broken = true
	if ctx.Err() != nil {
		return interruption(ctx)
	}
	return local(Transient, enh, "%s with %s: %v", stage, s.peer.host, err)
}

// hostFailure is failure for a stage before MAIL: whatever the server said,
// the host is unusable and the outcome is Transient.
func (s *session) hostFailure(ctx context.Context, stage string, err error, enh string) reply {
	r := s.failure(ctx, stage, err, enh)
	r.outcome = Transient
	return r
}

// quit says goodbye politely when the connection can still carry it.
func (s *session) quit() {
	if s.broken || s.client == nil {
		return
	}
	s.client.CommandTimeout = s.to.Quit
	_ = s.client.Quit()
}

func (s *session) close() {
	s.stop()
	_ = s.raw.Close()
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
