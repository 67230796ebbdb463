package mx

import (
	"context"
	"errors"
	"strings"

	"github.com/sesamehq/sesame/internal/queue"
)

// target is an accepted recipient: the feedback address (env nil) or the
// VERP address of a message Sesame sent.
type target struct {
	addr string
	env  *queue.Envelope
}

// route decides whether the server receives for addr: the feedback
// address, or <MessageId>@<domain> for a message Sesame accepted whose
// envelope sender may have used domain. ok false is a refusal; an error is
// a failed look-up.
func (s *Server) route(ctx context.Context, addr string) (t target, ok bool, err error) {
	local, domain, found := splitAddress(addr)
	if !found {
		return target{}, false, nil
	}
	if strings.EqualFold(local, FeedbackLocalPart) && strings.EqualFold(domain, s.cfg.Hostname) {
		return target{addr: addr}, true, nil
	}
	env, err := s.verp(ctx, local, domain)
	if env == nil || err != nil {
		return target{}, false, err
	}
	return target{addr: addr, env: env}, true, nil
}

// verp returns the message a VERP address local@domain names, or nil when
// it names none: local must be a message id Sesame issued and domain one
// its envelope sender may have used — Sesame's host name, or the custom
// MAIL FROM domain of the identity it was sent from (SES-BEHAVIOR §4.3,
// §5.5). That domain is matched whatever its status now, as the status
// may have changed since the message left.
func (s *Server) verp(ctx context.Context, local, domain string) (*queue.Envelope, error) {
	id := strings.ToLower(local)
	if !isMessageID(id) {
		return nil, nil
	}
	env, err := s.cfg.Messages.Envelope(ctx, id)
	if errors.Is(err, queue.ErrNoMessage) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(domain, s.cfg.Hostname) {
		return env, nil
	}
	if env.System {
		return nil, nil // Sesame's own mail always uses its host name
	}
	ident, err := s.cfg.Identities.Covering(ctx, env.AccountID, env.Source)
	if err != nil || ident == nil || ident.MailFrom.Domain == "" || !strings.EqualFold(ident.MailFrom.Domain, domain) {
		return nil, err
	}
	return env, nil
}

// splitAddress splits an addr-spec at its last "@".
func splitAddress(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	return addr[:i], strings.TrimSuffix(addr[i+1:], "."), true
}

// isMessageID reports whether s has the shape of the message ids Sesame
// issues (mail.NewMessageID, SES-BEHAVIOR §4.3), in lower case:
//
//	0100018f2a3b4c5d-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d-000000
//
// Checking the shape first keeps arbitrary local parts away from the store.
func isMessageID(s string) bool {
	const shape = "xxxxxxxxxxxxxxxx-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx-000000"
	if len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; shape[i] {
		case 'x':
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		default:
			if c != shape[i] {
				return false
			}
		}
	}
	return true
}
