package dnstest

import (
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

const (
	// maxChain bounds the CNAMEs followed for one answer.
	maxChain = 8
	// forwardTimeout bounds one forwarded query.
	forwardTimeout = 2 * time.Second
	// ednsSize is the UDP payload size the server advertises.
	ednsSize = 1232
)

func (s *Server) serveDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	if req.Response {
		return
	}
	s.queries.Add(1)
	resp := new(mdns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	switch {
	case req.Opcode != mdns.OpcodeQuery:
		resp.Rcode = mdns.RcodeNotImplemented
	case len(req.Question) != 1:
		resp.Rcode = mdns.RcodeFormatError
	default:
		s.resolve(resp, req.Question[0])
	}
	size := mdns.MaxMsgSize
	udp := w.LocalAddr().Network() == "udp"
	if udp {
		size = mdns.MinMsgSize
	}
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(ednsSize, opt.Do())
		if udp {
			size = max(mdns.MinMsgSize, int(opt.UDPSize()))
		}
	}
	resp.Truncate(size)
	if err := w.WriteMsg(resp); err != nil {
		// The client is gone, or the answer cannot be encoded; either way a
		// test that cares sees the failure on its side.
		s.t.Logf("dnstest: writing answer to %s: %v", questionString(req), err)
	}
}

// resolve answers q the way a recursive resolver would from the configured
// data: following CNAMEs, forwarding names in forwarded zones.
func (s *Server) resolve(resp *mdns.Msg, q mdns.Question) {
	if q.Qclass != mdns.ClassINET {
		resp.Rcode = mdns.RcodeRefused
		return
	}
	owner := q.Name // the first owner is spelled as asked
	cur := strings.ToLower(mdns.Fqdn(q.Name))
	seen := map[string]bool{cur: true}
	for {
		if addr, ok := s.forwardFor(cur); ok {
			s.forward(resp, addr, cur, q.Qtype)
			return
		}
		st := s.lookup(cur, q.Qtype)
		switch {
		case st.rcode == mdns.RcodeNameError:
			// RFC 6604 §3: NXDOMAIN concerns the end of the chain; the
			// chain stays.
			resp.Rcode = st.rcode
			return
		case st.rcode != mdns.RcodeSuccess:
			resp.Answer = nil
			resp.Rcode = st.rcode
			return
		case len(st.rrs) > 0:
			resp.Answer = append(resp.Answer, withOwner(st.rrs, owner)...)
			return
		case st.cname != nil:
			resp.Answer = append(resp.Answer, withOwner([]mdns.RR{st.cname}, owner)...)
			next := st.cname.Target
			if seen[next] || len(seen) > maxChain {
				resp.Answer = nil
				resp.Rcode = mdns.RcodeServerFailure
				return
			}
			seen[next] = true
			cur, owner = next, next
		case !st.exists:
			resp.Rcode = mdns.RcodeNameError
			return
		default: // NODATA
			return
		}
	}
}

// state is what the server holds for one name and type.
type state struct {
	rcode  int         // a configured rcode, else RcodeSuccess
	rrs    []mdns.RR   // records of the type (all types for ANY)
	cname  *mdns.CNAME // the name's CNAME, when the type asked is not CNAME
	exists bool        // the name has records, or names below it have
}

func (s *Server) lookup(name string, qtype uint16) state {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st state
	if rc, ok := s.rcodes[name]; ok {
		st.rcode = rc
		return st
	}
	for zone := range s.forwards {
		if mdns.IsSubDomain(name, zone) {
			st.exists = true // an ancestor of a delegated zone
		}
	}
	for k, rrs := range s.records {
		if k.name == name || strings.HasSuffix(k.name, "."+name) {
			st.exists = true // RFC 8020: an empty non-terminal exists
		}
		if k.name != name {
			continue
		}
		switch {
		case k.rrtype == qtype || qtype == mdns.TypeANY:
			st.rrs = append(st.rrs, rrs...)
		case k.rrtype == mdns.TypeCNAME:
			st.cname = rrs[0].(*mdns.CNAME)
		}
	}
	return st
}

// forwardFor returns the forward address of the closest forwarded zone
// holding name.
func (s *Server) forwardFor(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, addr := -1, ""
	for zone, a := range s.forwards {
		if n := mdns.CountLabel(zone); mdns.IsSubDomain(zone, name) && n > best {
			best, addr = n, a
		}
	}
	return addr, best >= 0
}

// forward asks addr for name/qtype and relays its answer and authority
// sections and its rcode into resp. A server that does not answer makes it
// SERVFAIL, as a resolver would.
func (s *Server) forward(resp *mdns.Msg, addr, name string, qtype uint16) {
	q := new(mdns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = false
	q.SetEdns0(ednsSize, false)
	c := &mdns.Client{Net: "udp", Timeout: forwardTimeout}
	r, _, err := c.Exchange(q, addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(q, addr)
	}
	if err != nil {
		s.t.Logf("dnstest: forwarding %s %s to %s: %v", name, mdns.Type(qtype), addr, err)
		resp.Answer = nil
		resp.Rcode = mdns.RcodeServerFailure
		return
	}
	resp.Answer = append(resp.Answer, r.Answer...)
	resp.Ns = r.Ns
	resp.Rcode = r.Rcode
}

// withOwner copies rrs with their owner spelled as owner.
func withOwner(rrs []mdns.RR, owner string) []mdns.RR {
	out := make([]mdns.RR, len(rrs))
	for i, rr := range rrs {
		c := mdns.Copy(rr)
		c.Header().Name = owner
		out[i] = c
	}
	return out
}

func questionString(m *mdns.Msg) string {
	if len(m.Question) == 0 {
		return "(no question)"
	}
	return m.Question[0].Name + " " + mdns.Type(m.Question[0].Qtype).String()
}
