package dnstest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// ask sends one query over network ("udp" or "tcp") with miekg/dns directly,
// so the test kit is checked independently of Sesame's client.
func ask(t *testing.T, network, addr, name string, qtype uint16, edns bool) *mdns.Msg {
	t.Helper()
	q := new(mdns.Msg)
	q.SetQuestion(mdns.Fqdn(name), qtype)
	if edns {
		q.SetEdns0(4096, false)
	}
	c := &mdns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("query %s %s: %v", name, mdns.Type(qtype), err)
	}
	return r
}

func TestUnconfiguredIsNXDOMAIN(t *testing.T) {
	s := New(t)
	for _, name := range []string{"example.com", "www.google.com", "localhost"} {
		r := ask(t, "udp", s.Addr(), name, mdns.TypeA, false)
		if r.Rcode != mdns.RcodeNameError || len(r.Answer) != 0 {
			t.Errorf("%s: rcode %s, %d answers; want NXDOMAIN and none", name, mdns.RcodeToString[r.Rcode], len(r.Answer))
		}
		if !r.RecursionAvailable {
			t.Errorf("%s: RA not set", name)
		}
	}
	if got := s.Queries(); got != 3 {
		t.Errorf("Queries() = %d, want 3", got)
	}
}

func TestRecordsAndNoData(t *testing.T) {
	s := New(t)
	s.AddTXT("_amazonses.Example.COM.", "tok1", "tok2")
	s.AddMX("example.com", 10, "mx.example.com")
	s.AddA("mx.example.com", "192.0.2.1")
	s.AddAAAA("mx.example.com", "2001:db8::1")

	r := ask(t, "udp", s.Addr(), "_AMAZONSES.example.com", mdns.TypeTXT, false)
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 2 {
		t.Fatalf("TXT: %v", r)
	}
	if r.Answer[0].Header().Name != "_AMAZONSES.example.com." {
		t.Errorf("owner %q, want the name spelled as asked", r.Answer[0].Header().Name)
	}
	if got := r.Answer[1].(*mdns.TXT).Txt; len(got) != 1 || got[0] != "tok2" {
		t.Errorf("second TXT = %q", got)
	}
	// example.com exists (it has MX), so A there is NODATA, not NXDOMAIN.
	r = ask(t, "udp", s.Addr(), "example.com", mdns.TypeA, false)
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("A at example.com: %v", r)
	}
	// An empty non-terminal exists too (RFC 8020).
	s.AddTXT("a.b.c.example.org", "x")
	r = ask(t, "udp", s.Addr(), "c.example.org", mdns.TypeTXT, false)
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("empty non-terminal: %v", r)
	}
	r = ask(t, "tcp", s.Addr(), "mx.example.com", mdns.TypeAAAA, false)
	if len(r.Answer) != 1 || r.Answer[0].(*mdns.AAAA).AAAA.String() != "2001:db8::1" {
		t.Errorf("AAAA over TCP: %v", r)
	}
	s.AddMX("null.example", 0, ".")
	r = ask(t, "udp", s.Addr(), "null.example", mdns.TypeMX, false)
	if len(r.Answer) != 1 || r.Answer[0].(*mdns.MX).Mx != "." {
		t.Errorf("null MX: %v", r)
	}
}

func TestDuplicateRecordsAreOne(t *testing.T) {
	s := New(t)
	s.AddTXT("d.example", "same")
	s.AddTXT("d.example", "same")
	if r := ask(t, "udp", s.Addr(), "d.example", mdns.TypeTXT, false); len(r.Answer) != 1 {
		t.Errorf("%d answers, want 1", len(r.Answer))
	}
}

func TestTXTEscapingAndSplitting(t *testing.T) {
	s := New(t)
	long := strings.Repeat("k", 600)
	odd := "a\"b\\c\x00\xffd; e"
	s.AddTXT("t.example", long)
	s.AddTXT("o.example", odd)
	r := ask(t, "tcp", s.Addr(), "t.example", mdns.TypeTXT, false)
	parts := r.Answer[0].(*mdns.TXT).Txt
	if len(parts) != 3 || len(parts[0]) != 255 || len(parts[2]) != 90 || strings.Join(parts, "") != long {
		t.Errorf("600-byte value split as %d parts", len(parts))
	}
	// miekg/dns hands back presentation form; packing and unpacking must
	// preserve the octets.
	r = ask(t, "udp", s.Addr(), "o.example", mdns.TypeTXT, false)
	if got, want := r.Answer[0].(*mdns.TXT).Txt[0], `a\"b\\c\000\255d; e`; got != want {
		t.Errorf("escaped TXT = %q, want %q", got, want)
	}
}

func TestCNAMEChainFollowed(t *testing.T) {
	s := New(t)
	s.AddCNAME("a.example", "b.example")
	s.AddCNAME("b.example", "c.example")
	s.AddTXT("c.example", "end")
	r := ask(t, "udp", s.Addr(), "a.example", mdns.TypeTXT, false)
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 3 {
		t.Fatalf("chain: %v", r)
	}
	want := []string{"a.example.\t60\tIN\tCNAME\tb.example.", "b.example.\t60\tIN\tCNAME\tc.example.", `c.example.	60	IN	TXT	"end"`}
	for i, rr := range r.Answer {
		if rr.String() != want[i] {
			t.Errorf("answer %d = %q, want %q", i, rr.String(), want[i])
		}
	}
	// Asking for the CNAME itself does not follow it.
	if r := ask(t, "udp", s.Addr(), "a.example", mdns.TypeCNAME, false); len(r.Answer) != 1 {
		t.Errorf("CNAME query: %v", r)
	}
	// A dangling chain keeps the CNAME and ends in NXDOMAIN (RFC 6604).
	s.AddCNAME("dangling.example", "nowhere.example")
	r = ask(t, "udp", s.Addr(), "dangling.example", mdns.TypeTXT, false)
	if r.Rcode != mdns.RcodeNameError || len(r.Answer) != 1 {
		t.Errorf("dangling: %v", r)
	}
	// A loop is SERVFAIL, as from a recursive resolver.
	s.AddCNAME("loop1.example", "loop2.example")
	s.AddCNAME("loop2.example", "loop1.example")
	if r := ask(t, "udp", s.Addr(), "loop1.example", mdns.TypeTXT, false); r.Rcode != mdns.RcodeServerFailure || len(r.Answer) != 0 {
		t.Errorf("loop: %v", r)
	}
	// AddCNAME replaces.
	s.AddCNAME("a.example", "c.example")
	if r := ask(t, "udp", s.Addr(), "a.example", mdns.TypeTXT, false); len(r.Answer) != 2 {
		t.Errorf("replaced CNAME: %v", r)
	}
}

func TestRemoveAndRcode(t *testing.T) {
	s := New(t)
	s.AddTXT("r.example", "v")
	s.AddMX("r.example", 5, "mx.example")
	s.Remove("r.example", mdns.TypeTXT)
	if r := ask(t, "udp", s.Addr(), "r.example", mdns.TypeTXT, false); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("after Remove TXT: %v", r)
	}
	s.Remove("r.example", mdns.TypeANY)
	if r := ask(t, "udp", s.Addr(), "r.example", mdns.TypeMX, false); r.Rcode != mdns.RcodeNameError {
		t.Errorf("after Remove ANY: %v", r)
	}

	s.AddTXT("f.example", "v")
	s.SetRcode("f.example", mdns.RcodeServerFailure)
	if r := ask(t, "udp", s.Addr(), "f.example", mdns.TypeTXT, false); r.Rcode != mdns.RcodeServerFailure || len(r.Answer) != 0 {
		t.Errorf("SetRcode SERVFAIL: %v", r)
	}
	s.AddCNAME("via.example", "f.example")
	if r := ask(t, "udp", s.Addr(), "via.example", mdns.TypeTXT, false); r.Rcode != mdns.RcodeServerFailure {
		t.Errorf("SERVFAIL through a CNAME: %v", r)
	}
	s.SetRcode("f.example", mdns.RcodeSuccess)
	if r := ask(t, "udp", s.Addr(), "f.example", mdns.TypeTXT, false); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("rcode cleared: %v", r)
	}
}

func TestForward(t *testing.T) {
	upstream := New(t)
	upstream.AddTXT("tok.dkim.sesame.test", "v=DKIM1; p=abc")
	s := New(t)
	s.Forward("DKIM.sesame.test", upstream.Addr())
	s.AddCNAME("tok._domainkey.example.com", "tok.dkim.sesame.test")

	r := ask(t, "udp", s.Addr(), "tok._domainkey.example.com", mdns.TypeTXT, false)
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 2 {
		t.Fatalf("forwarded chain: %v", r)
	}
	if txt := r.Answer[1].(*mdns.TXT); txt.Hdr.Name != "tok.dkim.sesame.test." || txt.Txt[0] != "v=DKIM1; p=abc" {
		t.Errorf("forwarded TXT = %v", txt)
	}
	if got := upstream.Queries(); got != 1 {
		t.Errorf("upstream got %d queries, want 1", got)
	}
	// Upstream's NXDOMAIN is relayed; the zone's parent exists.
	if r := ask(t, "udp", s.Addr(), "other.dkim.sesame.test", mdns.TypeTXT, false); r.Rcode != mdns.RcodeNameError {
		t.Errorf("forwarded NXDOMAIN: %v", r)
	}
	if r := ask(t, "udp", s.Addr(), "sesame.test", mdns.TypeTXT, false); r.Rcode != mdns.RcodeSuccess {
		t.Errorf("parent of forwarded zone: %v", r)
	}
	// A big upstream answer comes through TCP and is relayed whole over TCP.
	for i := range 8 {
		upstream.AddTXT("big.dkim.sesame.test", fmt.Sprintf("%d%s", i, strings.Repeat("x", 250)))
	}
	if r := ask(t, "tcp", s.Addr(), "big.dkim.sesame.test", mdns.TypeTXT, false); len(r.Answer) != 8 {
		t.Errorf("big forwarded answer: %d records", len(r.Answer))
	}
	// Over UDP without EDNS it does not fit 512 bytes: TC.
	if r := ask(t, "udp", s.Addr(), "big.dkim.sesame.test", mdns.TypeTXT, false); !r.Truncated {
		t.Errorf("big answer over UDP not truncated")
	}
	s.Forward("dkim.sesame.test", "")
	if r := ask(t, "udp", s.Addr(), "tok.dkim.sesame.test", mdns.TypeTXT, false); r.Rcode != mdns.RcodeNameError {
		t.Errorf("after forwarding stopped: %v", r)
	}
}

func TestForwardToDeadServerIsSERVFAIL(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the forward timeout")
	}
	s := New(t)
	s.Forward("dead.test", "127.0.0.1:9") // discard port; nothing answers
	if r := ask(t, "udp", s.Addr(), "x.dead.test", mdns.TypeTXT, false); r.Rcode != mdns.RcodeServerFailure {
		t.Errorf("dead forward: %v", r)
	}
}

func TestEDNS(t *testing.T) {
	s := New(t)
	for i := range 4 {
		s.AddTXT("e.example", fmt.Sprintf("%d%s", i, strings.Repeat("y", 200)))
	}
	r := ask(t, "udp", s.Addr(), "e.example", mdns.TypeTXT, true)
	if r.Truncated || len(r.Answer) != 4 || r.IsEdns0() == nil {
		t.Errorf("EDNS answer: tc=%v answers=%d opt=%v", r.Truncated, len(r.Answer), r.IsEdns0())
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := new(mdns.Msg)
			q.SetQuestion(fmt.Sprintf("n%d.example.", i), mdns.TypeTXT)
			c := &mdns.Client{Timeout: 5 * time.Second}
			for range 20 {
				if _, _, err := c.Exchange(q, s.Addr()); err != nil {
					t.Errorf("query: %v", err)
					return
				}
			}
		}()
	}
	for i := range 8 {
		s.AddTXT(fmt.Sprintf("n%d.example", i), "v")
		s.SetRcode(fmt.Sprintf("n%d.example", i), mdns.RcodeRefused)
		s.Remove(fmt.Sprintf("n%d.example", i), mdns.TypeANY)
	}
	wg.Wait()
	if got := s.Queries(); got != 160 {
		t.Errorf("Queries() = %d, want 160", got)
	}
}
