package mx

import (
	"context"
	"errors"
	"github.com/sesamehq/sesame/internal/smtp/conntrack"
	"io"
	"log/slog"
	"net"

	"github.com/emersion/go-smtp"
)

// session is one remote MTA's SMTP session: go-smtp makes one at EHLO and a
// new one after STARTTLS. Its methods run on the connection's goroutine
// (Data, for BDAT, on one go-smtp starts for it, never concurrently with
// the others).
type session struct {
	srv  *Server
	smtp *smtp.Conn
	conn *conntrack.Conn
	log  *slog.Logger

	from    string // MAIL FROM; "" is the null reverse-path of DSNs
	targets []target
}

var _ smtp.Session = (*session)(nil)

// Mail starts a transaction. Any reverse-path is taken, the null one
// included: DSNs are sent from <> (RFC 3464 §2, RFC 5321 §4.5.5), and who
// sends a report is not what makes it believable — knowing the message's
// VERP address is.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

// Rcpt accepts the addresses Sesame issued and refuses the rest (see
// route). A client that keeps guessing is cut off after MaxRejects.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.conn.Strikes >= s.srv.cfg.MaxRejects {
		s.conn.HangUpAfterReply()
		return errTooManyRejects
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.ProcessTimeout)
	defer cancel()
	t, ok, err := s.srv.route(ctx, to)
	if err != nil {
		s.log.Error("MX recipient look-up failed", "rcpt", to, "err", err)
		return errTemporary
	}
	if !ok {
		s.conn.Strikes++
		s.log.Debug("MX recipient refused", "rcpt", to, "from", s.from)
		return errAccessDenied
	}
	s.targets = append(s.targets, t)
	return nil
}

// Data reads the message and records what it reports. The reply is 250
// once that is written — or once the message is known to report nothing
// Sesame records — and 451 when recording failed, so the sender retries.
func (s *session) Data(r io.Reader) error {
	if !s.conn.Begin() {
		s.conn.HangUpAfterReply()
		return errShuttingDown
	}
	// The idle timeout stays on until Reset, after the reply: go-smtp
	// drains the rest of a refused message before answering.
	s.conn.SetIdleTimeout(s.srv.cfg.DataTimeout)
	raw, err := io.ReadAll(r)
	if err != nil {
		return s.readFailed(err)
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.ProcessTimeout)
	defer cancel()
	log := s.log.With("from", s.from, "bytes", len(raw))
	if err := s.srv.process(ctx, log, s.targets, raw); err != nil {
		log.Error("MX: recording feedback failed", "err", err)
		return errTemporary
	}
	return accepted
}

// readFailed maps an error reading DATA to its reply.
func (s *session) readFailed(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, smtp.ErrDataTooLarge):
		return errTooLong
	case errors.Is(err, smtp.ErrTooLongLine):
		// go-smtp's line limit is sticky: nothing more can be read.
		s.conn.HangUpAfterReply()
		return errLongLine
	case errors.As(err, &ne) && ne.Timeout():
		s.log.Info("MX client stalled in DATA")
		s.conn.SetIdleTimeout(0) // go-smtp's drain must fail at once, not wait again
		s.conn.HangUpAfterReply()
		return errDataTimeout
	case errors.Is(err, smtp.ErrDataReset):
		return err // BDAT transfer aborted by RSET or a hang-up: no reply is read
	default:
		s.conn.SetIdleTimeout(0)
		s.conn.HangUpAfterReply()
		return errTemporary
	}
}

// Reset ends the transaction: after the reply to DATA, RSET, a new EHLO.
func (s *session) Reset() {
	s.from, s.targets = "", nil
	s.conn.SetIdleTimeout(0)
	s.conn.End()
}

// Logout is called when the connection closes or STARTTLS discards the
// session.
func (s *session) Logout() error {
	s.conn.End()
	return nil
}
