// Package smtpload is the load generator's SMTP submission client, shaped
// as SES's SMTP interface is used (SES-BEHAVIOR §3): connect, EHLO,
// STARTTLS, AUTH PLAIN once, then many MAIL/RCPT/DATA transactions on the
// same session. The message is pre-built; each transaction sends it as is.
package smtpload

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Config is one session's settings.
type Config struct {
	Addr     string // host:port of the STARTTLS listener
	TLS      *tls.Config
	User     string // the access key id
	Password string // smtppass.V4(secret, region)
	From     string
	To       []string
	Data     []byte // the message, CRLF line ends
	Timeout  time.Duration
}

// Session is one authenticated SMTP session.
type Session struct {
	cfg Config
	c   *smtp.Client
}

// Dial connects, starts TLS and authenticates. The error's Code says at
// which step it failed.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, &Error{Step: "connect", Err: err}
	}
	// go-smtp reads the greeting under its own 5-minute CommandTimeout,
	// set before we can change it: bound the set-up by closing the
	// connection instead.
	var expired atomic.Bool
	timer := time.AfterFunc(cfg.Timeout, func() { expired.Store(true); conn.Close() })
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	fail := func(step string, err error) (*Session, error) {
		timer.Stop()
		conn.Close()
		if expired.Load() {
			err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
		}
		return nil, &Error{Step: step, Err: err}
	}
	c, err := smtp.NewClientStartTLS(conn, cfg.TLS)
	if err != nil {
		return fail("STARTTLS", err)
	}
	c.CommandTimeout, c.SubmissionTimeout = cfg.Timeout, cfg.Timeout
	if err := c.Auth(sasl.NewPlainClient("", cfg.User, cfg.Password)); err != nil {
		return fail("AUTH", err)
	}
	if !timer.Stop() {
		return fail("AUTH", errors.New("set-up timed out"))
	}
	return &Session{cfg: cfg, c: c}, nil
}

// Send runs one MAIL/RCPT/DATA transaction and returns the text of the
// final 250 reply (SES puts the MessageId there).
func (s *Session) Send() (string, error) {
	if err := s.c.Mail(s.cfg.From, nil); err != nil {
		return "", &Error{Step: "MAIL", Err: err}
	}
	for _, to := range s.cfg.To {
		if err := s.c.Rcpt(to, nil); err != nil {
			s.reset()
			return "", &Error{Step: "RCPT", Err: err}
		}
	}
	w, err := s.c.Data()
	if err != nil {
		s.reset()
		return "", &Error{Step: "DATA", Err: err}
	}
	if _, err := w.Write(s.cfg.Data); err != nil {
		w.Close()
		return "", &Error{Step: "DATA", Err: err}
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", &Error{Step: "end of DATA", Err: err}
	}
	return resp.StatusText, nil
}

// reset aborts a transaction after a refused command (RFC 5321 §4.1.1.5).
func (s *Session) reset() { _ = s.c.Reset() }

// Close ends the session with QUIT.
func (s *Session) Close() error {
	err := s.c.Quit()
	if err != nil {
		s.c.Close()
	}
	return err
}

// Error is a failed step.
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Code is a short name for the error table: the step and the SMTP reply
// code with its enhanced code ("RCPT 554 5.7.1"), or the step and the class
// of network error.
func (e *Error) Code() string {
	var se *smtp.SMTPError
	if errors.As(e.Err, &se) {
		code := e.Step + " " + strconv.Itoa(se.Code)
		if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
			code += fmt.Sprintf(" %d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		return code
	}
	return e.Step + ": " + NetClass(e.Err)
}

// Fatal reports whether the session cannot carry another transaction:
// anything but an SMTP reply (the server answered and the session goes on),
// or a 421 (the server is closing it).
func (e *Error) Fatal() bool {
	var se *smtp.SMTPError
	if errors.As(e.Err, &se) {
		return se.Code == 421
	}
	return true
}

// NetClass names a network error without its addresses, so equal failures
// count together.
func NetClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, net.ErrClosed):
		return "connection closed"
	}
	s := err.Error()
	for _, known := range []string{"connection refused", "connection reset", "broken pipe", "EOF", "tls:", "x509:"} {
		if strings.Contains(s, known) {
			return known
		}
	}
	return s
}
