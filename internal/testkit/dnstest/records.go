package dnstest

import (
	"net"
	"strings"

	mdns "github.com/miekg/dns"
)

// ttl is the TTL of every record served; clients under test keep no cache.
const ttl = 60

// AddTXT adds one TXT record per value at name. Values longer than 255 bytes
// are cut into several character-strings, as publishers of DKIM keys do
// (RFC 6376 §3.6.2.2).
func (s *Server) AddTXT(name string, values ...string) {
	s.t.Helper()
	owner := s.name(name)
	if len(values) == 0 {
		s.t.Fatalf("dnstest: AddTXT %s: no value", name)
	}
	for _, v := range values {
		s.add(&mdns.TXT{Hdr: hdr(owner, mdns.TypeTXT), Txt: splitTXT(v)})
	}
}

// AddCNAME makes name an alias of target, replacing any CNAME name had.
func (s *Server) AddCNAME(name, target string) {
	s.t.Helper()
	rr := &mdns.CNAME{Hdr: hdr(s.name(name), mdns.TypeCNAME), Target: s.name(target)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[rrKey{rr.Hdr.Name, mdns.TypeCNAME}] = []mdns.RR{rr}
}

// AddMX adds an MX record at domain. host "." makes it the RFC 7505 null MX.
func (s *Server) AddMX(domain string, pref uint16, host string) {
	s.t.Helper()
	target := "."
	if host != "." {
		target = s.name(host)
	}
	s.add(&mdns.MX{Hdr: hdr(s.name(domain), mdns.TypeMX), Preference: pref, Mx: target})
}

// AddA adds an A record; ip must be an IPv4 address.
func (s *Server) AddA(name, ip string) {
	s.t.Helper()
	a := net.ParseIP(ip).To4()
	if a == nil {
		s.t.Fatalf("dnstest: AddA %s: %q is not an IPv4 address", name, ip)
	}
	s.add(&mdns.A{Hdr: hdr(s.name(name), mdns.TypeA), A: a})
}

// AddAAAA adds an AAAA record; ip must be an IPv6 address.
func (s *Server) AddAAAA(name, ip string) {
	s.t.Helper()
	a := net.ParseIP(ip)
	if a == nil || a.To4() != nil {
		s.t.Fatalf("dnstest: AddAAAA %s: %q is not an IPv6 address", name, ip)
	}
	s.add(&mdns.AAAA{Hdr: hdr(s.name(name), mdns.TypeAAAA), AAAA: a})
}

// Remove deletes the records of type rrtype (mdns.TypeTXT…) at name;
// mdns.TypeANY deletes all of them. The name stops existing when nothing is
// left at or below it.
func (s *Server) Remove(name string, rrtype uint16) {
	s.t.Helper()
	owner := s.name(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.records {
		if k.name == owner && (rrtype == mdns.TypeANY || k.rrtype == rrtype) {
			delete(s.records, k)
		}
	}
}

// SetRcode makes every query for name (any type, also when reached through a
// CNAME) answer rcode, e.g. mdns.RcodeServerFailure or mdns.RcodeRefused,
// without records. mdns.RcodeSuccess restores normal answers.
func (s *Server) SetRcode(name string, rcode int) {
	s.t.Helper()
	owner := s.name(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rcode == mdns.RcodeSuccess {
		delete(s.rcodes, owner)
		return
	}
	s.rcodes[owner] = rcode
}

// Forward sends queries for zone and the names below it to the DNS server at
// addr (host:port) and relays its answer; "" stops forwarding. Forwarding
// takes precedence over records and rcodes for names in zone.
func (s *Server) Forward(zone, addr string) {
	s.t.Helper()
	z := s.name(zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	if addr == "" {
		delete(s.forwards, z)
		return
	}
	s.forwards[z] = addr
}

// add stores rr unless an identical record is there (an RRset is a set,
// RFC 2181 §5).
func (s *Server) add(rr mdns.RR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := rrKey{rr.Header().Name, rr.Header().Rrtype}
	for _, old := range s.records[k] {
		if old.String() == rr.String() {
			return
		}
	}
	s.records[k] = append(s.records[k], rr)
}

// name normalises a configured name, failing the test when it is invalid.
func (s *Server) name(name string) string {
	s.t.Helper()
	n, ok := canonical(name)
	if !ok {
		s.t.Fatalf("dnstest: invalid domain name %q", name)
	}
	return n
}

// canonical lower-cases and fully qualifies name, reporting whether it is a
// valid domain name.
func canonical(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	n := mdns.Fqdn(strings.ToLower(name))
	_, ok := mdns.IsDomainName(n)
	return n, ok
}

func hdr(owner string, rrtype uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: owner, Rrtype: rrtype, Class: mdns.ClassINET, Ttl: ttl}
}
