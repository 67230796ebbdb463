package dns

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sesamehq/sesame/internal/testkit/dnstest"
)

func TestErrorClassification(t *testing.T) {
	srv := dnstest.New(t)
	srv.AddMX("exists.example", 10, "mx.exists.example")
	srv.AddTXT("servfail.example", "hidden")
	srv.SetRcode("servfail.example", mdns.RcodeServerFailure)
	srv.SetRcode("refused.example", mdns.RcodeRefused)
	c := newTestClient(t, srv.Addr(), time.Second)
	ctx := testContext(t)

	for _, tc := range []struct {
		name      string
		notFound  bool
		noData    bool
		temporary bool
		rcode     int
	}{
		{name: "absent.example", notFound: true},
		{name: "exists.example", noData: true},
		{name: "servfail.example", temporary: true, rcode: mdns.RcodeServerFailure},
		{name: "refused.example", temporary: true, rcode: mdns.RcodeRefused},
	} {
		_, err := c.LookupTXT(ctx, tc.name)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if errors.Is(err, ErrNotFound) != tc.notFound || errors.Is(err, ErrNoData) != tc.noData || IsTemporary(err) != tc.temporary {
			t.Errorf("%s: %v: notFound=%v noData=%v temporary=%v, want %v %v %v", tc.name, err,
				errors.Is(err, ErrNotFound), errors.Is(err, ErrNoData), IsTemporary(err), tc.notFound, tc.noData, tc.temporary)
		}
		var te *TempError
		if tc.temporary && (!errors.As(err, &te) || te.Rcode != tc.rcode || te.Timeout() || te.Server != srv.Addr()) {
			t.Errorf("%s: %#v, want rcode %d from %s", tc.name, te, tc.rcode, srv.Addr())
		}
		// go-msgauth classifies with a plain type assertion: no wrapping.
		ne, isNetErr := err.(net.Error)
		if isNetErr != tc.temporary || (isNetErr && !ne.Temporary()) {
			t.Errorf("%s: net.Error %v, want %v", tc.name, isNetErr, tc.temporary)
		}
	}
}

func TestServerErrorsAreNotRetried(t *testing.T) {
	srv := dnstest.New(t)
	srv.SetRcode("servfail.example", mdns.RcodeServerFailure)
	c := newTestClient(t, srv.Addr(), time.Second)
	if _, err := c.LookupTXT(testContext(t), "servfail.example"); !IsTemporary(err) {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Queries(); n != 1 {
		t.Errorf("%d queries, want 1", n)
	}
}

func TestTimeoutIsBoundedAndTemporary(t *testing.T) {
	c := newTestClient(t, silentServer(t), 100*time.Millisecond)
	start := time.Now()
	_, err := c.LookupTXT(testContext(t), "slow.example")
	elapsed := time.Since(start)

	var te *TempError
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("err = %v, want a timeout TempError", err)
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() || !ne.Temporary() {
		t.Errorf("err is not a temporary, timed-out net.Error")
	}
	// Three attempts of 100ms each.
	if elapsed < 250*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("took %v, want about 300ms", elapsed)
	}
}

func TestContextDeadlineAndCancellation(t *testing.T) {
	c := newTestClient(t, silentServer(t), 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.LookupMX(ctx, "slow.example")
	if !IsTemporary(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("deadline: took %v", elapsed)
	}

	// Cancellation without a deadline interrupts the read too.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = c.LookupTXT(ctx, "slow.example")
	if !IsTemporary(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("cancel: took %v", elapsed)
	}
}

func TestRetriesAfterTimeouts(t *testing.T) {
	var n atomic.Int32
	addr := serveHandler(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		if n.Add(1) <= 2 {
			return // drop the first two queries
		}
		m := new(mdns.Msg).SetReply(req)
		m.Answer = append(m.Answer, mustRR(t, "late.example. 60 IN TXT \"finally\""))
		reply(t, w, m)
	})
	got, err := newTestClient(t, addr, 100*time.Millisecond).LookupTXT(testContext(t), "late.example")
	if err != nil || !slices.Equal(got, []string{"finally"}) {
		t.Errorf("LookupTXT = %q, %v", got, err)
	}
	if n.Load() != 3 {
		t.Errorf("%d queries, want 3", n.Load())
	}
}

func TestNetworkErrorIsTemporary(t *testing.T) {
	// A UDP port nobody listens on: the kernel answers ICMP port
	// unreachable, read as "connection refused".
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	_, err = newTestClient(t, closed, 200*time.Millisecond).LookupTXT(testContext(t), "x.example")
	var te *TempError
	if !errors.As(err, &te) || te.Err == nil || te.Server != closed {
		t.Errorf("err = %v, want a TempError with a network cause", err)
	}
}

func TestFailoverBetweenServers(t *testing.T) {
	good := dnstest.New(t)
	good.AddTXT("x.example", "ok")
	bad := dnstest.New(t)
	bad.SetRcode("x.example", mdns.RcodeServerFailure)
	ctx := testContext(t)

	for _, servers := range [][]string{{silentServer(t), good.Addr()}, {bad.Addr(), good.Addr()}} {
		c := &Client{servers: servers, timeout: 100 * time.Millisecond, attempts: attempts}
		got, err := c.LookupTXT(ctx, "x.example")
		if err != nil || !slices.Equal(got, []string{"ok"}) {
			t.Errorf("servers %v: %q, %v", servers, got, err)
		}
	}
	if n := bad.Queries(); n != 1 {
		t.Errorf("SERVFAILing server asked %d times, want 1", n)
	}
	// Both failing: the last error, temporary.
	bad2 := dnstest.New(t)
	bad2.SetRcode("x.example", mdns.RcodeRefused)
	c := &Client{servers: []string{bad.Addr(), bad2.Addr()}, timeout: 100 * time.Millisecond, attempts: attempts}
	_, err := c.LookupTXT(ctx, "x.example")
	var te *TempError
	if !errors.As(err, &te) || te.Rcode != mdns.RcodeRefused || te.Server != bad2.Addr() {
		t.Errorf("both failing: %v", err)
	}
}

func TestEDNSRejectedWithFORMERR(t *testing.T) {
	// An old server that does not know EDNS (RFC 6891 §7).
	addr := serveHandler(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg).SetReply(req)
		if req.IsEdns0() != nil {
			m.Rcode = mdns.RcodeFormatError
		} else {
			m.Answer = append(m.Answer, mustRR(t, "old.example. 60 IN TXT \"plain\""))
		}
		reply(t, w, m)
	})
	got, err := newTestClient(t, addr, time.Second).LookupTXT(testContext(t), "old.example")
	if err != nil || !slices.Equal(got, []string{"plain"}) {
		t.Errorf("LookupTXT = %q, %v", got, err)
	}
}

func TestRepliesThatDoNotMatch(t *testing.T) {
	// A reply with another ID first (a late or spoofed answer) is skipped
	// over UDP; a reply about another question is an error.
	addr := serveHandler(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg).SetReply(req)
		switch req.Question[0].Name {
		case "ids.example.":
			m.Id = req.Id + 1
			m.Answer = append(m.Answer, mustRR(t, "ids.example. 60 IN TXT \"spoof\""))
			reply(t, w, m)
			m.Id = req.Id
			m.Answer = []mdns.RR{mustRR(t, "ids.example. 60 IN TXT \"real\"")}
		default:
			m.Question[0].Name = "other.example."
			m.Answer = append(m.Answer, mustRR(t, "other.example. 60 IN TXT \"wrong\""))
		}
		reply(t, w, m)
	})
	c := newTestClient(t, addr, 200*time.Millisecond)
	ctx := testContext(t)
	if got, err := c.LookupTXT(ctx, "ids.example"); err != nil || !slices.Equal(got, []string{"real"}) {
		t.Errorf("ids: %q, %v", got, err)
	}
	if _, err := c.LookupTXT(ctx, "question.example"); !IsTemporary(err) || !errors.Is(err, errMismatch) {
		t.Errorf("question mismatch: %v", err)
	}
}

func TestNewClient(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:5353", "127.0.0.1:5353"},
		{"127.0.0.1", "127.0.0.1:53"},
		{"::1", "[::1]:53"},
		{"[::1]:5300", "[::1]:5300"},
		{"resolver.internal", "resolver.internal:53"},
		{"resolver.internal:1053", "resolver.internal:1053"},
	} {
		c, err := NewClient(tc.in, 0)
		if err != nil || !slices.Equal(c.Servers(), []string{tc.want}) || c.timeout != defaultTimeout {
			t.Errorf("NewClient(%q): %v, %v", tc.in, c, err)
		}
	}
	for _, bad := range []string{":53", "host:0", "host:port", "host:70000"} {
		if _, err := NewClient(bad, 0); err == nil {
			t.Errorf("NewClient(%q) accepted", bad)
		}
	}
	if _, err := NewClient("127.0.0.1:53", -time.Second); err == nil {
		t.Error("negative timeout accepted")
	}
}

func TestClientFromResolvConf(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("# test\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch example.com\noptions timeout:3 attempts:4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := newClientFromResolvConf(conf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.53:53", "[2001:db8::53]:53"}; !slices.Equal(c.Servers(), want) {
		t.Errorf("servers %v, want %v", c.Servers(), want)
	}
	if c.timeout != 3*time.Second {
		t.Errorf("timeout %v, want resolv.conf's 3s", c.timeout)
	}
	if c, _ := newClientFromResolvConf(conf, time.Second); c.timeout != time.Second {
		t.Errorf("explicit timeout not kept: %v", c.timeout)
	}

	empty := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(empty, []byte("search example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newClientFromResolvConf(empty, 0); err == nil {
		t.Error("resolv.conf without nameserver accepted")
	}
	if _, err := newClientFromResolvConf(filepath.Join(dir, "missing"), 0); err == nil {
		t.Error("missing resolv.conf accepted")
	}
}

func TestZeroClientFailsCleanly(t *testing.T) {
	var c Client
	_, err := c.LookupTXT(testContext(t), "x.example")
	if err == nil || !IsTemporary(err) || !errors.Is(err, errNoServer) {
		t.Errorf("zero Client: %v", err)
	}
}
