package dns

import (
	"context"
	"net"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

const (
	// txtTTL is the TTL of key records. Keys change only on rotation, when
	// Sesame publishes a new token; five minutes keeps removals prompt.
	txtTTL = 300
	// infraTTL is the TTL of the apex SOA and NS records.
	infraTTL = 3600
	// negativeTTL is the SOA MINIMUM, how long resolvers cache NXDOMAIN and
	// NODATA (RFC 2308 §4), and the TTL of the SOA in negative answers
	// (RFC 2308 §3). Short, so that a new token resolves soon.
	negativeTTL = 60
	// lookupTimeout bounds one Lookup call.
	lookupTimeout = 2 * time.Second
	// nsLabel names the zone's own name server, ns.<zone>.
	nsLabel = "ns"
)

// ServeDNS answers one query; it implements mdns.Handler.
func (z *ZoneServer) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	ctx, cancel := context.WithTimeout(z.baseContext(), lookupTimeout)
	defer cancel()
	local := w.LocalAddr()
	_, tcp := local.(*net.TCPAddr)
	resp := z.respond(ctx, req, !tcp, local)
	if resp == nil {
		return
	}
	data, err := resp.Pack()
	if err != nil {
		// The answer cannot be encoded: say so.
		z.logger().Warn("dns: zone server: packing answer", "err", err)
		data, err = new(mdns.Msg).SetRcode(req, mdns.RcodeServerFailure).Pack()
		if err != nil {
			return
		}
	}
	z.logger().Debug("dns: zone query", "question", questionString(req), "rcode", rcodeName(resp.Rcode),
		"answers", len(resp.Answer), "tc", resp.Truncated, "remote", addrString(w.RemoteAddr()))
	if _, err := w.Write(data); err != nil {
		z.logger().Debug("dns: zone server: writing answer", "err", err, "remote", addrString(w.RemoteAddr()))
	}
}

// respond builds the answer to req, received over UDP or TCP on local; nil
// means no answer is due.
func (z *ZoneServer) respond(ctx context.Context, req *mdns.Msg, udp bool, local net.Addr) *mdns.Msg {
	if req.Response {
		// Never answer an answer (RFC 1035 §4.1.1); it could start a loop.
		return nil
	}
	resp := new(mdns.Msg)
	resp.SetReply(req)
	size := mdns.MaxMsgSize
	if udp {
		size = mdns.MinMsgSize // RFC 1035 §4.2.1
	}
	opt := req.IsEdns0()
	switch {
	case opt != nil && opt.Version() != 0:
		resp.Rcode = mdns.RcodeBadVers // RFC 6891 §6.1.3
	case req.Opcode != mdns.OpcodeQuery:
		resp.Rcode = mdns.RcodeNotImplemented
	case len(req.Question) != 1:
		resp.Rcode = mdns.RcodeFormatError
	default:
		z.answer(ctx, resp, req.Question[0], local)
	}
	if opt != nil {
		// RFC 6891 §7: answer with OPT; RFC 3225 §3: copy the DO bit.
		resp.SetEdns0(ednsSize, opt.Do())
		if udp {
			size = max(mdns.MinMsgSize, int(opt.UDPSize()))
		}
	}
	resp.Truncate(size)
	if resp.Truncated && !udp {
		// Not even 64 KiB hold it: there is no transport left to try.
		z.logger().Warn("dns: zone server: answer too big for TCP", "question", questionString(req))
		resp.Truncated, resp.Authoritative = false, false
		resp.Rcode = mdns.RcodeServerFailure
		resp.Answer, resp.Ns = nil, nil
	}
	return resp
}

// answer fills resp for question q.
func (z *ZoneServer) answer(ctx context.Context, resp *mdns.Msg, q mdns.Question, local net.Addr) {
	zone, ok := normalizeName(z.Zone)
	if !ok || z.Lookup == nil {
		resp.Rcode = mdns.RcodeServerFailure // misconfigured; Start refuses this
		return
	}
	owner := mdns.Fqdn(q.Name) // answers spell the name as asked
	name := strings.ToLower(owner)
	if (q.Qclass != mdns.ClassINET && q.Qclass != mdns.ClassANY) || !mdns.IsSubDomain(zone, name) {
		resp.Rcode = mdns.RcodeRefused // not our zone: we are no resolver
		return
	}
	if q.Qtype == mdns.TypeAXFR || q.Qtype == mdns.TypeIXFR {
		resp.Rcode = mdns.RcodeRefused // the zone is computed, not transferable (RFC 5936 §4.2)
		return
	}
	resp.Authoritative = true
	want := func(t uint16) bool { return q.Qtype == t || q.Qtype == mdns.TypeANY }
	nodata := func() { resp.Ns = []mdns.RR{z.soa(zone, negativeTTL)} }

	labels := mdns.SplitDomainName(name)
	switch depth := len(labels) - mdns.CountLabel(zone); {
	case depth == 0: // the apex
		if want(mdns.TypeSOA) {
			resp.Answer = append(resp.Answer, z.soaAt(owner, zone, infraTTL))
		}
		if want(mdns.TypeNS) {
			resp.Answer = append(resp.Answer, &mdns.NS{Hdr: header(owner, mdns.TypeNS, infraTTL), Ns: nsLabel + "." + zone})
		}
	case depth == 1 && labels[0] == nsLabel:
		resp.Answer = append(resp.Answer, selfAddress(owner, local, want)...)
	case depth == 1 && isTokenLabel(labels[0]):
		txt, found, err := z.Lookup(ctx, labels[0])
		switch {
		case err != nil:
			z.logger().Warn("dns: zone server: looking up token", "label", labels[0], "err", err)
			resp.Authoritative = false
			resp.Rcode = mdns.RcodeServerFailure
			return
		case !found:
			resp.Rcode = mdns.RcodeNameError
		case want(mdns.TypeTXT):
			resp.Answer = append(resp.Answer, &mdns.TXT{Hdr: header(owner, mdns.TypeTXT, txtTTL), Txt: splitTXT(txt)})
		}
	default: // deeper names, and labels no token can have, do not exist
		resp.Rcode = mdns.RcodeNameError
	}
	if len(resp.Answer) == 0 {
		nodata()
	}
}

func (z *ZoneServer) soa(zone string, ttl uint32) *mdns.SOA {
	return z.soaAt(zone, zone, ttl)
}

// soaAt is the zone's SOA (RFC 1035 §3.3.13) with the given owner spelling.
// The serial is constant: the zone is computed on each query and never
// transferred.
func (z *ZoneServer) soaAt(owner, zone string, ttl uint32) *mdns.SOA {
	return &mdns.SOA{
		Hdr:     header(owner, mdns.TypeSOA, ttl),
		Ns:      nsLabel + "." + zone,
		Mbox:    "hostmaster." + zone,
		Serial:  1,
		Refresh: 7200,
		Retry:   900,
		Expire:  1209600,
		Minttl:  negativeTTL,
	}
}

// selfAddress answers ns.<zone> A/AAAA with the address the query came to,
// when it is a specific one.
func selfAddress(owner string, local net.Addr, want func(uint16) bool) []mdns.RR {
	var ip net.IP
	switch a := local.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	}
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	if ip4 := ip.To4(); ip4 != nil {
		if want(mdns.TypeA) {
			return []mdns.RR{&mdns.A{Hdr: header(owner, mdns.TypeA, infraTTL), A: ip4}}
		}
		return nil
	}
	if want(mdns.TypeAAAA) {
		return []mdns.RR{&mdns.AAAA{Hdr: header(owner, mdns.TypeAAAA, infraTTL), AAAA: ip}}
	}
	return nil
}

// isTokenLabel reports whether label can be a token: letters, digits, '-'
// and '_' (Easy DKIM tokens are 32 lower-case alphanumerics, SES-BEHAVIOR
// §5.3). Anything else — escapes, binary labels — cannot exist, and Lookup is
// not bothered with it.
func isTokenLabel(label string) bool {
	if label == "" || len(label) > 63 {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func header(owner string, rrtype uint16, ttl uint32) mdns.RR_Header {
	return mdns.RR_Header{Name: owner, Rrtype: rrtype, Class: mdns.ClassINET, Ttl: ttl}
}

func questionString(m *mdns.Msg) string {
	if len(m.Question) == 0 {
		return ""
	}
	q := m.Question[0]
	return q.Name + " " + mdns.Type(q.Qtype).String()
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
