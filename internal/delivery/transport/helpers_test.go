package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubResolver answers from maps; every other name is NXDOMAIN, so a test
// can never reach real DNS.
type stubResolver struct {
	mx    map[string][]*net.MX
	ip    map[string][]net.IP
	mxErr map[string]error
	ipErr map[string]error

	mu      sync.Mutex
	queries []string // "MX name" / "IP name", in order
}

func (r *stubResolver) LookupMX(_ context.Context, domain string) ([]*net.MX, error) {
	r.log("MX " + domain)
	if err := r.mxErr[domain]; err != nil {
		return nil, err
	}
	if mxs, ok := r.mx[domain]; ok {
		return mxs, nil
	}
	return nil, fmt.Errorf("stub: MX %s: %w", domain, ErrNotFound)
}

func (r *stubResolver) LookupIP(_ context.Context, host string) ([]net.IP, error) {
	r.log("IP " + host)
	if err := r.ipErr[host]; err != nil {
		return nil, err
	}
	if ips, ok := r.ip[host]; ok {
		return ips, nil
	}
	return nil, fmt.Errorf("stub: A/AAAA %s: %w", host, ErrNotFound)
}

func (r *stubResolver) log(q string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queries = append(r.queries, q)
}

func (r *stubResolver) asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.queries...)
}

// tempErr is a DNS failure that says it is temporary (SERVFAIL, timeout).
type tempErr struct{ wrapped error }

func (e tempErr) Error() string   { return "stub: SERVFAIL" }
func (e tempErr) Temporary() bool { return true }
func (e tempErr) Unwrap() error   { return e.wrapped }

// testNet is a fake network of TEST-NET-1 addresses (RFC 5737) routed to
// loopback listeners; an address it does not know is refused, so tests fail
// closed.
type testNet struct {
	mu     sync.Mutex
	routes map[string]string // "192.0.2.x:25" -> "127.0.0.1:port"
	dials  []string
}

func newTestNet() *testNet { return &testNet{routes: map[string]string{}} }

func (n *testNet) route(virtual, real string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.routes[virtual] = real
}

func (n *testNet) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dials = append(n.dials, addr)
	real, ok := n.routes[addr]
	n.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("testnet: no route to %s", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, real)
}

func (n *testNet) dialed() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.dials...)
}

// closedAddr is a loopback address where nothing listens: connecting to it
// is refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fastTimeouts keep a broken test from hanging for the RFC's minutes.
var fastTimeouts = Timeouts{
	Connect: 5 * time.Second, Greeting: 5 * time.Second, EHLO: 5 * time.Second,
	StartTLS: 5 * time.Second, Mail: 5 * time.Second, Rcpt: 5 * time.Second,
	DataInit: 5 * time.Second, DataBlock: 5 * time.Second, DataEnd: 5 * time.Second,
	Quit: 5 * time.Second,
}

// fakeServer is a hand-written SMTP server for what go-smtp's server will not
// do: it offers STARTTLS, answers the STARTTLS command with starttls
// verbatim (then hangs up if hangUp), and accepts any transaction in
// plaintext. It serves connections until the test ends.
func fakeServer(t *testing.T, starttls string, hangUp bool) (addr string, got func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		lines []string
		wg    sync.WaitGroup
	)
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	serve := func(c net.Conn) {
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		io.WriteString(c, "220 fake.test ESMTP\r\n")
		for range 100 {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			mu.Lock()
			lines = append(lines, line)
			mu.Unlock()
			verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
			switch verb {
			case "EHLO":
				io.WriteString(c, "250-fake.test\r\n250 STARTTLS\r\n")
			case "STARTTLS":
				io.WriteString(c, starttls)
				if hangUp {
					return
				}
			case "DATA":
				io.WriteString(c, "354 go on\r\n")
				for range 10000 {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
				}
				io.WriteString(c, "250 2.0.0 fake queued\r\n")
			case "QUIT":
				io.WriteString(c, "221 bye\r\n")
				return
			default:
				io.WriteString(c, "250 2.0.0 ok\r\n")
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); serve(c) }()
		}
	}()
	return ln.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}
