package dns

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sesamehq/sesame/internal/testkit/dnstest"
)

func TestLookupMXSortedByPreference(t *testing.T) {
	srv := dnstest.New(t)
	srv.AddMX("example.com", 20, "b.example.com")
	srv.AddMX("example.com", 10, "MX1.Example.COM")
	srv.AddMX("example.com", 30, "c.example.net")
	srv.AddMX("example.com", 10, "mx2.example.com")
	c := newTestClient(t, srv.Addr(), time.Second)

	mxs, err := c.LookupMX(testContext(t), "EXAMPLE.com.")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mx := range mxs {
		got = append(got, fmt.Sprintf("%s/%d", mx.Host, mx.Pref))
	}
	want := []string{"mx1.example.com/10", "mx2.example.com/10", "b.example.com/20", "c.example.net/30"}
	if !slices.Equal(got, want) {
		t.Errorf("LookupMX = %v, want %v", got, want)
	}
}

func TestLookupMXNull(t *testing.T) {
	srv := dnstest.New(t)
	srv.AddMX("nomail.example", 0, ".")
	srv.AddMX("mixed.example", 0, ".")
	srv.AddMX("mixed.example", 10, "mx.mixed.example")
	srv.AddTXT("nomx.example", "v=spf1 -all")
	c := newTestClient(t, srv.Addr(), time.Second)
	ctx := testContext(t)

	_, err := c.LookupMX(ctx, "nomail.example")
	if !errors.Is(err, ErrNullMX) || errors.Is(err, ErrNoData) || IsTemporary(err) {
		t.Errorf("null MX: err = %v, want ErrNullMX only", err)
	}
	mxs, err := c.LookupMX(ctx, "mixed.example")
	if err != nil || len(mxs) != 1 || mxs[0].Host != "mx.mixed.example" {
		t.Errorf("null MX among others: %v, %v", mxs, err)
	}
	if _, err := c.LookupMX(ctx, "nomx.example"); !errors.Is(err, ErrNoData) {
		t.Errorf("no MX: err = %v, want ErrNoData", err)
	}
}

func TestLookupIP(t *testing.T) {
	srv := dnstest.New(t)
	srv.AddAAAA("both.example", "2001:db8::25")
	srv.AddA("both.example", "192.0.2.25")
	srv.AddA("v4.example", "192.0.2.4")
	srv.AddAAAA("v6.example", "2001:db8::6")
	srv.AddCNAME("alias.example", "v4.example")
	srv.AddMX("noaddr.example", 10, "mx.example")
	c := newTestClient(t, srv.Addr(), time.Second)
	ctx := testContext(t)

	for _, tc := range []struct {
		host string
		want []string
	}{
		{"both.example", []string{"192.0.2.25", "2001:db8::25"}},
		{"v4.example", []string{"192.0.2.4"}},
		{"v6.example.", []string{"2001:db8::6"}},
		{"alias.example", []string{"192.0.2.4"}},
	} {
		ips, err := c.LookupIP(ctx, tc.host)
		if err != nil {
			t.Errorf("LookupIP(%s): %v", tc.host, err)
			continue
		}
		var got []string
		for _, ip := range ips {
			got = append(got, ip.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("LookupIP(%s) = %v, want %v", tc.host, got, tc.want)
		}
	}

	if _, err := c.LookupIP(ctx, "missing.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing host: %v, want ErrNotFound", err)
	}
	if _, err := c.LookupIP(ctx, "noaddr.example"); !errors.Is(err, ErrNoData) {
		t.Errorf("host without addresses: %v, want ErrNoData", err)
	}

	// IP literals need no query.
	before := srv.Queries()
	for _, lit := range []string{"192.0.2.9", "2001:db8::9", "[2001:db8::9]"} {
		ips, err := c.LookupIP(ctx, lit)
		if err != nil || len(ips) != 1 || !ips[0].Equal(net.ParseIP(strings.Trim(lit, "[]"))) {
			t.Errorf("LookupIP(%s) = %v, %v", lit, ips, err)
		}
	}
	if srv.Queries() != before {
		t.Errorf("IP literals sent %d queries", srv.Queries()-before)
	}
}

func TestLookupIPOneFamilyFailing(t *testing.T) {
	// A answers, AAAA fails: the addresses found are returned.
	addr := serveHandler(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg).SetReply(req)
		if req.Question[0].Qtype == mdns.TypeA {
			m.Answer = append(m.Answer, mustRR(t, "h.example. 60 IN A 192.0.2.7"))
		} else {
			m.Rcode = mdns.RcodeServerFailure
		}
		reply(t, w, m)
	})
	c := newTestClient(t, addr, time.Second)
	ips, err := c.LookupIP(testContext(t), "h.example")
	if err != nil || len(ips) != 1 || ips[0].String() != "192.0.2.7" {
		t.Errorf("LookupIP = %v, %v", ips, err)
	}
}

func TestLookupTXT(t *testing.T) {
	srv := dnstest.New(t)
	key := "v=DKIM1; k=rsa; p=" + strings.Repeat("QUJD", 100) // 418 bytes: two character-strings
	odd := "quote\" backslash\\ nul\x00 high\xe9 ; end"
	srv.AddTXT("sel._domainkey.example.com", key)
	srv.AddTXT("_amazonses.example.com", "token-one", "token-two")
	srv.AddTXT("odd.example.com", odd)
	srv.AddTXT("empty.example.com", "")
	c := newTestClient(t, srv.Addr(), time.Second)
	ctx := testContext(t)

	for _, tc := range []struct {
		name string
		want []string
	}{
		{"sel._domainkey.example.com", []string{key}},
		{"_amazonses.EXAMPLE.com", []string{"token-one", "token-two"}},
		{"odd.example.com", []string{odd}},
		{"empty.example.com", []string{""}},
	} {
		got, err := c.LookupTXT(ctx, tc.name)
		if err != nil {
			t.Errorf("LookupTXT(%s): %v", tc.name, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("LookupTXT(%s) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLookupTXTMultiStringRecord(t *testing.T) {
	// One record of three character-strings is one joined value
	// (RFC 7208 §3.3); two records stay two.
	addr := serveHandler(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg).SetReply(req)
		m.Answer = []mdns.RR{
			&mdns.TXT{Hdr: mdns.RR_Header{Name: req.Question[0].Name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: 60}, Txt: []string{"v=spf1 ", "include:a ", "-all"}},
			&mdns.TXT{Hdr: mdns.RR_Header{Name: req.Question[0].Name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: 60}, Txt: []string{"other"}},
		}
		reply(t, w, m)
	})
	got, err := newTestClient(t, addr, time.Second).LookupTXT(testContext(t), "spf.example")
	if want := []string{"v=spf1 include:a -all", "other"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("LookupTXT = %q, %v; want %q", got, err, want)
	}
}

func TestLookupTXTFollowsCNAMEInAnswer(t *testing.T) {
	srv := dnstest.New(t)
	srv.AddCNAME("tok._domainkey.example.com", "tok.hop.example.net")
	srv.AddCNAME("tok.hop.example.net", "tok.dkim.sesame.test")
	srv.AddTXT("tok.dkim.sesame.test", "v=DKIM1; p=xyz")
	c := newTestClient(t, srv.Addr(), time.Second)

	got, err := c.LookupTXT(testContext(t), "tok._domainkey.example.com")
	if err != nil || !slices.Equal(got, []string{"v=DKIM1; p=xyz"}) {
		t.Fatalf("LookupTXT = %q, %v", got, err)
	}
	if n := srv.Queries(); n != 1 {
		t.Errorf("%d queries, want 1: the chain was complete in the answer", n)
	}

	// A chain ending nowhere: NXDOMAIN about its last name.
	srv.AddCNAME("dangling.example.com", "gone.example.net")
	_, err = c.LookupTXT(testContext(t), "dangling.example.com")
	var le *LookupError
	if !errors.As(err, &le) || !errors.Is(err, ErrNotFound) || le.Name != "gone.example.net" {
		t.Errorf("dangling CNAME: %v, want ErrNotFound about gone.example.net", err)
	}
}

// questions records the names a test server was asked.
type questions struct {
	mu    sync.Mutex
	names []string
}

func (q *questions) add(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.names = append(q.names, strings.ToLower(name))
}

func (q *questions) list() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.names)
}

// nonRecursive is an authoritative-only server for records: asked for a name
// holding a CNAME it answers the CNAME alone, as a server that does not
// recurse into the target's zone does.
func nonRecursive(t *testing.T, records ...string) (string, *questions) {
	var rrs []mdns.RR
	for _, s := range records {
		rrs = append(rrs, mustRR(t, s))
	}
	asked := new(questions)
	addr := serveHandler(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		q := req.Question[0]
		asked.add(q.Name)
		m := new(mdns.Msg).SetReply(req)
		found := false
		for _, rr := range rrs {
			if sameName(rr.Header().Name, q.Name) {
				found = true
				if rr.Header().Rrtype == q.Qtype || rr.Header().Rrtype == mdns.TypeCNAME {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
		if !found {
			m.Rcode = mdns.RcodeNameError
		}
		reply(t, w, m)
	})
	return addr, asked
}

func TestLookupTXTRequeriesCNAMETarget(t *testing.T) {
	addr, asked := nonRecursive(t,
		"tok._domainkey.example.com. 60 IN CNAME tok.dkim.sesame.test.",
		"tok.dkim.sesame.test. 60 IN TXT \"v=DKIM1; p=k\"",
	)
	c := newTestClient(t, addr, time.Second)
	got, err := c.LookupTXT(testContext(t), "tok._domainkey.example.com")
	if err != nil || !slices.Equal(got, []string{"v=DKIM1; p=k"}) {
		t.Fatalf("LookupTXT = %q, %v", got, err)
	}
	if want := []string{"tok._domainkey.example.com.", "tok.dkim.sesame.test."}; !slices.Equal(asked.list(), want) {
		t.Errorf("asked %v, want %v", asked.list(), want)
	}
}

func TestCNAMELoopsAndLongChains(t *testing.T) {
	// Loops spread over several answers are caught by the client.
	loop, _ := nonRecursive(t,
		"a.example. 60 IN CNAME b.example.",
		"b.example. 60 IN CNAME a.example.",
	)
	var chain []string
	for i := range maxCNAMEChain + 2 {
		chain = append(chain, "c"+string(rune('a'+i))+".example. 60 IN CNAME c"+string(rune('a'+i+1))+".example.")
	}
	long, asked := nonRecursive(t, chain...)
	ctx := testContext(t)
	for _, tc := range []struct{ addr, name string }{{loop, "a.example"}, {long, "ca.example"}} {
		_, err := newTestClient(t, tc.addr, time.Second).LookupTXT(ctx, tc.name)
		if !IsTemporary(err) || !errors.Is(err, errCNAMEChain) {
			t.Errorf("%s: %v, want a temporary CNAME chain error", tc.name, err)
		}
	}
	if n := len(asked.list()); n > maxCNAMEChain+1 {
		t.Errorf("long chain: %d queries, want at most %d", n, maxCNAMEChain+1)
	}
	// A chain of exactly maxCNAMEChain is fine.
	srv := dnstest.New(t)
	for i := range maxCNAMEChain {
		srv.AddCNAME("h"+string(rune('a'+i))+".example", "h"+string(rune('a'+i+1))+".example")
	}
	srv.AddTXT("h"+string(rune('a'+maxCNAMEChain))+".example", "end")
	if got, err := newTestClient(t, srv.Addr(), time.Second).LookupTXT(ctx, "ha.example"); err != nil || got[0] != "end" {
		t.Errorf("chain of %d: %q, %v", maxCNAMEChain, got, err)
	}
}

func TestLookupCNAME(t *testing.T) {
	srv := dnstest.New(t)
	srv.AddCNAME("Tok._domainkey.Example.com", "TOK.dkim.sesame.test")
	srv.AddCNAME("tok.dkim.sesame.test", "further.example") // not followed
	srv.AddTXT("plain.example.com", "x")
	c := newTestClient(t, srv.Addr(), time.Second)
	ctx := testContext(t)

	got, err := c.LookupCNAME(ctx, "tok._domainkey.example.com.")
	if err != nil || got != "tok.dkim.sesame.test" {
		t.Errorf("LookupCNAME = %q, %v; want tok.dkim.sesame.test", got, err)
	}
	if _, err := c.LookupCNAME(ctx, "plain.example.com"); !errors.Is(err, ErrNoData) {
		t.Errorf("no CNAME: %v, want ErrNoData", err)
	}
	if _, err := c.LookupCNAME(ctx, "absent.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("absent: %v, want ErrNotFound", err)
	}
}

func TestTruncatedAnswerRetriedOverTCP(t *testing.T) {
	srv := dnstest.New(t)
	var want []string
	for i := range 10 {
		v := string(rune('a'+i)) + strings.Repeat("p", 299)
		srv.AddTXT("big.example", v)
		want = append(want, v)
	}
	got, err := newTestClient(t, srv.Addr(), time.Second).LookupTXT(testContext(t), "big.example")
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("LookupTXT: %d records, %v", len(got), err)
	}
	if n := srv.Queries(); n != 2 {
		t.Errorf("%d queries, want 2 (UDP truncated, then TCP)", n)
	}
}

func TestInvalidNames(t *testing.T) {
	srv := dnstest.New(t)
	c := newTestClient(t, srv.Addr(), time.Second)
	ctx := testContext(t)
	for _, name := range []string{"", ".", strings.Repeat("a", 64) + ".example", strings.Repeat("abcdefghi.", 26) + "com", "a..b"} {
		if _, err := c.LookupTXT(ctx, name); !errors.Is(err, ErrInvalidName) || IsTemporary(err) {
			t.Errorf("LookupTXT(%.20q…): %v, want ErrInvalidName", name, err)
		}
		if _, err := c.LookupIP(ctx, name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("LookupIP(%.20q…): %v, want ErrInvalidName", name, err)
		}
	}
	if n := srv.Queries(); n != 0 {
		t.Errorf("invalid names sent %d queries", n)
	}
}
