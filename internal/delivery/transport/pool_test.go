package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/testkit/certs"
)

// numbered is body with a first header line that tells the messages apart.
func numbered(i int) []byte {
	return append(fmt.Appendf(nil, "X-N: %d\r\n", i), body...)
}

// twoDomains routes a.test to mx.a.test (192.0.2.1) and b.test to mx.b.test
// (192.0.2.2), each on its own server.
func twoDomains(t *testing.T, addrA, addrB string) *Transport {
	t.Helper()
	res := &stubResolver{
		mx: map[string][]*net.MX{"a.test": {{Host: "mx.a.test", Pref: 10}}, "b.test": {{Host: "mx.b.test", Pref: 10}}},
		ip: map[string][]net.IP{"mx.a.test": {net.ParseIP("192.0.2.1")}, "mx.b.test": {net.ParseIP("192.0.2.2")}},
	}
	tn := newTestNet()
	tn.route("192.0.2.1:25", addrA)
	tn.route("192.0.2.2:25", addrB)
	tr := &Transport{Resolver: res, Hostname: "sesame.test", Dial: tn.Dial, Timeouts: fastTimeouts, Logger: testLogger(t)}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestSessionReusedAcrossMessages(t *testing.T) {
	for _, withTLSOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("STARTTLS=%v", withTLSOn), func(t *testing.T) {
			var opts []recOption
			if withTLSOn {
				opts = append(opts, withTLS(certs.SelfSigned(t, "mx1.example.test").TLS))
			}
			sink := newRecSink(t, opts...)
			tr, _, _ := mxTransport(t, sink.addr())
			const n = 30
			for i := range n {
				rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: numbered(i)})
				checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, RemoteMTA: "mx1.example.test", RemoteIP: "192.0.2.1"})
				if rs[0].TLS != withTLSOn {
					t.Errorf("message %d: TLS = %v", i, rs[0].TLS)
				}
			}
			msgs := sink.messages()
			if len(msgs) != n {
				t.Fatalf("server got %d messages, want %d", len(msgs), n)
			}
			for i, m := range msgs {
				if !bytes.Equal(m.data, numbered(i)) || m.from != "s@sesame.test" || !slices.Equal(m.to, []string{"b@example.test"}) {
					t.Errorf("message %d arrived as from %q to %q data %q", i, m.from, m.to, m.data)
				}
			}
			st := sink.stats()
			wantHandshakes := 0
			if withTLSOn {
				wantHandshakes = 1
			}
			if st.accepts != 1 || st.handshakes != wantHandshakes {
				t.Errorf("%d connections and %d TLS handshakes for %d messages, want 1 and %d", st.accepts, st.handshakes, n, wantHandshakes)
			}
		})
	}
}

// A cached session the server has since closed costs the message nothing:
// it goes out on a new session, and no error surfaces.
func TestServerClosedIdleSession(t *testing.T) {
	cases := map[string]struct {
		opts []recOption
		drop bool
	}{
		"connection closed": {drop: true},
		"421 idle timeout":  {opts: []recOption{withIdleTimeout(300 * time.Millisecond)}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			sink := newRecSink(t, c.opts...)
			tr, _, _ := mxTransport(t, sink.addr())
			m := Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body}
			checkResult(t, deliver(t, tr, m)[0], Result{Outcome: Delivered, Code: 250})
			if c.drop {
				sink.dropAll()
			}
			sink.waitFor(t, "the server to end the idle connection", 5*time.Second, func() bool { return sink.ended == 1 })
			checkResult(t, deliver(t, tr, m)[0], Result{Outcome: Delivered, Code: 250, Text: sent})
			if st := sink.stats(); st.accepts != 2 || st.msgs != 2 {
				t.Errorf("stats %+v: want the second message on a second connection", st)
			}
		})
	}
}

// A transaction that ends without the final "." is reset before the
// session carries the next one (RFC 5321 §4.1.1.5).
func TestRsetBeforeReuse(t *testing.T) {
	sink := newRecSink(t, withRefused("gone@example.test", "lost@example.test"))
	tr, _, _ := mxTransport(t, sink.addr())
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"gone@example.test", "lost@example.test"}, Data: body})
	for _, r := range rs {
		checkResult(t, r, Result{Outcome: Permanent, Code: 550, Enhanced: "5.1.1", Text: "550 5.1.1 no such user"})
	}
	rs = deliver(t, tr, Message{From: "s@sesame.test", To: []string{"ok@example.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250})
	if st := sink.stats(); st.accepts != 1 || st.msgs != 1 {
		t.Fatalf("stats %+v: want both transactions on one connection", st)
	}
	stream := sink.stream(0)
	first := strings.Index(stream, "MAIL FROM:")
	second := strings.LastIndex(stream, "MAIL FROM:")
	rset := strings.Index(stream, "RSET\r\n")
	if rset < first || rset > second || strings.Count(stream, "RSET\r\n") != 1 {
		t.Errorf("no RSET between the transactions: %q", stream)
	}
}

func TestMaxPerHost(t *testing.T) {
	sink := newRecSink(t, withSlowData(30*time.Millisecond))
	tr, _, _ := mxTransport(t, sink.addr())
	tr.MaxPerHost = 2
	const n = 10
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type outcome struct {
		rs  []Result
		err error
	}
	done := make(chan outcome, n)
	for i := range n {
		go func() {
			rs, err := tr.Deliver(ctx, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: numbered(i)})
			done <- outcome{rs, err}
		}()
	}
	for range n {
		o := <-done
		if o.err != nil {
			t.Fatalf("Deliver: %v", o.err)
		}
		checkResult(t, o.rs[0], Result{Outcome: Delivered, Code: 250})
	}
	if st := sink.stats(); st.maxOpen > 2 || st.accepts > 2 || st.msgs != n {
		t.Errorf("stats %+v: want at most 2 connections at once and %d messages", st, n)
	}
}

// A server that never greets holds its own slots and nothing else: another
// server's message goes out at once, and an attempt waiting for one of its
// slots ends with its context.
func TestSilentHostDoesNotStallOthers(t *testing.T) {
	silent, accepted := silentServer(t)
	good := newRecSink(t)
	tr := twoDomains(t, silent, good.addr())
	tr.MaxPerHost = 1

	stuckCtx, unstick := context.WithCancel(context.Background())
	defer unstick()
	type outcome struct {
		rs  []Result
		err error
	}
	stuck := make(chan outcome, 2)
	for range 2 {
		go func() {
			rs, err := tr.Deliver(stuckCtx, Message{From: "s@sesame.test", To: []string{"x@a.test"}, Data: body})
			stuck <- outcome{rs, err}
		}()
	}
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the silent server was never reached")
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rs, err := tr.Deliver(ctx, Message{From: "s@sesame.test", To: []string{"y@b.test"}, Data: body})
	if err != nil || rs[0].Outcome != Delivered {
		t.Fatalf("Deliver to the good server = %+v, %v", rs, err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("delivery to the good server took %v", elapsed)
	}
	select {
	case o := <-stuck:
		t.Fatalf("a delivery to the silent server ended early: %+v", o)
	default:
	}

	unstick()
	for range 2 {
		select {
		case o := <-stuck:
			if !errors.Is(o.err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", o.err)
			}
			checkResult(t, o.rs[0], Result{Outcome: Transient, Code: 0, Enhanced: "4.3.0"})
		case <-time.After(5 * time.Second):
			t.Fatal("a delivery to the silent server outlived its context")
		}
	}
	if n := len(accepted); n != 0 {
		t.Errorf("%d more connections to the silent server; the second attempt must wait for the only slot", n)
	}
}

func TestIdleTimeout(t *testing.T) {
	sink := newRecSink(t)
	tr, _, _ := mxTransport(t, sink.addr())
	tr.IdleTimeout = 100 * time.Millisecond
	m := Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body}
	checkResult(t, deliver(t, tr, m)[0], Result{Outcome: Delivered, Code: 250})
	sink.waitFor(t, "the idle session to be closed", 5*time.Second, func() bool { return sink.ended == 1 })
	if s := sink.stream(0); !strings.HasSuffix(s, "QUIT\r\n") {
		t.Errorf("the idle session ended without QUIT: %q", s)
	}
	checkResult(t, deliver(t, tr, m)[0], Result{Outcome: Delivered, Code: 250})
	if st := sink.stats(); st.accepts != 2 {
		t.Errorf("%d connections, want 2", st.accepts)
	}
}

func TestCloseQuitsIdleSessions(t *testing.T) {
	a, b := newRecSink(t), newRecSink(t)
	tr := twoDomains(t, a.addr(), b.addr())
	m := Message{From: "s@sesame.test", To: []string{"x@a.test", "y@b.test"}, Data: body}
	for _, r := range deliver(t, tr, m) {
		checkResult(t, r, Result{Outcome: Delivered, Code: 250})
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*recSink{a, b} {
		s.waitFor(t, "the session to end at Close", 5*time.Second, func() bool { return s.ended == 1 })
		if got := s.stream(0); !strings.HasSuffix(got, "QUIT\r\n") {
			t.Errorf("session ended without QUIT: %q", got)
		}
	}
	// After Close a delivery still works, and its session is not kept.
	checkResult(t, deliver(t, tr, Message{From: "s@sesame.test", To: []string{"x@a.test"}, Data: body})[0], Result{Outcome: Delivered, Code: 250})
	a.waitFor(t, "the session after Close to end", 5*time.Second, func() bool { return a.ended == 2 })
}

func TestMaxSessionMessages(t *testing.T) {
	sink := newRecSink(t)
	tr, _, _ := mxTransport(t, sink.addr())
	tr.MaxSessionMessages = 3
	for i := range 7 {
		checkResult(t, deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: numbered(i)})[0], Result{Outcome: Delivered, Code: 250})
	}
	sink.waitFor(t, "two retired sessions", 5*time.Second, func() bool { return sink.ended >= 2 })
	if st := sink.stats(); st.accepts != 3 || st.ended != 2 || st.msgs != 7 {
		t.Errorf("stats %+v: want 3 connections, the first 2 retired", st)
	}
}

// A message that requires TLS never goes out on a plaintext session, even
// one cached for the same server: here the server behind the address
// changes, and only a new session reaches the one that offers STARTTLS.
func TestRequireTLSNeverReusesPlaintext(t *testing.T) {
	plain := newRecSink(t)
	secure := newRecSink(t, withTLS(certs.SelfSigned(t, "mx1.example.test").TLS))
	tr, _, tn := mxTransport(t, plain.addr())
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250})
	tn.route("192.0.2.1:25", secure.addr())

	rs = deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body, RequireTLS: true})
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250})
	if !rs[0].TLS || plain.stats().msgs != 1 || secure.stats().msgs != 1 {
		t.Errorf("TLS=%v, plaintext server got %d messages, TLS server %d; want the second over TLS",
			rs[0].TLS, plain.stats().msgs, secure.stats().msgs)
	}
}

// A session opened for an opportunistic message took any certificate, so a
// message that requires a verified one opens its own; later ones reuse it.
func TestVerifiedSessionForVerifiedTLS(t *testing.T) {
	cert := certs.SelfSigned(t, "mx1.example.test")
	sink := newRecSink(t, withTLS(cert.TLS))
	tr, _, _ := mxTransport(t, sink.addr())
	tr.VerifyRequiredTLS = true
	tr.TLSConfig = &tls.Config{RootCAs: cert.Pool}
	steps := []struct {
		require               bool
		wantConns, wantShakes int
	}{
		{false, 1, 1},
		{true, 2, 2}, // the opportunistic session does not fit
		{true, 2, 2}, // the verified one does
		{false, 2, 2},
	}
	for i, st := range steps {
		rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body, RequireTLS: st.require})
		checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250})
		if got := sink.stats(); got.accepts != st.wantConns || got.handshakes != st.wantShakes {
			t.Errorf("step %d: %d connections, %d handshakes; want %d, %d", i, got.accepts, got.handshakes, st.wantConns, st.wantShakes)
		}
	}
}

// Opening a session to an address whose other sessions fill MaxPerHost
// closes an idle one first, so the server never sees more connections than
// the cap.
func TestIdleSessionMakesWayWithinCap(t *testing.T) {
	sink := newRecSink(t)
	tr := twoDomains(t, sink.addr(), sink.addr())
	tr.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) { // one address for both names
		var d net.Dialer
		return d.DialContext(ctx, network, sink.addr())
	}
	tr.Resolver.(*stubResolver).ip["mx.b.test"] = []net.IP{net.ParseIP("192.0.2.1")}
	tr.MaxPerHost = 1
	for _, rcpt := range []string{"x@a.test", "y@b.test"} {
		checkResult(t, deliver(t, tr, Message{From: "s@sesame.test", To: []string{rcpt}, Data: body})[0], Result{Outcome: Delivered, Code: 250})
	}
	quit, second := sink.eventIndex("0 read QUIT\r\n"), sink.eventIndex("1 accept")
	if quit < 0 || second < 0 || quit > second {
		t.Errorf("the first session was quit at event %d, the second connected at %d: want it quit to make way", quit, second)
	}
}
