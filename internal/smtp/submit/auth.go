package submit

import (
	"context"
	"errors"

	"github.com/emersion/go-sasl"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/auth/smtppass"
)

// authenticate checks an SMTP login as SES does (SES-BEHAVIOR §3.3): the
// user name is an access key id, the password the version 4 SMTP password
// derived from that key's secret for the served region, compared in
// constant time. The secret itself is not a password. It returns the key.
func (s *Server) authenticate(ctx context.Context, user, password string) (account.Key, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LookupTimeout)
	defer cancel()
	k, err := s.cfg.Keys.LookupKey(ctx, user)
	if errors.Is(err, account.ErrUnknownKey) {
		return account.Key{}, errBadLogin
	}
	if err != nil {
		s.log.Error("SMTP credential lookup failed", "err", err)
		return account.Key{}, errAuthTemporary
	}
	ok := smtppass.Equal(smtppass.V4(k.Secret, s.cfg.Region), password)
	if !ok && s.cfg.AllowV2Passwords {
		ok = smtppass.Equal(smtppass.V2(k.Secret), password)
	}
	if !ok {
		return account.Key{}, errBadLogin
	}
	return k, nil
}

// loginServer is the server side of the LOGIN SASL mechanism
// (draft-murchison-sasl-login): challenge "Username:", then "Password:", each
// answered with the value. go-sasl has only the client side. A client may
// send the user name as the initial response ("AUTH LOGIN dXNlcg==").
type loginServer struct {
	state    loginState
	username string
	check    func(username, password string) error
}

type loginState int

const (
	loginStart loginState = iota
	loginWantUser
	loginWantPassword
	loginDone
)

// The LOGIN challenges, as clients (go-sasl's among them) expect them.
var (
	loginUsername = []byte("Username:")
	loginPassword = []byte("Password:")
)

func newLoginServer(check func(username, password string) error) sasl.Server {
	return &loginServer{check: check}
}

// Next implements sasl.Server. go-smtp passes a nil response when the
// client gave no initial response, and each decoded line after that.
func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.state {
	case loginStart:
		if response == nil {
			l.state = loginWantUser
			return loginUsername, false, nil
		}
		l.username, l.state = string(response), loginWantPassword
		return loginPassword, false, nil
	case loginWantUser:
		l.username, l.state = string(response), loginWantPassword
		return loginPassword, false, nil
	case loginWantPassword:
		l.state = loginDone
		return nil, true, l.check(l.username, string(response))
	default:
		return nil, true, sasl.ErrUnexpectedClientResponse
	}
}
