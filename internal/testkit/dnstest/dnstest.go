// Package dnstest is a real DNS server for tests, on loopback, that fails
// closed: it answers only what the test configured — records, error codes,
// zones forwarded to another server (such as Sesame's DKIM-zone
// dns.ZoneServer) — and NXDOMAIN to everything else. It never reaches the
// network beyond the forward addresses it is given.
//
// It behaves like a recursive resolver: answers carry the RA bit, CNAME
// chains it can follow are followed into the answer (RFC 1034 §4.3.2), and a
// chain into a forwarded zone is completed with the forwarded answer. So a
// client asking <token>._domainkey.example.com TXT, with
//
//	srv.AddCNAME("tok._domainkey.example.com", "tok.dkim.sesame.test")
//	srv.Forward("dkim.sesame.test", zoneServer.Addr())
//
// gets the CNAME and the TXT record the zone server holds for tok.
package dnstest

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// Server is a loopback DNS server, UDP and TCP on one port. Configure it with
// the Add… methods, Remove, SetRcode and Forward at any time, also while it
// answers queries; invalid arguments fail the test, so call them from the
// test's goroutine.
type Server struct {
	t       testing.TB
	addr    string
	queries atomic.Int64

	mu       sync.Mutex
	records  map[rrKey][]mdns.RR
	rcodes   map[string]int
	forwards map[string]string // zone → server address
}

type rrKey struct {
	name   string // lower-case FQDN
	rrtype uint16
}

// New starts a Server on 127.0.0.1 (a free port, the same for UDP and TCP)
// and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:        t,
		records:  make(map[rrKey][]mdns.RR),
		rcodes:   make(map[string]int),
		forwards: make(map[string]string),
	}
	pc, ln := listenPair(t)
	s.addr = pc.LocalAddr().String()
	h := mdns.HandlerFunc(s.serveDNS)
	for _, srv := range []*mdns.Server{
		{PacketConn: pc, Handler: h, UDPSize: 4096},
		{Listener: ln, Handler: h},
	} {
		startServer(t, srv)
	}
	return s
}

// Addr returns the server's address, 127.0.0.1:port, for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Queries returns how many queries the server has received.
func (s *Server) Queries() int { return int(s.queries.Load()) }

// listenPair binds UDP and TCP on the same loopback port.
func listenPair(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var lastErr error
	for range 16 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("dnstest: listen udp: %v", err)
		}
		port := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
		if err == nil {
			return pc, ln
		}
		pc.Close()
		lastErr = err
	}
	t.Fatalf("dnstest: no port free for both UDP and TCP: %v", lastErr)
	return nil, nil
}

// startServer runs srv until the test ends; it returns once srv serves, so
// the shutdown at cleanup cannot miss it.
func startServer(t testing.TB, srv *mdns.Server) {
	t.Helper()
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("dnstest: serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("dnstest: server did not start")
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("dnstest: shutdown: %v", err)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("dnstest: server did not stop")
		}
	})
}
