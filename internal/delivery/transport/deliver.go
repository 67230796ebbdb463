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

// attempt runs one session with the server at ip. definitive is false when
// the server could not be used at all (no connection, greeting, EHLO or
// required TLS): then every result is the same Transient failure and the
// next address is worth trying (RFC 5321 §5.1).
func (t *Transport) attempt(ctx context.Context, log *slog.Logger, m Message, host, ip string, port int, rcpts []string) (rs []Result, definitive bool) {
	log.Debug("smtp attempt")
	s, fail, p := t.open(ctx, log, host, ip, port, m.RequireTLS)
	if fail != nil {
		log.Debug("smtp host unusable", "text", fail.text)
		return same(rcpts, fail.result(p)), false
	}
	defer s.close()
	replies := s.send(ctx, m, rcpts)
	s.quit()
	rs = make([]Result, len(rcpts))
	for i, r := range replies {
		rs[i] = r.result(s.peer)
		rs[i].Rcpt = rcpts[i]
		log.Debug("smtp outcome", "rcpt", rcpts[i], "outcome", r.outcome.String(), "text", r.text)
	}
	return rs, true
}

func same(rcpts []string, r Result) []Result {
	out := make([]Result, len(rcpts))
	for i, rcpt := range rcpts {
		out[i] = r
		out[i].Rcpt = rcpt
	}
	return out
}
