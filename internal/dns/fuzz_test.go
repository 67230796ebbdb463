package dns

import (
	"context"
	"net"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// fuzzWriter is an mdns.ResponseWriter that keeps what is written.
type fuzzWriter struct {
	local   net.Addr
	written [][]byte
}

func (w *fuzzWriter) LocalAddr() net.Addr { return w.local }
func (w *fuzzWriter) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 5353}
}
func (w *fuzzWriter) WriteMsg(m *mdns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
func (w *fuzzWriter) Write(b []byte) (int, error) {
	w.written = append(w.written, append([]byte(nil), b...))
	return len(b), nil
}
func (w *fuzzWriter) Close() error        { return nil }
func (w *fuzzWriter) TsigStatus() error   { return nil }
func (w *fuzzWriter) TsigTimersOnly(bool) {}
func (w *fuzzWriter) Hijack()             {}

// FuzzZoneServer feeds raw packets to the zone server's query handling, as
// the network would. It must not panic, must answer at most once, and what
// it answers must be a well-formed response to the query.
func FuzzZoneServer(f *testing.F) {
	seed := func(name string, qtype uint16, edns bool) {
		q := new(mdns.Msg).SetQuestion(name, qtype)
		if edns {
			q.SetEdns0(1232, true)
		}
		b, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	seed("tok."+testZone+".", mdns.TypeTXT, false)
	seed("TOK."+testZone+".", mdns.TypeANY, true)
	seed("long."+testZone+".", mdns.TypeTXT, false)
	seed(testZone+".", mdns.TypeSOA, true)
	seed("ns."+testZone+".", mdns.TypeA, false)
	seed("broken."+testZone+".", mdns.TypeTXT, false)
	seed("example.com.", mdns.TypeMX, false)
	seed(`a\000.b.`+testZone+".", mdns.TypeTXT, true)
	f.Add([]byte{}, true)
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, true)

	txt := map[string]string{
		"tok":  "v=DKIM1; k=rsa; p=QUJD",
		"long": strings.Repeat("\x00\"\\x", 300), // escapes, several strings, > 512 bytes
	}
	z := &ZoneServer{Zone: testZone, Lookup: func(_ context.Context, label string) (string, bool, error) {
		if label == "broken" {
			return "", false, context.DeadlineExceeded
		}
		v, ok := txt[label]
		return v, ok, nil
	}}

	f.Fuzz(func(t *testing.T, packet []byte, tcp bool) {
		req := new(mdns.Msg)
		if err := req.Unpack(packet); err != nil {
			return // the server drops what does not parse
		}
		w := &fuzzWriter{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}}
		if tcp {
			w.local = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
		}
		z.ServeDNS(w, req)

		if req.Response {
			if len(w.written) != 0 {
				t.Fatal("answered a response")
			}
			return
		}
		if len(w.written) != 1 {
			t.Fatalf("%d answers written, want 1", len(w.written))
		}
		resp := new(mdns.Msg)
		if err := resp.Unpack(w.written[0]); err != nil {
			t.Fatalf("answer does not parse: %v", err)
		}
		if !resp.Response || resp.Id != req.Id {
			t.Fatalf("answer is not a response to the query: %v", resp)
		}
		if !tcp && len(w.written[0]) > max(mdns.MinMsgSize, udpLimit(req)) {
			t.Fatalf("UDP answer of %d bytes exceeds the client's limit", len(w.written[0]))
		}
	})
}

func udpLimit(req *mdns.Msg) int {
	if opt := req.IsEdns0(); opt != nil {
		return int(opt.UDPSize())
	}
	return mdns.MinMsgSize
}

// FuzzTXTEscaping checks that any octets survive the conversion to and from
// miekg/dns's presentation form, through a packed record.
func FuzzTXTEscaping(f *testing.F) {
	f.Add("v=DKIM1; k=rsa; p=QUJD")
	f.Add("\x00\"\\\xff\\065")
	f.Add(strings.Repeat("a", 600))
	f.Fuzz(func(t *testing.T, raw string) {
		if len(raw) > 4096 {
			return
		}
		parts := splitTXT(raw)
		if got := joinTXT(parts); got != raw {
			t.Fatalf("join(split(%q)) = %q", raw, got)
		}
		rr := &mdns.TXT{Hdr: mdns.RR_Header{Name: "x.", Rrtype: mdns.TypeTXT, Class: mdns.ClassINET}, Txt: parts}
		buf := make([]byte, mdns.Len(rr)+16)
		off, err := mdns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatalf("pack: %v", err)
		}
		back, _, err := mdns.UnpackRR(buf[:off], 0)
		if err != nil {
			t.Fatalf("unpack: %v", err)
		}
		if got := joinTXT(back.(*mdns.TXT).Txt); got != raw {
			t.Fatalf("wire round trip of %q gave %q", raw, got)
		}
	})
}
