package transport

import (
	"context"
	"log/slog"
)

// deliverGroup runs one group's transaction, trying its hosts in order
// until one gives a definitive answer, and stores the outcome in results.
func (t *Transport) deliverGroup(ctx context.Context, m Message, g *group, results []Result) {
	log := t.logger()
	if g.domain != "" {
		log = log.With("domain", g.domain)
	}
	rt, fail := t.route(ctx, g.domain)
	if fail != nil {
		log.Debug("no route", "text", fail.text)
		g.fill(results, same(g.rcpts, fail.result(peer{})))
		return
	}

	// If no host gives a definitive answer, the last failure is the answer,
	// except that a server's own words are kept over a later failure to reach
	// or resolve another host.
	last := same(g.rcpts, local(Transient, "4.4.4", "no mail host could be tried").result(peer{}))
	keep := func(rs []Result) {
		if rs[0].RemoteMTA != "" || last[0].RemoteMTA == "" {
			last = rs
		}
	}
	tried := 0
	for _, host := range rt.hosts {
		addrs, fail := t.addresses(ctx, rt, host)
		if fail != nil {
			log.Debug("host has no usable address", "mx", host, "text", fail.text)
			if fail.outcome == Permanent {
				g.fill(results, same(g.rcpts, fail.result(peer{})))
				return
			}
			keep(same(g.rcpts, fail.result(peer{})))
			continue
		}
		for _, ip := range addrs {
			if ctx.Err() != nil {
				break
			}
			if tried == maxAddresses {
				log.Debug("address limit reached", "limit", maxAddresses)
				g.fill(results, last)
				return
			}
			tried++
			rs, definitive := t.attempt(ctx, log.With("mx", host, "ip", ip), m, host, ip, rt.port, g.rcpts)
			if definitive {
				g.fill(results, rs)
				return
			}
			keep(rs)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		g.fill(results, same(g.rcpts, interruption(ctx).result(peer{})))
		return
	}
	g.fill(results, last)
}

// attempt runs one transaction with the server at ip, on a session from
// the cache when one fits, else on a new one. definitive is false when the
// server could not be used at all (no connection, greeting, EHLO or required
// TLS): then every result is the same Transient failure and the next address
// is worth trying (RFC 5321 §5.1).
func (t *Transport) attempt(ctx context.Context, log *slog.Logger, m Message, host, ip string, port int, rcpts []string) (rs []Result, definitive bool) {
	p := t.sessions()
	k := destKey{host: host, ip: ip, port: port}
	s, evict, err := p.get(ctx, k, func(s *session) bool { return s.fits(m.RequireTLS, t.VerifyRequiredTLS) })
	if err != nil {
		return same(rcpts, interruption(ctx).result(peer{})), false
	}
	if evict != nil {
		evict.quit()
		evict.close()
	}
	var replies []reply
	if s != nil {
		s.bind(ctx, log)
		log.Debug("smtp attempt on a cached session", "transactions", s.used)
		var stale bool
		if replies, stale = s.send(ctx, m, rcpts); stale {
			// The server closed the session while it sat idle (a 421 or
			// a closed connection in answer to MAIL): nothing of this
			// message reached it, and sending it on a new session is not
			// a second attempt.
			log.Debug("cached session was closed by the server; opening a new one")
			s.close()
			s = nil
		}
	}
	if s == nil {
		log.Debug("smtp attempt")
		var fail *reply
		var pr peer
		if s, fail, pr = t.open(ctx, log, k, m.RequireTLS); fail != nil {
			p.done(k)
			log.Debug("smtp host unusable", "text", fail.text)
			return same(rcpts, fail.result(pr)), false
		}
		replies, _ = s.send(ctx, m, rcpts)
	}
	rs = make([]Result, len(rcpts))
	for i, r := range replies {
		rs[i] = r.result(s.peer)
		rs[i].Rcpt = rcpts[i]
		log.Debug("smtp outcome", "rcpt", rcpts[i], "outcome", r.outcome.String(), "text", r.text)
	}
	finish(p, s)
	return rs, true
}

// finish ends an attempt's use of s: back to the cache when it can carry
// another transaction (after RSET if this one was left open), else QUIT.
func finish(p *pool, s *session) {
	if !s.broken && s.dirty && !s.reset() {
		s.log.Debug("RSET failed; closing the session")
	}
	if s.broken || s.dirty || s.used >= p.maxMessages || !s.unbind() {
		s.quit()
		s.close()
		p.done(s.key)
		return
	}
	for _, d := range p.put(s) {
		d.quit()
		d.close()
	}
}

// fits reports whether an idle session may carry a message: one that
// requires TLS needs an encrypted session, and a verified certificate when
// VerifyRequiredTLS asks for one (a session opened for an opportunistic
// message accepted any certificate).
func (s *session) fits(requireTLS, verify bool) bool {
	return !requireTLS || (s.peer.tls && (s.verified || !verify))
}

func same(rcpts []string, r Result) []Result {
	out := make([]Result, len(rcpts))
	for i, rcpt := range rcpts {
		out[i] = r
		out[i].Rcpt = rcpt
	}
	return out
}
