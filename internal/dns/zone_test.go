package dns

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

const testZone = "dkim.sesame.test"

// tokens is a Lookup backed by a map; the label "broken" fails.
type tokens struct {
	mu   sync.Mutex
	txt  map[string]string
	seen []string
}

func (k *tokens) lookup(_ context.Context, label string) (string, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen = append(k.seen, label)
	if label == "broken" {
		return "", false, errors.New("store unavailable")
	}
	v, ok := k.txt[label]
	return v, ok, nil
}

func startZone(t *testing.T, txt map[string]string) (*ZoneServer, *tokens) {
	t.Helper()
	k := &tokens{txt: txt}
	z := &ZoneServer{Zone: testZone, Lookup: k.lookup}
	if err := z.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := z.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return z, k
}

// query asks addr directly with miekg/dns.
func query(t *testing.T, network, addr, name string, qtype uint16, ednsSize uint16) *mdns.Msg {
	t.Helper()
	q := new(mdns.Msg)
	q.SetQuestion(mdns.Fqdn(name), qtype)
	q.RecursionDesired = false
	if ednsSize > 0 {
		q.SetEdns0(ednsSize, false)
	}
	c := &mdns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, mdns.Type(qtype), network, err)
	}
	return r
}

func TestZoneServerAnswers(t *testing.T) {
	const tok = "abcdefghijklmnopqrstuvwxyz012345"
	z, k := startZone(t, map[string]string{tok: "v=DKIM1; k=rsa; p=QUJD"})
	addr := z.Addr()

	// The key: authoritative, case of the question kept, label lower-cased
	// for Lookup.
	r := query(t, "udp", addr, "ABCdefghijklmnopqrstuvwxyz012345.DKIM.sesame.test", mdns.TypeTXT, 0)
	if r.Rcode != mdns.RcodeSuccess || !r.Authoritative || r.RecursionAvailable || len(r.Answer) != 1 {
		t.Fatalf("token TXT: %v", r)
	}
	txt := r.Answer[0].(*mdns.TXT)
	if txt.Hdr.Name != "ABCdefghijklmnopqrstuvwxyz012345.DKIM.sesame.test." || strings.Join(txt.Txt, "") != "v=DKIM1; k=rsa; p=QUJD" || txt.Hdr.Ttl != txtTTL {
		t.Errorf("token TXT record: %v", txt)
	}
	k.mu.Lock()
	if len(k.seen) != 1 || k.seen[0] != tok {
		t.Errorf("Lookup saw %q, want the lower-cased token", k.seen)
	}
	k.mu.Unlock()

	soaInAuthority := func(r *mdns.Msg) bool {
		if len(r.Ns) != 1 {
			return false
		}
		soa, ok := r.Ns[0].(*mdns.SOA)
		return ok && soa.Hdr.Name == testZone+"." && soa.Minttl == negativeTTL && soa.Hdr.Ttl == negativeTTL
	}
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer string // the answer's type, "" for none
		aa     bool
	}{
		{tok + "." + testZone, mdns.TypeA, mdns.RcodeSuccess, "", true},           // NODATA
		{tok + "." + testZone, mdns.TypeANY, mdns.RcodeSuccess, "TXT", true},      // RFC 8482: the one type there is
		{"unknowntoken." + testZone, mdns.TypeTXT, mdns.RcodeNameError, "", true}, // NXDOMAIN
		{"a.b." + testZone, mdns.TypeTXT, mdns.RcodeNameError, "", true},          // deeper: nothing
		{`we\.ird.` + testZone, mdns.TypeTXT, mdns.RcodeNameError, "", true},      // cannot be a token
		{testZone, mdns.TypeSOA, mdns.RcodeSuccess, "SOA", true},                  // apex
		{testZone, mdns.TypeNS, mdns.RcodeSuccess, "NS", true},                    // apex
		{testZone, mdns.TypeTXT, mdns.RcodeSuccess, "", true},                     // apex NODATA
		{"ns." + testZone, mdns.TypeA, mdns.RcodeSuccess, "A", true},              // itself
		{"ns." + testZone, mdns.TypeAAAA, mdns.RcodeSuccess, "", true},            // bound on IPv4
		{"example.com", mdns.TypeTXT, mdns.RcodeRefused, "", false},               // not our zone
		{"sesame.test", mdns.TypeSOA, mdns.RcodeRefused, "", false},               // the parent neither
		{"broken." + testZone, mdns.TypeTXT, mdns.RcodeServerFailure, "", false},  // Lookup failed
		{testZone, mdns.TypeAXFR, mdns.RcodeRefused, "", false},                   // no transfers
	} {
		r := query(t, "udp", addr, tc.name, tc.qtype, 0)
		gotType := ""
		if len(r.Answer) > 0 {
			gotType = mdns.Type(r.Answer[0].Header().Rrtype).String()
		}
		if r.Rcode != tc.rcode || gotType != tc.answer || r.Authoritative != tc.aa {
			t.Errorf("%s %s: rcode %s answer %q AA %v; want %s %q %v", tc.name, mdns.Type(tc.qtype),
				rcodeName(r.Rcode), gotType, r.Authoritative, rcodeName(tc.rcode), tc.answer, tc.aa)
		}
		if negative := tc.aa && tc.answer == ""; negative && !soaInAuthority(r) {
			t.Errorf("%s %s: negative answer without the SOA in authority: %v", tc.name, mdns.Type(tc.qtype), r.Ns)
		}
	}

	r = query(t, "udp", addr, testZone, mdns.TypeSOA, 0)
	soa := r.Answer[0].(*mdns.SOA)
	if soa.Ns != "ns."+testZone+"." || soa.Mbox != "hostmaster."+testZone+"." {
		t.Errorf("SOA %v", soa)
	}
	r = query(t, "udp", addr, testZone, mdns.TypeNS, 0)
	if ns := r.Answer[0].(*mdns.NS); ns.Ns != "ns."+testZone+"." {
		t.Errorf("NS %v", ns)
	}
	r = query(t, "udp", addr, "ns."+testZone, mdns.TypeA, 0)
	if a := r.Answer[0].(*mdns.A); !a.A.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("ns A %v", a)
	}
}

func TestZoneServerLongRecords(t *testing.T) {
	// A 4096-bit key: about 750 bytes, more than one character-string and
	// more than a 512-byte UDP answer.
	long := "v=DKIM1; k=rsa; p=" + strings.Repeat("MIIC", 185)
	z, _ := startZone(t, map[string]string{"big": long, "small": "v=DKIM1; p=x"})
	addr := z.Addr()
	name := "big." + testZone

	check := func(r *mdns.Msg, how string) {
		t.Helper()
		if r.Truncated || len(r.Answer) != 1 {
			t.Fatalf("%s: tc=%v answers=%d", how, r.Truncated, len(r.Answer))
		}
		parts := r.Answer[0].(*mdns.TXT).Txt
		for _, p := range parts {
			if len(p) > 255 {
				t.Errorf("%s: character-string of %d bytes", how, len(p))
			}
		}
		if len(parts) != 3 || strings.Join(parts, "") != long {
			t.Errorf("%s: %d parts, value intact %v", how, len(parts), strings.Join(parts, "") == long)
		}
	}
	// UDP without EDNS: 512 bytes, so TC and no records (RFC 2181 §9).
	r := query(t, "udp", addr, name, mdns.TypeTXT, 0)
	if !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("UDP/512: tc=%v answers=%d, want truncated", r.Truncated, len(r.Answer))
	}
	check(query(t, "tcp", addr, name, mdns.TypeTXT, 0), "TCP")
	r = query(t, "udp", addr, name, mdns.TypeTXT, 1232)
	check(r, "UDP with EDNS")
	if opt := r.IsEdns0(); opt == nil || opt.UDPSize() != ednsSize {
		t.Errorf("EDNS answer without our OPT: %v", opt)
	}
	// A small answer to a query without EDNS carries no OPT (RFC 6891 §7).
	if r := query(t, "udp", addr, "small."+testZone, mdns.TypeTXT, 0); r.IsEdns0() != nil || len(r.Answer) != 1 {
		t.Errorf("no-EDNS query: %v", r)
	}
}

func TestZoneServerProtocolErrors(t *testing.T) {
	z, _ := startZone(t, nil)
	c := &mdns.Client{Timeout: 5 * time.Second}

	// EDNS version 1: BADVERS (RFC 6891 §6.1.3).
	q := new(mdns.Msg).SetQuestion("x."+testZone+".", mdns.TypeTXT)
	q.SetEdns0(1232, false)
	q.IsEdns0().SetVersion(1)
	r, _, err := c.Exchange(q, z.Addr())
	if err != nil || r.Rcode != mdns.RcodeBadVers {
		t.Errorf("EDNS version 1: %v, %v", r, err)
	}

	// Opcodes other than QUERY: NOTIMP.
	q = new(mdns.Msg).SetQuestion("x."+testZone+".", mdns.TypeTXT)
	q.Opcode = mdns.OpcodeStatus
	if r, _, err := c.Exchange(q, z.Addr()); err != nil || r.Rcode != mdns.RcodeNotImplemented {
		t.Errorf("STATUS: %v, %v", r, err)
	}

	// Class CH: REFUSED.
	q = new(mdns.Msg).SetQuestion("version.bind.", mdns.TypeTXT)
	q.Question[0].Qclass = mdns.ClassCHAOS
	if r, _, err := c.Exchange(q, z.Addr()); err != nil || r.Rcode != mdns.RcodeRefused {
		t.Errorf("CHAOS: %v, %v", r, err)
	}
}

func TestZoneServerLifecycle(t *testing.T) {
	lookup := func(context.Context, string) (string, bool, error) { return "", false, nil }

	var never ZoneServer
	if err := never.Close(); err != nil || never.Addr() != "" {
		t.Errorf("Close before Start: %v", err)
	}
	for _, bad := range []*ZoneServer{{Zone: "", Lookup: lookup}, {Zone: "a..b", Lookup: lookup}, {Zone: testZone}} {
		if err := bad.Start("127.0.0.1:0"); err == nil {
			bad.Close()
			t.Errorf("Start accepted zone %q, lookup set %v", bad.Zone, bad.Lookup != nil)
		}
	}

	z := &ZoneServer{Zone: testZone, Lookup: lookup}
	if err := z.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := z.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start accepted")
	}

	// Binding the same address again fails and leaves nothing bound.
	other := &ZoneServer{Zone: testZone, Lookup: lookup}
	if err := other.Start(z.Addr()); err == nil {
		t.Error("Start on a bound address succeeded")
	}
	if other.Addr() != "" {
		t.Errorf("failed Start left Addr %q", other.Addr())
	}
	if err := other.Close(); err != nil {
		t.Errorf("Close after a failed Start: %v", err)
	}

	addr := z.Addr()
	if err := z.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := z.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := z.Start("127.0.0.1:0"); err == nil {
		t.Error("Start after Close accepted")
	}
	// The port is free again, for UDP and TCP.
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("UDP port not released: %v", err)
	}
	pc.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("TCP port not released: %v", err)
	}
	ln.Close()
}

func TestZoneServerCloseCancelsLookups(t *testing.T) {
	entered := make(chan struct{})
	z := &ZoneServer{Zone: testZone, Lookup: func(ctx context.Context, _ string) (string, bool, error) {
		close(entered)
		<-ctx.Done()
		return "", false, ctx.Err()
	}}
	if err := z.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() {
		q := new(mdns.Msg).SetQuestion("slow."+testZone+".", mdns.TypeTXT)
		c := &mdns.Client{Timeout: time.Second}
		_, _, _ = c.Exchange(q, z.Addr()) // the answer (SERVFAIL) is not the point
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("query never reached Lookup")
	}
	start := time.Now()
	if err := z.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > lookupTimeout/2 {
		t.Errorf("Close took %v: the lookup was not cancelled", d)
	}
}

func TestZoneServerUnencodableRecord(t *testing.T) {
	// A value too big for any DNS message is SERVFAIL, not silence.
	z, _ := startZone(t, map[string]string{"huge": strings.Repeat("p", 70000)})
	r := query(t, "tcp", z.Addr(), "huge."+testZone, mdns.TypeTXT, 0)
	if r.Rcode != mdns.RcodeServerFailure || len(r.Answer) != 0 {
		t.Errorf("huge record: %v", r)
	}
}
