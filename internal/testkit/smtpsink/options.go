package smtpsink

import (
	"crypto/tls"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Stages a Script is consulted at, with the argument it receives.
const (
	StageConnect = "CONNECT" // arg: the client's address; an error replaces the 220 greeting and the sink hangs up
	StageHelo    = "HELO"    // arg: the EHLO/HELO name
	StageMail    = "MAIL"    // arg: the MAIL FROM address
	StageRcpt    = "RCPT"    // arg: the RCPT TO address
	StageData    = "DATA"    // arg: the whole message; an error becomes the reply to the final "."
)

// Script decides the sink's answer at a stage: nil accepts, an error is sent
// as the reply (e.g. &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}).
// It is called from connection goroutines, possibly concurrently.
type Script func(stage, arg string) *smtp.SMTPError

// Option configures a Sink.
type Option func(*config)

type config struct {
	domain      string
	cert        *tls.Certificate
	script      Script
	neverAnswer bool
	maxBytes    int64
	ioTimeout   time.Duration
	addr        string
}

// WithAddr listens on addr instead of 127.0.0.1:0: another loopback address
// (127.0.0.2:port) lets several sinks share the port that delivery to MX
// hosts uses, or a test may start a sink where delivery failed before.
func WithAddr(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// WithTLS makes the sink offer STARTTLS with cert (see package certs).
func WithTLS(cert tls.Certificate) Option {
	return func(c *config) { c.cert = &cert }
}

// WithScript installs s; the last WithScript wins.
func WithScript(s Script) Option {
	return func(c *config) { c.script = s }
}

// WithNeverAnswer makes the sink accept TCP connections and then stay silent:
// no greeting, no reply, until the sink is closed. For timeout tests.
func WithNeverAnswer() Option {
	return func(c *config) { c.neverAnswer = true }
}

// WithMaxMessageBytes advertises SIZE n and rejects larger messages with
// 552 5.3.4.
func WithMaxMessageBytes(n int64) Option {
	return func(c *config) { c.maxBytes = n }
}

// WithDomain sets the name in the sink's greeting (default "sink.test").
func WithDomain(name string) Option {
	return func(c *config) { c.domain = name }
}

// FailFirst is a Script that answers the first n commands at stage with err
// and accepts everything after, e.g. FailFirst(StageData, 1, tempFail) to
// test a retry. It is safe for concurrent use.
func FailFirst(stage string, n int, err *smtp.SMTPError) Script {
	var mu sync.Mutex
	left := n
	return func(st, _ string) *smtp.SMTPError {
		if st != stage {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if left <= 0 {
			return nil
		}
		left--
		return err
	}
}

// RejectRcpt is a Script that answers RCPT TO for the listed addresses with
// err and accepts everything else.
func RejectRcpt(err *smtp.SMTPError, addrs ...string) Script {
	set := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		set[a] = true
	}
	return func(stage, arg string) *smtp.SMTPError {
		if stage == StageRcpt && set[arg] {
			return err
		}
		return nil
	}
}
