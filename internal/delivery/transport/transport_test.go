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

	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/testkit/certs"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
)

var body = []byte("From: a@sender.test\r\nTo: b@example.test\r\nSubject: test\r\n\r\n" +
	".a line starting with a dot\r\n..and two\r\n.\r\nend\r\n")

const sent = "250 2.0.0 OK: queued" // go-smtp's server reply to a message it took

// mxTransport delivers example.test through the test network to the sinks
// given, as mx1.example.test (preference 10, 192.0.2.1), mx2 (20, 192.0.2.2), …
func mxTransport(t *testing.T, sinkAddrs ...string) (*Transport, *stubResolver, *testNet) {
	t.Helper()
	res := &stubResolver{mx: map[string][]*net.MX{}, ip: map[string][]net.IP{}}
	tn := newTestNet()
	for i, addr := range sinkAddrs {
		host := fmt.Sprintf("mx%d.example.test", i+1)
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		res.mx["example.test"] = append(res.mx["example.test"], &net.MX{Host: host + ".", Pref: uint16(10 * (i + 1))})
		res.ip[host] = []net.IP{net.ParseIP(ip)}
		tn.route(ip+":25", addr)
	}
	tr := &Transport{
		Resolver: res,
		Hostname: "sesame.test",
		Dial:     tn.Dial,
		Timeouts: fastTimeouts,
		Logger:   testLogger(t),
	}
	t.Cleanup(func() { tr.Close() }) // before the servers' cleanups: they wait for connections to end
	return tr, res, tn
}

func deliver(t *testing.T, tr *Transport, m Message) []Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rs, err := tr.Deliver(ctx, m)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if len(rs) != len(m.To) {
		t.Fatalf("got %d results for %d recipients", len(rs), len(m.To))
	}
	for i, r := range rs {
		if r.Rcpt != m.To[i] {
			t.Errorf("results[%d].Rcpt = %q, want %q", i, r.Rcpt, m.To[i])
		}
	}
	return rs
}

func checkResult(t *testing.T, got Result, want Result) {
	t.Helper()
	// Enhanced and Text are checked when the case gives them.
	if got.Outcome != want.Outcome || got.Code != want.Code || (want.Enhanced != "" && got.Enhanced != want.Enhanced) {
		t.Errorf("%s: got %v %d %q (%q), want %v %d %q", got.Rcpt, got.Outcome, got.Code, got.Enhanced, got.Text,
			want.Outcome, want.Code, want.Enhanced)
	}
	if want.Text != "" && got.Text != want.Text {
		t.Errorf("%s: Text = %q, want %q", got.Rcpt, got.Text, want.Text)
	}
	if want.RemoteMTA != "" && (got.RemoteMTA != want.RemoteMTA || got.RemoteIP != want.RemoteIP) {
		t.Errorf("%s: remote = %s [%s], want %s [%s]", got.Rcpt, got.RemoteMTA, got.RemoteIP, want.RemoteMTA, want.RemoteIP)
	}
}

func TestRelayOneTransactionForAllDomains(t *testing.T) {
	sink := smtpsink.New(t)
	tr := &Transport{Relay: sink.Addr(), Hostname: "sesame.test", Timeouts: fastTimeouts, Logger: testLogger(t)}
	t.Cleanup(func() { tr.Close() })
	m := Message{From: "bounce@sesame.test", To: []string{"b@example.test", "c@other.test"}, Data: body}
	rs := deliver(t, tr, m)
	for _, r := range rs {
		checkResult(t, r, Result{Outcome: Delivered, Code: 250, Enhanced: "2.0.0", Text: sent, RemoteMTA: "127.0.0.1", RemoteIP: "127.0.0.1"})
		if r.TLS {
			t.Errorf("%s: TLS = true with a sink that offers none", r.Rcpt)
		}
	}
	msgs := sink.Wait(t, 1, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("sink got %d messages, want 1 transaction", len(msgs))
	}
	got := msgs[0]
	if got.From != m.From || !slices.Equal(got.To, m.To) || got.Helo != "sesame.test" {
		t.Errorf("envelope = from %q to %q helo %q", got.From, got.To, got.Helo)
	}
	if !bytes.Equal(got.Data, body) {
		t.Errorf("data = %q, want %q", got.Data, body)
	}
}

// The bytes received are the bytes given, across blocks and dot-stuffing.
func TestDataArrivesUnchanged(t *testing.T) {
	sink := smtpsink.New(t)
	tr, _, _ := mxTransport(t, sink.Addr())
	var b bytes.Buffer
	b.WriteString("Subject: big\r\n\r\n")
	for i := 0; b.Len() < 300<<10; i++ {
		fmt.Fprintf(&b, "%s line %d %s\r\n", strings.Repeat(".", i%3), i, strings.Repeat("x", i%70))
	}
	data := b.Bytes()
	rs := deliver(t, tr, Message{From: "", To: []string{"b@example.test"}, Data: data})
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250})
	got := sink.Wait(t, 1, 5*time.Second)[0]
	if !bytes.Equal(got.Data, data) {
		t.Errorf("received %d bytes, differing from the %d sent", len(got.Data), len(data))
	}
	if got.From != "" {
		t.Errorf("null sender arrived as %q", got.From)
	}
}

func TestMXInPreferenceOrderPastARefusedConnection(t *testing.T) {
	sink := smtpsink.New(t)
	tr, res, tn := mxTransport(t, closedAddr(t), sink.Addr())
	slices.Reverse(res.mx["example.test"]) // the resolver's order is not the preference order
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, RemoteMTA: "mx2.example.test", RemoteIP: "192.0.2.2"})
	if got, want := tn.dialed(), []string{"192.0.2.1:25", "192.0.2.2:25"}; !slices.Equal(got, want) {
		t.Errorf("dialed %v, want %v", got, want)
	}
	sink.Wait(t, 1, 5*time.Second)
}

func TestAllMXUnreachableIsTransient(t *testing.T) {
	tr, _, tn := mxTransport(t, closedAddr(t), closedAddr(t))
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Transient, Code: 0, Enhanced: "4.4.1"})
	if !strings.Contains(rs[0].Text, "mx2.example.test") || rs[0].RemoteMTA != "" {
		t.Errorf("result = %+v; want the last host's connection failure, no RemoteMTA", rs[0])
	}
	if n := len(tn.dialed()); n != 2 {
		t.Errorf("dialed %d addresses, want 2", n)
	}
}

// RFC 5321 §5.1: no MX records means the domain's own addresses. Here the
// real port is set with Port and the default dialer is used.
func TestImplicitMX(t *testing.T) {
	for name, mx := range map[string][]*net.MX{"not found": nil, "empty answer": {}} {
		t.Run(name, func(t *testing.T) {
			sink := smtpsink.New(t)
			res := &stubResolver{mx: map[string][]*net.MX{}, ip: map[string][]net.IP{"example.test": {net.IPv4(127, 0, 0, 1)}}}
			if mx != nil {
				res.mx["example.test"] = mx
			}
			tr := &Transport{Resolver: res, Hostname: "sesame.test", Port: sink.Port(), Timeouts: fastTimeouts, Logger: testLogger(t)}
			t.Cleanup(func() { tr.Close() })
			rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
			checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, RemoteMTA: "example.test", RemoteIP: "127.0.0.1"})
			sink.Wait(t, 1, 5*time.Second)
		})
	}
}

func TestNullMX(t *testing.T) {
	cases := map[string]*stubResolver{
		"record": {mx: map[string][]*net.MX{"example.test": {{Host: ".", Pref: 0}}}},
		"error":  {mxErr: map[string]error{"example.test": fmt.Errorf("dns: %w", ErrNullMX)}},
	}
	for name, res := range cases {
		t.Run(name, func(t *testing.T) {
			tn := newTestNet()
			tr := &Transport{Resolver: res, Hostname: "sesame.test", Dial: tn.Dial, Timeouts: fastTimeouts}
			rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
			checkResult(t, rs[0], Result{Outcome: Permanent, Code: 556, Enhanced: "5.1.10"})
			if got := res.asked(); !slices.Equal(got, []string{"MX example.test"}) {
				t.Errorf("DNS queries %v; a null MX must not fall back to addresses", got)
			}
			if d := tn.dialed(); len(d) != 0 {
				t.Errorf("dialed %v", d)
			}
		})
	}
}

func TestNoSuchDomainIsPermanent(t *testing.T) {
	res := &stubResolver{}
	tn := newTestNet()
	tr := &Transport{Resolver: res, Hostname: "sesame.test", Dial: tn.Dial, Timeouts: fastTimeouts}
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@nowhere.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Permanent, Code: 0, Enhanced: "5.1.2"})
	if d := tn.dialed(); len(d) != 0 {
		t.Errorf("dialed %v", d)
	}
}

// The stdlib resolver's not-found error is recognised without configuration.
func TestNetDNSErrorNotFound(t *testing.T) {
	nx := &net.DNSError{Err: "no such host", Name: "nowhere.test", IsNotFound: true}
	res := &stubResolver{mxErr: map[string]error{"nowhere.test": nx}, ipErr: map[string]error{"nowhere.test": nx}}
	tr := &Transport{Resolver: res, Hostname: "sesame.test", Dial: newTestNet().Dial}
	rs := deliver(t, tr, Message{To: []string{"b@nowhere.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Permanent, Enhanced: "5.1.2"})
}

func TestDNSFailuresAreTransient(t *testing.T) {
	servfail := tempErr{}
	cases := map[string]*stubResolver{
		"MX SERVFAIL": {mxErr: map[string]error{"example.test": servfail}},
		// A temporary error is never taken for a definitive answer, even
		// one that wraps a not-found sentinel.
		"MX temporary wrapping not-found": {mxErr: map[string]error{"example.test": tempErr{wrapped: ErrNotFound}}},
		"MX unclassified error":           {mxErr: map[string]error{"example.test": errors.New("resolver exploded")}},
		"MX host address SERVFAIL": {
			mx:    map[string][]*net.MX{"example.test": {{Host: "mx1.example.test", Pref: 10}}},
			ipErr: map[string]error{"mx1.example.test": servfail},
		},
		"implicit MX address SERVFAIL": {ipErr: map[string]error{"example.test": servfail}},
	}
	for name, res := range cases {
		t.Run(name, func(t *testing.T) {
			tr := &Transport{Resolver: res, Hostname: "sesame.test", Dial: newTestNet().Dial}
			rs := deliver(t, tr, Message{To: []string{"b@example.test"}, Data: body})
			checkResult(t, rs[0], Result{Outcome: Transient, Code: 0, Enhanced: "4.4.3"})
		})
	}
	t.Run("MX host without address", func(t *testing.T) {
		res := &stubResolver{mx: map[string][]*net.MX{"example.test": {{Host: "gone.example.test", Pref: 10}}}}
		tr := &Transport{Resolver: res, Hostname: "sesame.test", Dial: newTestNet().Dial}
		rs := deliver(t, tr, Message{To: []string{"b@example.test"}, Data: body})
		checkResult(t, rs[0], Result{Outcome: Transient, Enhanced: "4.4.4"})
	})
}

func TestPerRecipientReplies(t *testing.T) {
	unknown := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	full := &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
	sink := smtpsink.New(t, smtpsink.WithScript(func(stage, arg string) *smtp.SMTPError {
		switch {
		case stage == smtpsink.StageRcpt && arg == "gone@example.test":
			return unknown
		case stage == smtpsink.StageRcpt && arg == "full@example.test":
			return full
		}
		return nil
	}))
	tr, _, _ := mxTransport(t, sink.Addr())
	m := Message{From: "s@sesame.test", To: []string{"gone@example.test", "ok@example.test", "full@example.test"}, Data: body}
	rs := deliver(t, tr, m)
	checkResult(t, rs[0], Result{Outcome: Permanent, Code: 550, Enhanced: "5.1.1", Text: "550 5.1.1 no such user", RemoteMTA: "mx1.example.test", RemoteIP: "192.0.2.1"})
	checkResult(t, rs[1], Result{Outcome: Delivered, Code: 250, Enhanced: "2.0.0", Text: sent, RemoteMTA: "mx1.example.test", RemoteIP: "192.0.2.1"})
	checkResult(t, rs[2], Result{Outcome: Transient, Code: 452, Enhanced: "4.2.2", Text: "452 4.2.2 mailbox full"})
	got := sink.Wait(t, 1, 5*time.Second)
	if len(got) != 1 || !slices.Equal(got[0].To, []string{"ok@example.test"}) {
		t.Errorf("sink got %+v, want one message to ok@example.test", got)
	}
}

func TestTransactionFailures(t *testing.T) {
	cases := []struct {
		name   string
		opts   []smtpsink.Option
		want   Result
		stored int
	}{
		{"MAIL 5xx", []smtpsink.Option{smtpsink.WithScript(smtpsink.FailFirst(smtpsink.StageMail, 1,
			&smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender rejected"}))},
			Result{Outcome: Permanent, Code: 553, Enhanced: "5.7.1", Text: "553 5.7.1 sender rejected"}, 0},
		{"MAIL 421", []smtpsink.Option{smtpsink.WithScript(smtpsink.FailFirst(smtpsink.StageMail, 1,
			&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}))},
			Result{Outcome: Transient, Code: 421, Enhanced: "4.3.2"}, 0},
		{"all RCPT rejected", []smtpsink.Option{smtpsink.WithScript(smtpsink.FailFirst(smtpsink.StageRcpt, 5,
			&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no"}))},
			Result{Outcome: Permanent, Code: 550, Enhanced: "5.1.1"}, 0},
		{"DATA 554", []smtpsink.Option{smtpsink.WithScript(smtpsink.FailFirst(smtpsink.StageData, 1,
			&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}))},
			Result{Outcome: Permanent, Code: 554, Enhanced: "5.6.0", Text: "554 5.6.0 content rejected"}, 0},
		// SIZE is advertised, so the server refuses at MAIL (RFC 1870).
		{"too large", []smtpsink.Option{smtpsink.WithMaxMessageBytes(64)},
			Result{Outcome: Permanent, Code: 552, Enhanced: "5.3.4"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := smtpsink.New(t, c.opts...)
			tr, _, _ := mxTransport(t, sink.Addr())
			rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"a@example.test", "b@example.test"}, Data: body})
			for _, r := range rs {
				checkResult(t, r, c.want)
			}
			if n := len(sink.Messages()); n != c.stored {
				t.Errorf("sink stored %d messages, want %d", n, c.stored)
			}
		})
	}
}

func TestDataTransientThenRetried(t *testing.T) {
	sink := smtpsink.New(t, smtpsink.WithScript(smtpsink.FailFirst(smtpsink.StageData, 1,
		&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"})))
	tr, _, _ := mxTransport(t, sink.Addr())
	m := Message{From: "s@sesame.test", To: []string{"a@example.test", "b@example.test"}, Data: body}
	for _, r := range deliver(t, tr, m) {
		checkResult(t, r, Result{Outcome: Transient, Code: 451, Enhanced: "4.3.0", Text: "451 4.3.0 try again later", RemoteMTA: "mx1.example.test", RemoteIP: "192.0.2.1"})
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("sink stored %d messages after 451", n)
	}
	for _, r := range deliver(t, tr, m) {
		checkResult(t, r, Result{Outcome: Delivered, Code: 250})
	}
	sink.Wait(t, 1, 5*time.Second)
}

// Recipients are grouped by domain (case-insensitively), each domain one
// transaction; duplicates share a RCPT; results keep the caller's order.
func TestGroupsByDomain(t *testing.T) {
	sinkA, sinkB := smtpsink.New(t), smtpsink.New(t)
	res := &stubResolver{
		mx: map[string][]*net.MX{
			"a.test": {{Host: "mx.a.test", Pref: 10}},
			"b.test": {{Host: "mx.b.test", Pref: 10}},
		},
		ip: map[string][]net.IP{"mx.a.test": {net.ParseIP("192.0.2.1")}, "mx.b.test": {net.ParseIP("192.0.2.2")}},
	}
	tn := newTestNet()
	tn.route("192.0.2.1:25", sinkA.Addr())
	tn.route("192.0.2.2:25", sinkB.Addr())
	tr := &Transport{Resolver: res, Hostname: "sesame.test", Dial: tn.Dial, Timeouts: fastTimeouts, Logger: testLogger(t)}
	t.Cleanup(func() { tr.Close() })
	to := []string{"x@a.test", "y@b.test", "bad address@a.test", "z@A.TEST", "y@b.test"}
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: to, Data: body})
	for _, i := range []int{0, 3} {
		checkResult(t, rs[i], Result{Outcome: Delivered, Code: 250, RemoteMTA: "mx.a.test", RemoteIP: "192.0.2.1"})
	}
	for _, i := range []int{1, 4} {
		checkResult(t, rs[i], Result{Outcome: Delivered, Code: 250, RemoteMTA: "mx.b.test", RemoteIP: "192.0.2.2"})
	}
	checkResult(t, rs[2], Result{Outcome: Permanent, Code: 0, Enhanced: "5.1.3"})
	if got := sinkA.Wait(t, 1, 5*time.Second); len(got) != 1 || !slices.Equal(got[0].To, []string{"x@a.test", "z@A.TEST"}) {
		t.Errorf("a.test got %+v", got)
	}
	if got := sinkB.Wait(t, 1, 5*time.Second); len(got) != 1 || !slices.Equal(got[0].To, []string{"y@b.test"}) {
		t.Errorf("b.test got %+v", got)
	}
	if st := sinkB.Stats(); st.Rcpts != 1 {
		t.Errorf("b.test saw %d RCPTs for a duplicated recipient, want 1", st.Rcpts)
	}
}

func TestOpportunisticSTARTTLS(t *testing.T) {
	cert := certs.SelfSigned(t, "mx1.example.test")
	sink := smtpsink.New(t, smtpsink.WithTLS(cert.TLS))
	tr, _, _ := mxTransport(t, sink.Addr())
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250})
	if !rs[0].TLS {
		t.Error("Result.TLS = false over STARTTLS")
	}
	got := sink.Wait(t, 1, 5*time.Second)[0]
	if !got.TLS || got.Helo != "sesame.test" || !bytes.Equal(got.Data, body) {
		t.Errorf("sink got TLS=%v helo=%q data equal=%v", got.TLS, got.Helo, bytes.Equal(got.Data, body))
	}
}

func TestRequireTLSWithoutSTARTTLSSendsNothing(t *testing.T) {
	sink := smtpsink.New(t)
	tr, _, _ := mxTransport(t, sink.Addr())
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body, RequireTLS: true})
	checkResult(t, rs[0], Result{Outcome: Transient, Code: 0, Enhanced: "4.7.4"})
	if !strings.Contains(rs[0].Text, "STARTTLS") {
		t.Errorf("Text = %q; want it to say STARTTLS is missing", rs[0].Text)
	}
	if st := sink.Stats(); st.Conns != 1 || st.Mails != 0 {
		t.Errorf("sink stats %+v: want one connection and no MAIL in plaintext", st)
	}
}

func TestRequireTLS(t *testing.T) {
	cert := certs.SelfSigned(t, "mx1.example.test")
	cases := []struct {
		name      string
		verify    bool
		roots     bool
		require   bool
		delivered bool
	}{
		{"required, not verified", false, false, true, true},
		{"required and verified", true, true, true, true},
		{"required, verified, untrusted certificate", true, false, true, false},
		{"opportunistic ignores verification", true, false, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := smtpsink.New(t, smtpsink.WithTLS(cert.TLS))
			tr, _, _ := mxTransport(t, sink.Addr())
			tr.VerifyRequiredTLS = c.verify
			if c.roots {
				tr.TLSConfig = &tls.Config{RootCAs: cert.Pool}
			}
			rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body, RequireTLS: c.require})
			if c.delivered {
				checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250})
				if got := sink.Wait(t, 1, 5*time.Second)[0]; !got.TLS || !rs[0].TLS {
					t.Error("delivered without TLS")
				}
				return
			}
			checkResult(t, rs[0], Result{Outcome: Transient, Code: 0, Enhanced: "4.7.5"})
			if st := sink.Stats(); st.Mails != 0 {
				t.Errorf("sink saw %d MAIL commands after a failed handshake", st.Mails)
			}
		})
	}
}

// A failed handshake makes the host unusable, so the next MX is tried; a
// declined STARTTLS lets opportunistic TLS carry on in plaintext.
func TestSTARTTLSTrouble(t *testing.T) {
	t.Run("handshake fails, next MX", func(t *testing.T) {
		bad, _ := fakeServer(t, "220 2.0.0 go ahead\r\n", true)
		sink := smtpsink.New(t)
		tr, _, _ := mxTransport(t, bad, sink.Addr())
		rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
		checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, RemoteMTA: "mx2.example.test", RemoteIP: "192.0.2.2"})
		sink.Wait(t, 1, 5*time.Second)
	})
	t.Run("declined, plaintext", func(t *testing.T) {
		addr, lines := fakeServer(t, "454 4.7.0 TLS not available now\r\n", false)
		tr, _, _ := mxTransport(t, addr)
		rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
		checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, Text: "250 2.0.0 fake queued"})
		if rs[0].TLS {
			t.Error("TLS = true after STARTTLS was declined")
		}
		if got := strings.Join(lines(), "|"); !strings.Contains(got, "STARTTLS|MAIL FROM:<s@sesame.test>") {
			t.Errorf("commands %q: want MAIL right after the declined STARTTLS", got)
		}
	})
	t.Run("declined, TLS required", func(t *testing.T) {
		addr, lines := fakeServer(t, "454 4.7.0 TLS not available now\r\n", false)
		tr, _, _ := mxTransport(t, addr)
		rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body, RequireTLS: true})
		checkResult(t, rs[0], Result{Outcome: Transient, Code: 454, Enhanced: "4.7.0"})
		if got := strings.Join(lines(), "|"); strings.Contains(got, "MAIL") {
			t.Errorf("commands %q: MAIL sent in plaintext", got)
		}
	})
	t.Run("data injected before the handshake", func(t *testing.T) {
		addr, lines := fakeServer(t, "220 2.0.0 go ahead\r\n250 injected\r\n", false)
		tr, _, _ := mxTransport(t, addr)
		rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
		checkResult(t, rs[0], Result{Outcome: Transient, Code: 0, Enhanced: "4.7.5"})
		if got := strings.Join(lines(), "|"); strings.Contains(got, "MAIL") {
			t.Errorf("commands %q: the session went on after an injection", got)
		}
	})
}

func TestGreetingRefusedTriesNextMX(t *testing.T) {
	busy := smtpsink.New(t, smtpsink.WithScript(func(stage, _ string) *smtp.SMTPError {
		if stage == smtpsink.StageConnect {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 3, 2}, Message: "no service for you"}
		}
		return nil
	}))
	t.Run("next MX delivers", func(t *testing.T) {
		sink := smtpsink.New(t)
		tr, _, _ := mxTransport(t, busy.Addr(), sink.Addr())
		rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
		checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, RemoteMTA: "mx2.example.test", RemoteIP: "192.0.2.2"})
	})
	// The only server refuses: Transient (Postfix's smtp_skip_5xx_greeting),
	// keeping its words even though a later host could not be reached.
	t.Run("no other MX", func(t *testing.T) {
		tr, _, _ := mxTransport(t, busy.Addr(), closedAddr(t))
		rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
		checkResult(t, rs[0], Result{Outcome: Transient, Code: 554, Enhanced: "5.3.2", Text: "554 5.3.2 no service for you", RemoteMTA: "mx1.example.test", RemoteIP: "192.0.2.1"})
	})
}

func TestServerThatNeverGreets(t *testing.T) {
	sink := smtpsink.New(t, smtpsink.WithNeverAnswer())
	tr, _, _ := mxTransport(t, sink.Addr())
	tr.Timeouts.Greeting = 300 * time.Millisecond
	start := time.Now()
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body})
	elapsed := time.Since(start)
	checkResult(t, rs[0], Result{Outcome: Transient, Code: 0, Enhanced: "4.4.2", RemoteMTA: "mx1.example.test", RemoteIP: "192.0.2.1"})
	if elapsed < 300*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("gave up after %v with a 300ms greeting timeout", elapsed)
	}
}

func TestContextEndsDelivery(t *testing.T) {
	sink := smtpsink.New(t, smtpsink.WithNeverAnswer())
	good := smtpsink.New(t)
	res := &stubResolver{
		mx: map[string][]*net.MX{"a.test": {{Host: "mx.a.test", Pref: 10}}, "b.test": {{Host: "mx.b.test", Pref: 10}}},
		ip: map[string][]net.IP{"mx.a.test": {net.ParseIP("192.0.2.1")}, "mx.b.test": {net.ParseIP("192.0.2.2")}},
	}
	tn := newTestNet()
	tn.route("192.0.2.1:25", good.Addr())
	tn.route("192.0.2.2:25", sink.Addr())
	tr := &Transport{Resolver: res, Hostname: "sesame.test", Dial: tn.Dial, Logger: testLogger(t)} // RFC timeouts: minutes
	t.Cleanup(func() { tr.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	rs, err := tr.Deliver(ctx, Message{From: "s@sesame.test", To: []string{"x@a.test", "y@b.test", "z@c.test"}, Data: body})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Deliver took %v after its context ended", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	if len(rs) != 3 {
		t.Fatalf("got %d results", len(rs))
	}
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, RemoteMTA: "mx.a.test", RemoteIP: "192.0.2.1"})
	checkResult(t, rs[1], Result{Outcome: Transient, Code: 0, Enhanced: "4.4.7"})
	checkResult(t, rs[2], Result{Outcome: Transient, Code: 0, Enhanced: "4.4.7"})
}

func TestInvalidInput(t *testing.T) {
	good := Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: body}
	res := &stubResolver{}
	cases := map[string]struct {
		tr *Transport
		m  Message
	}{
		"no recipients":      {&Transport{Resolver: res, Hostname: "h.test"}, Message{From: good.From, Data: body}},
		"no data":            {&Transport{Resolver: res, Hostname: "h.test"}, Message{From: good.From, To: good.To}},
		"bad sender":         {&Transport{Resolver: res, Hostname: "h.test"}, Message{From: "s@x\r\nRSET", To: good.To, Data: body}},
		"no hostname":        {&Transport{Resolver: res}, good},
		"hostname with CR":   {&Transport{Resolver: res, Hostname: "h\r\n"}, good},
		"no resolver":        {&Transport{Hostname: "h.test"}, good},
		"relay name, no DNS": {&Transport{Hostname: "h.test", Relay: "relay.test:25"}, good},
		"relay without port": {&Transport{Hostname: "h.test", Relay: "127.0.0.1"}, good},
		"relay bad port":     {&Transport{Hostname: "h.test", Relay: "127.0.0.1:smtp"}, good},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rs, err := c.tr.Deliver(context.Background(), c.m)
			if err == nil || rs != nil {
				t.Errorf("Deliver = %v, %v; want nil results and an error", rs, err)
			}
		})
	}
}

func TestNonASCIIAddressNeedsSMTPUTF8(t *testing.T) {
	sink := smtpsink.New(t) // go-smtp's server does not advertise SMTPUTF8 by default
	tr, _, _ := mxTransport(t, sink.Addr())
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"jörg@example.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Permanent, Code: 0, Enhanced: "5.6.7"})
	if st := sink.Stats(); st.Mails != 0 {
		t.Errorf("MAIL sent without SMTPUTF8 support")
	}
}
