package submit

import (
	"context"
	"errors"
	"github.com/sesamehq/sesame/internal/smtp/conntrack"
	"io"
	"log/slog"
	"net"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/sending"
)

// session is one client's SMTP session: go-smtp makes one at EHLO and a new
// one after STARTTLS, so authentication never survives the upgrade (RFC
// 3207 §4.2). Its methods run on the connection's goroutine (Data, for
// BDAT, on one go-smtp starts for it, never concurrently with the others).
type session struct {
	srv  *Server
	smtp *smtp.Conn
	conn *conntrack.Conn
	log  *slog.Logger

	account string // set by a successful AUTH
	keyID   string

	from  string // MAIL FROM; "" is the null reverse-path
	rcpts []string
}

var (
	_ smtp.Session     = (*session)(nil)
	_ smtp.AuthSession = (*session)(nil)
)

// secure reports whether the session runs over TLS; SES refuses AUTH and
// MAIL before it (SES-BEHAVIOR §3.1).
func (s *session) secure() bool {
	_, ok := s.smtp.TLSConnectionState()
	return ok
}

// AuthMechanisms lists PLAIN and LOGIN, as SES does, once TLS is up; before
// it EHLO advertises no AUTH at all.
func (s *session) AuthMechanisms() []string {
	if !s.secure() {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth starts an AUTH exchange.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.secure() {
		return nil, errStartTLSFirst
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			// RFC 4616 §2: an authorization identity other than the
			// user's own would mean acting as someone else.
			if identity != "" && identity != username {
				return s.authFailed()
			}
			return s.login(username, password)
		}), nil
	case sasl.Login:
		return newLoginServer(s.login), nil
	default:
		return nil, errAuthMechanism
	}
}

func (s *session) login(username, password string) error {
	k, err := s.srv.authenticate(s.srv.ctx, username, password)
	if errors.Is(err, errBadLogin) {
		return s.authFailed()
	}
	if err != nil {
		return err
	}
	s.account, s.keyID = k.AccountID, k.ID
	s.log = s.log.With("account", k.AccountID, "key_id", k.ID)
	s.log.Debug("SMTP client authenticated")
	return nil
}

// authFailed counts a failed login; after MaxAuthFailures on one
// connection the refusal is the last reply it gets. The user name is not
// logged: clients have been known to send the secret in it.
func (s *session) authFailed() error {
	s.conn.Strikes++
	s.log.Info("SMTP authentication failed", "failures", s.conn.Strikes)
	if s.conn.Strikes >= s.srv.cfg.MaxAuthFailures {
		s.conn.HangUpAfterReply()
	}
	return errBadLogin
}

// Mail starts a transaction (RFC 5321 §4.1.1.2). The envelope sender plays
// the role of SendRawEmail's Source (SES-BEHAVIOR §3.2).
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	switch {
	case !s.secure():
		return errStartTLSFirst
	case s.account == "":
		return errAuthRequired
	}
	if from != "" {
		if _, err := mail.ParseAddress(from); err != nil {
			return errBadMailFrom
		}
	}
	s.from = from
	return nil
}

// Rcpt adds a recipient: RCPT TO addresses are the message's Destinations.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.account == "" { // go-smtp asks for MAIL first; belt and braces
		return errAuthRequired
	}
	if len(s.rcpts) >= s.srv.cfg.MaxRecipients {
		return errTooManyRcpts
	}
	if _, err := mail.ParseAddress(to); err != nil {
		return errBadRcptTo
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data reads the message and hands it to the send use case; the reply is
// SES's "250 Ok <MessageId>" once the message is durable, or the refusal.
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
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.SendTimeout)
	defer cancel()
	id, err := s.srv.cfg.Sender.Send(ctx, &sending.Request{
		AccountID:    s.account,
		Operation:    Operation,
		Source:       s.from,
		Destinations: s.rcpts,
		Raw:          raw,
		MaxSize:      s.srv.cfg.MaxMessageBytes,
	})
	if err != nil {
		rep := refusal(err)
		if rep == errTemporary {
			s.log.Error("SMTP send failed", "err", err)
		} else {
			s.log.Info("SMTP message refused", "reply", rep.Code, "reason", rep.Message)
		}
		return rep
	}
	s.log.Info("SMTP message accepted", "msg_id", id, "rcpts", len(s.rcpts), "bytes", len(raw))
	// go-smtp writes a returned *SMTPError as the reply, which is the only
	// way to give the 250 its text. SES's is "250 Ok <MessageId>", without
	// an enhanced code: clients read the id as the reply's third word.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.NoEnhancedCode, Message: "Ok " + id}
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
		s.log.Info("SMTP client stalled in DATA")
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
	s.from, s.rcpts = "", nil
	s.conn.SetIdleTimeout(0)
	s.conn.End()
}

// Logout is called when the connection closes or STARTTLS discards the
// session.
func (s *session) Logout() error {
	s.conn.End()
	return nil
}
