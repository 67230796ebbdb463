package benchdns

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"

	sdns "github.com/sesamehq/sesame/internal/dns"
)

// A record longer than 512 bytes, like an RSA-2048 key, so the forwarded
// answer needs EDNS or TCP.
var record = "v=DKIM1; k=rsa; p=" + strings.Repeat("A", 600)

func start(t *testing.T) *Server {
	t.Helper()
	zone := &sdns.ZoneServer{Zone: "dkim.sesame.test", Lookup: func(_ context.Context, label string) (string, bool, error) {
		if label == "tok1" {
			return record, true, nil
		}
		return "", false, nil
	}}
	if err := zone.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zone.Close() })
	s, err := Listen("127.0.0.1:0", Config{Domains: []string{"Bench.Test."}, Zone: "dkim.sesame.test", Forward: zone.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSesameVerifiesThroughIt(t *testing.T) {
	s := start(t)
	c, err := sdns.NewClient(s.Addr(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Any token of a sending domain is CNAME'd into the zone.
	for _, tok := range []string{"tok1", "anyothertoken"} {
		got, err := c.LookupCNAME(ctx, tok+"._domainkey.bench.test")
		if err != nil || got != tok+".dkim.sesame.test" {
			t.Errorf("CNAME %s: %q, %v", tok, got, err)
		}
	}
	if _, err := c.LookupCNAME(ctx, "tok1._domainkey.other.test"); !errors.Is(err, sdns.ErrNotFound) {
		t.Errorf("another domain: %v, want NXDOMAIN", err)
	}
	if _, err := c.LookupMX(ctx, "simulator.amazonses.com"); !errors.Is(err, sdns.ErrNotFound) {
		t.Errorf("outside names: %v, want NXDOMAIN", err)
	}
}

func TestKeyLookups(t *testing.T) {
	s := start(t)
	// The key through the CNAME, as a DKIM verifier asks, and directly.
	for _, name := range []string{"tok1._domainkey.bench.test", "tok1.dkim.sesame.test"} {
		txts, err := LookupTXT(s.Addr(), name)
		if err != nil || len(txts) != 1 || txts[0] != record {
			t.Errorf("TXT %s: %d records, %v", name, len(txts), err)
		}
	}
	if _, err := LookupTXT(s.Addr(), "nope.dkim.sesame.test"); err == nil {
		t.Error("unknown token answered")
	}
	// A plain 512-byte UDP query gets a truncated answer, not a broken one.
	q := new(dns.Msg)
	q.SetQuestion("tok1.dkim.sesame.test.", dns.TypeTXT)
	r, _, err := (&dns.Client{Net: "udp"}).Exchange(q, s.Addr())
	if err != nil || !r.Truncated {
		t.Errorf("512-byte UDP: truncated=%v err=%v", r != nil && r.Truncated, err)
	}
	// The domain itself exists.
	q.SetQuestion("bench.test.", dns.TypeA)
	if r, _, err := (&dns.Client{Net: "udp"}).Exchange(q, s.Addr()); err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("apex: %v %v", r, err)
	}
}

func TestForwardFailureIsServfail(t *testing.T) {
	s, err := Listen("127.0.0.1:0", Config{Zone: "dkim.sesame.test", Forward: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.client.Timeout = 200e6
	q := new(dns.Msg)
	q.SetQuestion("x.dkim.sesame.test.", dns.TypeTXT)
	r, _, err := (&dns.Client{Net: "tcp"}).Exchange(q, s.Addr())
	if err != nil || r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("%v %v", r, err)
	}
	if _, err := Listen("127.0.0.1:0", Config{}); err == nil {
		t.Error("no zone accepted")
	}
}
