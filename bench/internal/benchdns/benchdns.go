// Package benchdns is the benchmark's DNS: a tiny authoritative server on
// loopback that publishes Easy DKIM for the benchmark's sending domains —
// every <token>._domainkey.<domain> is a CNAME to <token>.<zone>, whatever
// the token, so Sesame verifies the domain the way it would on the
// Internet — and forwards Sesame's DKIM zone to Sesame's own responder.
// Queries of another type for a CNAME'd name are answered with the target's
// records too, as a recursive resolver would, so a DKIM verifier can look
// keys up here. Every other name is NXDOMAIN: nothing leaves loopback.
package benchdns

import (
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Config is what the server publishes.
type Config struct {
	Domains []string // sending domains
	Zone    string   // Sesame's DKIM zone (SESAME_DKIM_ZONE)
	Forward string   // Sesame's DKIM-zone responder (SESAME_DNS_ADDR)
}

// Server is a running server.
type Server struct {
	cfg     Config
	domains map[string]bool // FQDNs, lower case
	zone    string          // FQDN
	client  *dns.Client
	udp     *dns.Server
	tcp     *dns.Server
	once    sync.Once
}

// Listen serves on addr over UDP and TCP (the same port for both; port 0
// picks one).
func Listen(addr string, cfg Config) (*Server, error) {
	if cfg.Zone == "" || cfg.Forward == "" {
		return nil, errors.New("benchdns: need the DKIM zone and the address to forward it to")
	}
	s := &Server{cfg: cfg, domains: map[string]bool{}, zone: fqdn(cfg.Zone),
		client: &dns.Client{Net: "udp", Timeout: 2 * time.Second, UDPSize: dns.DefaultMsgSize}}
	for _, d := range cfg.Domains {
		s.domains[fqdn(d)] = true
	}
	pc, ln, err := listenPair(addr)
	if err != nil {
		return nil, err
	}
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	<-started
	<-started
	return s, nil
}

// listenPair binds UDP and TCP on the same port; with port 0 the UDP port
// picked may be taken for TCP, so it tries a few.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	var err error
	for range 10 {
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			return nil, nil, err
		}
		var ln net.Listener
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if _, port, _ := net.SplitHostPort(addr); port != "0" {
			break
		}
	}
	return nil, nil, err
}

// Addr is the bound address (UDP and TCP).
func (s *Server) Addr() string { return s.udp.PacketConn.LocalAddr().String() }

// Close stops the server.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() { err = errors.Join(s.udp.Shutdown(), s.tcp.Shutdown()) })
	return err
}

func fqdn(name string) string { return dns.Fqdn(strings.ToLower(strings.TrimSuffix(name, "."))) }

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := s.answer(q)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := q.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

func (s *Server) answer(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	question := q.Question[0]
	name := strings.ToLower(question.Name)
	if dns.IsSubDomain(s.zone, name) {
		return s.forward(q, name, question.Qtype)
	}
	m.Authoritative = true
	if target, ok := s.cname(name); ok {
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300}, Target: target})
		if question.Qtype != dns.TypeCNAME {
			if r := s.forward(q, target, question.Qtype); r.Rcode == dns.RcodeSuccess {
				m.Answer = append(m.Answer, r.Answer...)
			}
		}
		return m
	}
	if !s.domains[name] {
		m.Rcode = dns.RcodeNameError
	}
	return m // the domain itself exists, with no records of its own
}

// cname maps <token>._domainkey.<domain> to <token>.<zone>.
func (s *Server) cname(name string) (string, bool) {
	token, rest, ok := strings.Cut(name, ".")
	if !ok || token == "" {
		return "", false
	}
	domain, ok := strings.CutPrefix(rest, "_domainkey.")
	if !ok || !s.domains[domain] {
		return "", false
	}
	return token + "." + s.zone, true
}

// forward asks Sesame's responder about name, over TCP if the UDP answer
// was truncated; a failure is SERVFAIL.
func (s *Server) forward(q *dns.Msg, name string, qtype uint16) *dns.Msg {
	fq := new(dns.Msg)
	fq.SetQuestion(name, qtype)
	fq.SetEdns0(dns.DefaultMsgSize, false)
	r, _, err := s.client.Exchange(fq, s.cfg.Forward)
	if err == nil && r.Truncated {
		tcp := *s.client
		tcp.Net = "tcp"
		r, _, err = tcp.Exchange(fq, s.cfg.Forward)
	}
	m := new(dns.Msg)
	m.SetReply(q)
	if err != nil {
		m.Rcode = dns.RcodeServerFailure
		return m
	}
	m.Rcode, m.Answer, m.Ns, m.Authoritative = r.Rcode, r.Answer, r.Ns, r.Authoritative
	return m
}

// LookupTXT asks server for name's TXT records (joined per record, RFC 6376
// §3.6.2.2), over UDP with EDNS and TCP on truncation: the sink's key
// look-up.
func LookupTXT(server, name string) ([]string, error) {
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	q.SetEdns0(dns.DefaultMsgSize, false)
	r, _, err := c.Exchange(q, server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(q, server)
	}
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, errors.New("benchdns: " + name + ": " + dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("benchdns: " + name + ": no TXT record")
	}
	return out, nil
}
