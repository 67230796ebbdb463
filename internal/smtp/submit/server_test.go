package submit_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/auth/smtppass"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/sending"
	"github.com/sesamehq/sesame/internal/smtp/submit"
	"github.com/sesamehq/sesame/internal/testkit/certs"
)

// These tests drive a submit.Server whose key look-up and send use case are
// stand-ins, to reach what the whole stack cannot cheaply: limits,
// timeouts, the connection cap, shutdown, and every reply of the table.

const (
	testKeyID  = "AKIASMTPTESTKEY00001"
	testSecret = "SesameTestSecretKey0123456789abcdefABCDEF"
	testRegion = "us-west-2"
	testID     = "0101019a2b3c4d5e-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000"
)

// testPassword is SES-BEHAVIOR §3.3's test vector for testSecret in us-west-2.
const testPassword = "BHyJUbDU1xxUHwIyZX5Y38PbEBFFTkeQinpRl20heqVs"

type fakeKeys struct{ err error }

func (k fakeKeys) LookupKey(_ context.Context, id string) (account.Key, error) {
	if k.err != nil {
		return account.Key{}, k.err
	}
	if id != testKeyID {
		return account.Key{}, account.ErrUnknownKey
	}
	return account.Key{ID: testKeyID, AccountID: "111122223333", Secret: testSecret}, nil
}

// fakeSender records requests and answers with send, or accepts.
type fakeSender struct {
	mu   sync.Mutex
	reqs []sending.Request
	send func(ctx context.Context, r *sending.Request) (string, error)
}

func (f *fakeSender) Send(ctx context.Context, r *sending.Request) (string, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, *r)
	send := f.send
	f.mu.Unlock()
	if send != nil {
		return send(ctx, r)
	}
	return testID, nil
}

func (f *fakeSender) requests() []sending.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sending.Request(nil), f.reqs...)
}

type testServer struct {
	srv    *submit.Server
	sender *fakeSender
	client *tls.Config // trusts the server's certificate
}

// startServer serves both modes on loopback with cfg edited by edit.
func startServer(t *testing.T, edit func(*submit.Config)) *testServer {
	t.Helper()
	cert := certs.SelfSigned(t, "smtp.test", "127.0.0.1")
	ts := &testServer{sender: &fakeSender{}, client: &tls.Config{RootCAs: cert.Pool, ServerName: "smtp.test"}}
	cfg := submit.Config{
		Hostname: "smtp.test", Region: testRegion,
		TLS:  &tls.Config{Certificates: []tls.Certificate{cert.TLS}},
		Keys: fakeKeys{}, Sender: ts.sender,
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := submit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	for _, m := range []submit.Mode{submit.STARTTLS, submit.ImplicitTLS} {
		if err := srv.Listen(m, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	ts.srv = srv
	return ts
}

// login returns a client on the implicit-TLS port, authenticated.
func (ts *testServer) login(t *testing.T) *rawClient {
	t.Helper()
	c := dialRaw(t, ts.srv.Addr(submit.ImplicitTLS), ts.client)
	c.ehlo()
	if got := c.authPlain(testKeyID, testPassword); got != "235 2.0.0 Authentication succeeded" {
		t.Fatalf("AUTH: %q", got)
	}
	return c
}

// What the send use case receives: the account, SES's operation name, the
// envelope as Source and Destinations, and DATA exactly, dot-unstuffed.
func TestRequestToSender(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.login(t)
	msg := "From: a@example.com\r\nTo: b@example.net\r\n\r\n.dot first\r\nline\r\n"
	if got := c.transaction("a@example.com", []string{"b@example.net", "c@example.net"}, msg); got != "250 Ok "+testID {
		t.Fatalf("reply %q", got)
	}
	// The null reverse-path: the From header becomes the Source.
	c.expect("MAIL FROM:<>", "250 2.0.0 Roger, accepting mail from <>")
	c.expect("RCPT TO:<b@example.net>", "250 2.0.0 I'll make sure <b@example.net> gets this")
	if got := c.data(msg); got != "250 Ok "+testID {
		t.Fatalf("reply %q", got)
	}
	// CHUNKING (go-smtp advertises it): BDAT reaches the same Data.
	c.expect("MAIL FROM:<a@example.com>", "250 2.0.0 Roger, accepting mail from <a@example.com>")
	c.expect("RCPT TO:<b@example.net>", "250 2.0.0 I'll make sure <b@example.net> gets this")
	fmt.Fprintf(c.conn, "BDAT %d LAST\r\n%s", len(msg), msg)
	if got := c.read(); got != "250 Ok "+testID {
		t.Fatalf("BDAT reply %q", got)
	}

	reqs := ts.sender.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	want := sending.Request{AccountID: "111122223333", Operation: "SendSmtpEmail", Source: "a@example.com",
		Destinations: []string{"b@example.net", "c@example.net"}, MaxSize: sending.MaxSizeV2}
	r := reqs[0]
	if r.AccountID != want.AccountID || r.Operation != want.Operation || r.Source != want.Source ||
		strings.Join(r.Destinations, ",") != strings.Join(want.Destinations, ",") || r.MaxSize != want.MaxSize {
		t.Errorf("request %+v", r)
	}
	for i, r := range reqs {
		if string(r.Raw) != msg {
			t.Errorf("request %d: Raw = %q, want %q", i, r.Raw, msg)
		}
	}
	if reqs[1].Source != "" {
		t.Errorf("null reverse-path: Source = %q", reqs[1].Source)
	}
}

// The table of domain refusals on the wire, and the guard on their text: a
// value from the message cannot break the reply into lines or past 512
// octets.
func TestRefusalReplies(t *testing.T) {
	long := "Email address is not verified. The following identities failed the check in region US-WEST-2: " +
		strings.Repeat("someone@example.net, ", 40)
	cases := []struct {
		err  error
		want string
	}{
		{fault.New(fault.MessageRejected, "Email address is not verified. The following identities failed the check in region US-WEST-2: x@y.test"),
			"554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-WEST-2: x@y.test"},
		{fault.New(fault.MessageRejected, "Illegal filename 'a.exe'."), "554 5.6.0 Transaction failed: Illegal filename 'a.exe'."},
		{fault.New(fault.InvalidParameter, "Missing final '@domain'"), "554 5.6.0 Transaction failed: Missing final '@domain'"},
		{fault.New(fault.RateExceeded, "Maximum sending rate exceeded."), "454 4.7.0 Throttling failure: Maximum sending rate exceeded"},
		{fault.New(fault.DailyQuotaExceeded, "Daily message quota exceeded."), "454 4.7.0 Throttling failure: Daily message quota exceeded"},
		{fault.New(fault.AccountSendingPaused, "Email sending is disabled for this account."), "554 5.7.1 Transaction failed: Email sending is disabled for this account."},
		{fault.New(fault.MailFromNotVerified, "The MAIL FROM domain m.example.com is not verified."), "554 5.7.1 Transaction failed: The MAIL FROM domain m.example.com is not verified."},
		{fault.New(fault.ConfigSetNotFound, "Configuration set <a\r\n250 Ok forged> does not exist."),
			"554 5.6.0 Transaction failed: Configuration set <a 250 Ok forged> does not exist."},
		{fault.New(fault.ConfigSetNotFound, "Configuration set <Grüße> does not exist."), "554 5.6.0 Transaction failed: Configuration set <Gr??e> does not exist."},
		{fault.New(fault.Internal, "boom"), "451 4.3.0 Temporary service failure"},
		{errors.New("database is locked"), "451 4.3.0 Temporary service failure"},
		{fault.New(fault.MessageRejected, "%s", long), ""}, // checked below
	}
	var mu sync.Mutex
	var next error
	ts := startServer(t, func(c *submit.Config) {})
	ts.sender.send = func(context.Context, *sending.Request) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		return "", next
	}
	c := ts.login(t)
	for _, tc := range cases {
		mu.Lock()
		next = tc.err
		mu.Unlock()
		got := c.transaction("a@example.com", []string{"b@example.net"}, "Subject: x\r\n\r\nx\r\n")
		if tc.want == "" {
			if len(got)+2 > 512 || !strings.HasSuffix(got, "...") || !strings.HasPrefix(got, "554 5.7.1 Message rejected: Email address is not verified.") {
				t.Errorf("long refusal: %d octets: %q", len(got)+2, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%v:\n got: %q\nwant: %q", tc.err, got, tc.want)
		}
	}
	c.expect("NOOP", "250 2.0.0 I have successfully done nothing") // still in step
}

// A message over the size limit gets SES's 552 and the session goes on; the
// SIZE parameter is refused up front (go-smtp's text there).
func TestTooLong(t *testing.T) {
	ts := startServer(t, func(c *submit.Config) { c.MaxMessageBytes = 1024 })
	c := ts.login(t)
	exts := c.ehlo()
	if !strings.Contains(strings.Join(exts, "\n"), "SIZE 1024") {
		t.Errorf("EHLO: %q", exts)
	}
	big := "Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 98)+"\r\n", 40)
	if got := c.transaction("a@example.com", []string{"b@example.net"}, big); got != "552 5.3.4 Message is too long." {
		t.Errorf("oversized DATA: %q", got)
	}
	if got := c.transaction("a@example.com", []string{"b@example.net"}, "Subject: small\r\n\r\nx\r\n"); got != "250 Ok "+testID {
		t.Errorf("next message: %q", got)
	}
	c.expect("MAIL FROM:<a@example.com> SIZE=5000", "552 5.3.4 Max message size exceeded")
	if n := len(ts.sender.requests()); n != 1 {
		t.Errorf("%d messages reached the sender, want 1", n)
	}
}

// A line past go-smtp's limit cannot be read past: SES's content refusal,
// then the server hangs up.
func TestOverlongLine(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.login(t)
	c.expect("MAIL FROM:<a@example.com>", "250 2.0.0 Roger, accepting mail from <a@example.com>")
	c.expect("RCPT TO:<b@example.net>", "250 2.0.0 I'll make sure <b@example.net> gets this")
	if got := c.data("Subject: x\r\n\r\n" + strings.Repeat("y", 3000) + "\r\n"); got != "554 5.6.0 Transaction failed: Message has a line longer than 1000 characters." {
		t.Errorf("reply %q", got)
	}
	if rest := c.readAll(); rest != "" {
		t.Errorf("after the refusal: %q, want the connection closed", rest)
	}
}

// DATA has an idle timeout, not a total one: a client that stalls is told
// SES's 451 and disconnected; one that trickles is served.
func TestDataIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *submit.Config) { c.DataTimeout = 400 * time.Millisecond })

	c := ts.login(t)
	c.expect("MAIL FROM:<a@example.com>", "250 2.0.0 Roger, accepting mail from <a@example.com>")
	c.expect("RCPT TO:<b@example.net>", "250 2.0.0 I'll make sure <b@example.net> gets this")
	c.expect("DATA", "354 Go ahead. End your data with <CR><LF>.<CR><LF>")
	io.WriteString(c.conn, "Subject: stalled\r\n")
	start := time.Now()
	if got := c.read(); got != "451 4.4.2 Timeout waiting for data from client" {
		t.Errorf("stalled client: %q", got)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 5*time.Second {
		t.Errorf("timed out after %v, want about 400ms", d)
	}
	if rest := c.readAll(); rest != "" {
		t.Errorf("after the timeout: %q, want the connection closed", rest)
	}

	c = ts.login(t)
	c.expect("MAIL FROM:<a@example.com>", "250 2.0.0 Roger, accepting mail from <a@example.com>")
	c.expect("RCPT TO:<b@example.net>", "250 2.0.0 I'll make sure <b@example.net> gets this")
	c.expect("DATA", "354 Go ahead. End your data with <CR><LF>.<CR><LF>")
	io.WriteString(c.conn, "Subject: slow\r\n\r\n")
	for range 8 { // 8 × 150 ms: well past the timeout in total
		time.Sleep(150 * time.Millisecond)
		io.WriteString(c.conn, "line\r\n")
	}
	io.WriteString(c.conn, ".\r\n")
	if got := c.read(); got != "250 Ok "+testID {
		t.Errorf("trickling client: %q", got)
	}
}

// Between commands the idle timeout is go-smtp's, with its own wording.
func TestCommandIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *submit.Config) { c.CommandTimeout = 300 * time.Millisecond })
	c := ts.login(t)
	if got := c.read(); got != "421 4.4.2 Idle timeout, bye bye" {
		t.Errorf("idle client: %q", got)
	}
	if rest := c.readAll(); rest != "" {
		t.Errorf("after the timeout: %q", rest)
	}
}

// Connections over the cap get SES's 421 (inside TLS on the TLS port) and
// are closed; a freed slot takes a new client.
func TestConnectionCap(t *testing.T) {
	ts := startServer(t, func(c *submit.Config) { c.MaxConns = 2 })
	first := dialRaw(t, ts.srv.Addr(submit.STARTTLS), nil)
	dialRaw(t, ts.srv.Addr(submit.ImplicitTLS), ts.client)

	refused := func(conn net.Conn) string {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(conn)
		conn.Close()
		return string(b)
	}
	plain, err := net.Dial("tcp", ts.srv.Addr(submit.STARTTLS))
	if err != nil {
		t.Fatal(err)
	}
	if got := refused(plain); got != "421 Too many concurrent SMTP connections\r\n" {
		t.Errorf("third connection, STARTTLS port: %q", got)
	}
	tc, err := tls.Dial("tcp", ts.srv.Addr(submit.ImplicitTLS), ts.client)
	if err != nil {
		t.Fatalf("third connection, TLS port: %v", err)
	}
	if got := refused(tc); got != "421 Too many concurrent SMTP connections\r\n" {
		t.Errorf("third connection, TLS port: %q", got)
	}

	first.expect("QUIT", "221 2.0.0 Bye")
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", ts.srv.Addr(submit.STARTTLS))
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 3)
		_, err = io.ReadFull(conn, buf)
		conn.Close()
		if err == nil && string(buf) == "220" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot freed after a client quit: %q", buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Credentials: SES's legacy v2 passwords only when allowed, a foreign
// authorization identity refused, a failing look-up a temporary failure, an
// unknown mechanism go-smtp's 504.
func TestCredentials(t *testing.T) {
	plain := func(authz, user, pass string) string {
		return "AUTH PLAIN " + encode([]byte(authz+"\x00"+user+"\x00"+pass))
	}
	ts := startServer(t, nil)
	c := dialRaw(t, ts.srv.Addr(submit.ImplicitTLS), ts.client)
	c.ehlo()
	c.expect("AUTH CRAM-MD5", "504 5.7.4 Unsupported authentication mechanism")
	c.expect(plain("", testKeyID, smtppass.V2(testSecret)), "535 5.7.8 Authentication Credentials Invalid")
	c.expect(plain("AKIAOTHERKEY00000001", testKeyID, testPassword), "535 5.7.8 Authentication Credentials Invalid")
	// The region is part of the password.
	c = dialRaw(t, ts.srv.Addr(submit.ImplicitTLS), ts.client)
	c.ehlo()
	c.expect(plain("", testKeyID, smtppass.V4(testSecret, "us-east-1")), "535 5.7.8 Authentication Credentials Invalid")
	c.expect(plain(testKeyID, testKeyID, testPassword), "235 2.0.0 Authentication succeeded")

	v2 := startServer(t, func(c *submit.Config) { c.AllowV2Passwords = true })
	c = dialRaw(t, v2.srv.Addr(submit.ImplicitTLS), v2.client)
	c.ehlo()
	c.expect(plain("", testKeyID, smtppass.V2(testSecret)), "235 2.0.0 Authentication succeeded")

	down := startServer(t, func(c *submit.Config) { c.Keys = fakeKeys{err: errors.New("database is locked")} })
	c = dialRaw(t, down.srv.Addr(submit.ImplicitTLS), down.client)
	c.ehlo()
	c.expect(plain("", testKeyID, testPassword), "454 4.7.0 Temporary authentication failure")
}

// Shutdown closes idle sessions at once, lets a message in flight be
// answered, then closes that session too.
func TestShutdownLetsMessagesFinish(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	ts := startServer(t, nil)
	ts.sender.send = func(context.Context, *sending.Request) (string, error) {
		close(entered)
		<-release
		return testID, nil
	}
	busy, idle := ts.login(t), ts.login(t)
	busy.expect("MAIL FROM:<a@example.com>", "250 2.0.0 Roger, accepting mail from <a@example.com>")
	busy.expect("RCPT TO:<b@example.net>", "250 2.0.0 I'll make sure <b@example.net> gets this")
	busy.expect("DATA", "354 Go ahead. End your data with <CR><LF>.<CR><LF>")
	io.WriteString(busy.conn, "Subject: x\r\n\r\nx\r\n.\r\n")
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the message never reached the sender")
	}

	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	if rest := idle.readAll(); rest != "" {
		t.Errorf("idle session at shutdown: %q, want closed", rest)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with a message in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := busy.read(); got != "250 Ok "+testID {
		t.Errorf("message in flight at shutdown: %q", got)
	}
	if rest := busy.readAll(); rest != "" {
		t.Errorf("after its reply: %q, want closed", rest)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if _, err := net.DialTimeout("tcp", ts.srv.Addr(submit.STARTTLS), time.Second); err == nil {
		t.Error("the listener still accepts after Shutdown")
	}
}

// When the grace is over, Shutdown cancels the send in flight and closes
// everything.
func TestShutdownGraceOver(t *testing.T) {
	entered, canceled := make(chan struct{}), make(chan struct{})
	ts := startServer(t, nil)
	ts.sender.send = func(ctx context.Context, _ *sending.Request) (string, error) {
		close(entered)
		<-ctx.Done()
		close(canceled)
		return "", ctx.Err()
	}
	c := ts.login(t)
	c.expect("MAIL FROM:<a@example.com>", "250 2.0.0 Roger, accepting mail from <a@example.com>")
	c.expect("RCPT TO:<b@example.net>", "250 2.0.0 I'll make sure <b@example.net> gets this")
	c.expect("DATA", "354 Go ahead. End your data with <CR><LF>.<CR><LF>")
	io.WriteString(c.conn, "Subject: x\r\n\r\nx\r\n.\r\n")
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	select {
	case <-canceled:
	default:
		t.Error("the send in flight was not canceled")
	}
	if rest := c.readAll(); strings.HasPrefix(rest, "250") {
		t.Errorf("a canceled send was acknowledged: %q", rest)
	}
}

func TestConfigValidated(t *testing.T) {
	if _, err := submit.New(submit.Config{}); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("empty config: %v", err)
	}
	ts := startServer(t, nil)
	if err := ts.srv.Listen(submit.STARTTLS, "127.0.0.1:0"); err == nil {
		t.Error("a second STARTTLS listener was accepted")
	}
	if err := ts.srv.Listen(submit.STARTTLS, "off"); err != nil {
		t.Errorf(`"off": %v`, err)
	}
}
