package dns

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"
)

// maxCNAMEChain bounds the CNAMEs followed for one look-up, whether found in
// answers or by asking again. Eight is what common resolvers allow.
const maxCNAMEChain = 8

// LookupMX implements [Resolver]. Equal preferences keep the server's order;
// RFC 5321 §5.1 leaves it to the sender to randomise among them.
func (c *Client) LookupMX(ctx context.Context, domain string) ([]*net.MX, error) {
	rrs, err := c.resolve(ctx, domain, mdns.TypeMX)
	if err != nil {
		return nil, err
	}
	var mxs []*net.MX
	null := false
	for _, rr := range rrs {
		mx, ok := rr.(*mdns.MX)
		if !ok {
			continue
		}
		if mx.Mx == "." {
			// RFC 7505 §3: the null MX. Mixed with real MX records it is a
			// misconfiguration; the real ones are still usable.
			null = true
			continue
		}
		mxs = append(mxs, &net.MX{Host: displayName(mx.Mx), Pref: mx.Preference})
	}
	if len(mxs) == 0 {
		e := ErrNoData
		if null {
			e = ErrNullMX
		}
		return nil, &LookupError{Name: displayName(rrs[0].Header().Name), Type: "MX", Err: e}
	}
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return cmp.Compare(a.Pref, b.Pref) })
	return mxs, nil
}

// LookupTXT implements [Resolver].
func (c *Client) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := c.resolve(ctx, name, mdns.TypeTXT)
	if err != nil {
		return nil, err
	}
	txts := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if t, ok := rr.(*mdns.TXT); ok {
			txts = append(txts, joinTXT(t.Txt))
		}
	}
	return txts, nil
}

// LookupCNAME implements [Resolver].
func (c *Client) LookupCNAME(ctx context.Context, name string) (string, error) {
	rrs, err := c.resolve(ctx, name, mdns.TypeCNAME)
	if err != nil {
		return "", err
	}
	for _, rr := range rrs {
		if cn, ok := rr.(*mdns.CNAME); ok {
			return displayName(cn.Target), nil
		}
	}
	return "", &LookupError{Name: displayName(name), Type: "CNAME", Err: ErrNoData}
}

// LookupIP implements [Resolver]. A and AAAA are asked in parallel; if either
// has addresses they are returned. Otherwise NXDOMAIN from either wins (the
// name does not exist, whatever the type), then a temporary failure, then
// ErrNoData.
func (c *Client) LookupIP(ctx context.Context, host string) ([]net.IP, error) {
	if ip := net.ParseIP(strings.TrimSuffix(strings.Trim(host, "[]"), ".")); ip != nil {
		return []net.IP{ip}, nil
	}
	type result struct {
		ips []net.IP
		err error
	}
	v6 := make(chan result, 1)
	go func() {
		ips, err := c.lookupAddr(ctx, host, mdns.TypeAAAA)
		v6 <- result{ips, err}
	}()
	ips4, err4 := c.lookupAddr(ctx, host, mdns.TypeA)
	r6 := <-v6
	if ips := append(ips4, r6.ips...); len(ips) > 0 {
		return ips, nil
	}
	for _, err := range []error{err4, r6.err} {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidName) {
			return nil, err
		}
	}
	for _, err := range []error{err4, r6.err} {
		if IsTemporary(err) {
			return nil, err
		}
	}
	var le *LookupError
	if errors.As(err4, &le) {
		return nil, &LookupError{Name: le.Name, Type: "A/AAAA", Err: le.Err}
	}
	return nil, err4
}

func (c *Client) lookupAddr(ctx context.Context, host string, qtype uint16) ([]net.IP, error) {
	rrs, err := c.resolve(ctx, host, qtype)
	if err != nil {
		return nil, err
	}
	var ips []net.IP
	for _, rr := range rrs {
		switch a := rr.(type) {
		case *mdns.A:
			ips = append(ips, a.A)
		case *mdns.AAAA:
			ips = append(ips, a.AAAA)
		}
	}
	return ips, nil
}

// errCNAMEChain: the CNAMEs loop or go on too long. A recursive resolver
// would answer SERVFAIL, so it is reported as a temporary failure.
var errCNAMEChain = fmt.Errorf("CNAME chain loops or is longer than %d", maxCNAMEChain)

// resolve returns the records of type qtype at name, never empty without an
// error. It follows CNAME chains in the answer (RFC 1034 §3.6.2) and, when an
// answer stops at a CNAME whose target it does not cover — the server is not
// recursive for that target, or the target has no such record — it asks for
// the target itself. This is how <token>._domainkey.<domain> TXT reaches the
// key served in Sesame's DKIM zone.
func (c *Client) resolve(ctx context.Context, name string, qtype uint16) ([]mdns.RR, error) {
	fqdn, ok := normalizeName(name)
	if !ok {
		return nil, &LookupError{Name: name, Type: typeName(qtype), Err: ErrInvalidName}
	}
	seen := map[string]bool{fqdn: true}
	target := fqdn
	for {
		r, err := c.exchange(ctx, target, qtype)
		if err != nil {
			return nil, err
		}
		rrs, final, err := followAnswer(r.Answer, target, qtype, seen)
		if err != nil {
			return nil, &TempError{Name: displayName(fqdn), Type: typeName(qtype), Err: err}
		}
		switch {
		case len(rrs) > 0:
			return rrs, nil
		case r.Rcode == mdns.RcodeNameError:
			// RFC 6604 §3: the code concerns the last name of the chain.
			return nil, &LookupError{Name: displayName(final), Type: typeName(qtype), Err: ErrNotFound}
		case final == target:
			return nil, &LookupError{Name: displayName(final), Type: typeName(qtype), Err: ErrNoData}
		}
		target = final
	}
}

// followAnswer walks the answer section from name along CNAMEs and returns the
// records of type qtype at the end of the chain, and that end. seen holds the
// names already visited, across queries; it bounds the chain.
func followAnswer(answer []mdns.RR, name string, qtype uint16, seen map[string]bool) ([]mdns.RR, string, error) {
	cur := name
	for {
		var rrs []mdns.RR
		next := ""
		for _, rr := range answer {
			h := rr.Header()
			if h.Class != mdns.ClassINET || !sameName(h.Name, cur) {
				continue
			}
			if h.Rrtype == qtype {
				rrs = append(rrs, rr)
			} else if cn, ok := rr.(*mdns.CNAME); ok && next == "" {
				next = strings.ToLower(mdns.Fqdn(cn.Target))
			}
		}
		if len(rrs) > 0 || next == "" {
			return rrs, cur, nil
		}
		if seen[next] || len(seen) > maxCNAMEChain {
			return nil, cur, errCNAMEChain
		}
		seen[next] = true
		cur = next
	}
}
