package dns

import (
	"context"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// testContext bounds every test's DNS traffic.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newTestClient(t *testing.T, addr string, timeout time.Duration) *Client {
	t.Helper()
	c, err := NewClient(addr, timeout)
	if err != nil {
		t.Fatalf("NewClient(%q): %v", addr, err)
	}
	return c
}

// serveHandler serves h on 127.0.0.1, UDP and TCP, until the test ends.
func serveHandler(t *testing.T, h mdns.HandlerFunc) string {
	t.Helper()
	ep, err := serve("127.0.0.1:0", h, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ep.close(); err != nil {
			t.Errorf("closing test server: %v", err)
		}
	})
	return ep.addr
}

// silentServer is a bound UDP socket that never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// reply writes m to w, failing the test on error.
func reply(t *testing.T, w mdns.ResponseWriter, m *mdns.Msg) {
	if err := w.WriteMsg(m); err != nil {
		t.Errorf("test server: writing reply: %v", err)
	}
}

func mustRR(t *testing.T, s string) mdns.RR {
	t.Helper()
	rr, err := mdns.NewRR(s)
	if err != nil {
		t.Fatalf("NewRR(%q): %v", s, err)
	}
	return rr
}
