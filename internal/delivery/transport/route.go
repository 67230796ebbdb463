package transport

import (
	"cmp"
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
)

// maxAddresses bounds the addresses tried for one group in one Deliver call,
// as Postfix's smtp_mx_address_limit does, so a domain with many dead MX
// hosts cannot hold a worker for long.
const maxAddresses = 10

// route is where a group's transaction may go: host names in the order to
// try them, each resolved only when its turn comes.
type route struct {
	hosts []string
	port  int
	// implicit: the domain had no MX and is its own mail host (RFC 5321
	// §5.1), so its having no address means the domain cannot receive mail.
	implicit bool
}

// route finds the hosts for domain, or the relay's; a non-nil reply is the
// group's final answer.
func (t *Transport) route(ctx context.Context, domain string) (route, *reply) {
	if t.Relay != "" {
		host, port, _ := net.SplitHostPort(t.Relay) // checked in Deliver
		p, _ := strconv.Atoi(port)
		return route{hosts: []string{host}, port: p}, nil
	}

	mxs, err := t.Resolver.LookupMX(ctx, domain)
	switch {
	case err == nil:
	case temporary(err):
		r := local(Transient, "4.4.3", "MX lookup for %s failed: %v", domain, err) // 4.4.3: directory server failure
		return route{}, &r
	case t.nullMX(err):
		mxs = []*net.MX{{Host: "."}}
	case t.notFound(err):
		mxs = nil // no MX: the implicit MX below
	default:
		r := local(Transient, "4.4.3", "MX lookup for %s failed: %v", domain, err)
		return route{}, &r
	}
	if len(mxs) == 1 && strings.TrimSuffix(mxs[0].Host, ".") == "" {
		// RFC 7505 §4.2: a domain with a null MX accepts no mail.
		r := reply{outcome: Permanent, code: 556, enhanced: "5.1.10",
			text: "556 5.1.10 " + domain + " does not accept mail (null MX)"}
		return route{}, &r
	}
	hosts := t.orderMX(mxs)
	if len(hosts) == 0 {
		// RFC 5321 §5.1: no MX, so the domain is an implicit MX of
		// preference 0 pointing to itself.
		return route{hosts: []string{domain}, port: t.port(), implicit: true}, nil
	}
	return route{hosts: hosts, port: t.port()}, nil
}

// orderMX sorts MX hosts by preference and shuffles those of equal
// preference (RFC 5321 §5.1). A null MX among real ones is a
// misconfiguration (RFC 7505 §3) and is skipped.
func (t *Transport) orderMX(mxs []*net.MX) []string {
	sorted := make([]*net.MX, 0, len(mxs))
	for _, mx := range mxs {
		if mx != nil && strings.TrimSuffix(mx.Host, ".") != "" {
			sorted = append(sorted, mx)
		}
	}
	slices.SortStableFunc(sorted, func(a, b *net.MX) int { return cmp.Compare(a.Pref, b.Pref) })
	shuffle := t.shuffleFunc()
	for start := 0; start < len(sorted); {
		end := start + 1
		for end < len(sorted) && sorted[end].Pref == sorted[start].Pref {
			end++
		}
		run := sorted[start:end]
		shuffle(len(run), func(i, j int) { run[i], run[j] = run[j], run[i] })
		start = end
	}
	hosts := make([]string, 0, len(sorted))
	seen := map[string]bool{}
	for _, mx := range sorted {
		h := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// addresses resolves one host of rt; a non-nil reply explains why it has
// none.
func (t *Transport) addresses(ctx context.Context, rt route, host string) ([]string, *reply) {
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return []string{ip.String()}, nil
	}
	ips, err := t.Resolver.LookupIP(ctx, host)
	switch {
	case err == nil && len(ips) > 0:
		out := make([]string, len(ips))
		for i, ip := range ips {
			out[i] = ip.String()
		}
		return out, nil
	case err != nil && (temporary(err) || !t.notFound(err)):
		r := local(Transient, "4.4.3", "address lookup for %s failed: %v", host, err)
		return nil, &r
	case rt.implicit:
		// RFC 5321 §5.1: no MX and no address: the domain cannot receive
		// mail (or does not exist).
		r := local(Permanent, "5.1.2", "domain %s not found: no MX and no address records", host) // 5.1.2: bad destination system address
		return nil, &r
	default:
		r := local(Transient, "4.4.4", "mail host %s has no address", host) // 4.4.4: unable to route
		return nil, &r
	}
}
