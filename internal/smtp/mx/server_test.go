package mx

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/smtp/conntrack"
	"github.com/sesamehq/sesame/internal/testkit/certs"
)

const (
	host     = "sesame.test"
	msgID    = "0100018ffa1b2c3d-5f0e8a4e-3c2b-4d1a-9e8f-7a6b5c4d3e2f-000000" // the id in the feedback testdata
	customID = "0100018ffa1b2c3d-0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d-000000" // sent with a custom MAIL FROM
	systemID = "0100018ffa1b2c3d-11111111-2222-4333-8444-555555555555-000000" // Sesame's own mail
	unknown  = "0100018ffa1b2c3d-99999999-9999-4999-8999-999999999999-000000"
)

// fakes: the queue and identities as the server sees them.

type fakeMessages map[string]*queue.Envelope

func (f fakeMessages) Envelope(_ context.Context, id string) (*queue.Envelope, error) {
	if id == "0100018ffa1b2c3d-dddddddd-dddd-4ddd-8ddd-dddddddddddd-000000" {
		return nil, errors.New("database is locked")
	}
	if e, ok := f[id]; ok {
		return e, nil
	}
	return nil, queue.ErrNoMessage
}

type fakeIdentities map[string]*identity.Identity // by source

func (f fakeIdentities) Covering(_ context.Context, _, addr string) (*identity.Identity, error) {
	return f[addr], nil
}

type complaint struct {
	msgID, feedbackType, userAgent string
	rcpts                          []string
	arrival                        time.Time
}

type recorder struct {
	mu         sync.Mutex
	fail       error
	bounces    map[string][]queue.AsyncBounce
	complaints []complaint
}

func (r *recorder) RecordBounce(_ context.Context, id string, b queue.AsyncBounce) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if r.bounces == nil {
		r.bounces = map[string][]queue.AsyncBounce{}
	}
	r.bounces[id] = append(r.bounces[id], b)
	return nil
}

func (r *recorder) RecordComplaint(_ context.Context, id string, rcpts []string, typ, agent string, arrival time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.complaints = append(r.complaints, complaint{msgID: id, rcpts: rcpts, feedbackType: typ, userAgent: agent, arrival: arrival})
	return nil
}

func (r *recorder) snapshot() (map[string][]queue.AsyncBounce, []complaint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bounces, r.complaints
}

type testServer struct {
	*Server
	rec  *recorder
	cert certs.Cert
}

func startServer(t *testing.T, mutate ...func(*Config)) *testServer {
	t.Helper()
	cert := certs.SelfSigned(t, host, "127.0.0.1")
	rec := &recorder{}
	cfg := Config{
		Hostname: host,
		TLS:      &tls.Config{Certificates: []tls.Certificate{cert.TLS}},
		Messages: fakeMessages{
			msgID:    {ID: msgID, AccountID: "111111111111", Source: "news@example.com", Recipients: []string{"Nobody@Example.net", "reader@yahoo.com", "other@example.org"}},
			customID: {ID: customID, AccountID: "111111111111", Source: "news@example.com", Recipients: []string{"quota@example.org", "gone@example.org"}},
			systemID: {ID: systemID, AccountID: "111111111111", Source: "no-reply@sesame.test", System: true, Recipients: []string{"new@example.com"}},
		},
		Identities:    fakeIdentities{"news@example.com": {Name: "example.com", MailFrom: identity.MailFrom{Domain: "bounces.example.com", Status: identity.Success}}},
		Recorder:      rec,
		ShutdownGrace: 2 * time.Second,
	}
	for _, f := range mutate {
		f(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &testServer{Server: srv, rec: rec, cert: cert}
}

func (s *testServer) dial(t *testing.T) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.CommandTimeout = 5 * time.Second
	c.SubmissionTimeout = 5 * time.Second
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("mx.example.net"); err != nil {
		t.Fatal(err)
	}
	return c
}

// send delivers msg from from to rcpts as a remote MTA does, returning the
// reply to DATA (or the first refusal).
func (s *testServer) send(t *testing.T, from string, rcpts []string, msg []byte) error {
	t.Helper()
	c := s.dial(t)
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "feedback", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestGreetingAndExtensions(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not offered")
	}
	if ok, size := c.Extension("SIZE"); !ok || size != "10485760" {
		t.Errorf("SIZE = %q, want 10485760", size)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered before TLS")
	}
	c, err := smtp.DialStartTLS(s.Addr(), &tls.Config{RootCAs: s.cert.Pool, ServerName: host})
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	defer c.Close()
	if err := c.Hello("mx.example.net"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered: remote MTAs do not authenticate")
	}
	if _, ok := c.TLSConnectionState(); !ok {
		t.Fatal("no TLS after STARTTLS")
	}
	// Mail still flows after the upgrade.
	if err := c.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(msgID+"@"+host, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRecipientsRefusedUnlessIssued(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	if err := c.Mail("", nil); err != nil {
		t.Fatalf("null reverse-path refused: %v", err)
	}
	for _, rcpt := range []string{
		"postmaster@" + host,
		"someone@example.com",
		unknown + "@" + host,   // the shape of an id, but not one Sesame issued
		msgID + "@example.com", // an id at a domain that is not its bounce domain
		msgID + "@other.test",
		systemID + "@bounces.example.com", // Sesame's own mail never uses a customer domain
		"complaints@example.com",
		"complaints@" + host + ".evil.example",
	} {
		err := c.Rcpt(rcpt, nil)
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) ||
			se.Message != "Recipient address rejected: Access denied" {
			t.Errorf("RCPT TO:<%s> = %v, want 550 5.1.1 Recipient address rejected: Access denied", rcpt, err)
		}
	}
	for _, rcpt := range []string{
		msgID + "@" + host,
		strings.ToUpper(msgID) + "@SESAME.TEST", // case is not the sender's to keep
		customID + "@bounces.example.com",       // the identity's custom MAIL FROM domain
		msgID + "@Bounces.Example.com",
		systemID + "@" + host,
		"complaints@" + host,
		"Complaints@Sesame.Test",
	} {
		if err := c.Rcpt(rcpt, nil); err != nil {
			t.Errorf("RCPT TO:<%s>: %v", rcpt, err)
		}
	}
}

func TestLookupFailureIsTemporary(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	if err := c.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	err := c.Rcpt("0100018ffa1b2c3d-dddddddd-dddd-4ddd-8ddd-dddddddddddd-000000@"+host, nil)
	if code(err) != 451 {
		t.Errorf("RCPT with a failing store = %v, want 451", err)
	}
}

func TestGuessingIsCutOff(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxRejects = 3 })
	c := s.dial(t)
	if err := c.Mail("spammer@example.com", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := c.Rcpt(fmt.Sprintf("guess%d@%s", i, host), nil); code(err) != 550 {
			t.Fatalf("guess %d: %v, want 550", i, err)
		}
	}
	if err := c.Rcpt("complaints@"+host, nil); code(err) != 421 {
		t.Fatalf("after too many refusals: %v, want 421", err)
	}
	if err := c.Noop(); err == nil {
		t.Error("the connection is still open after the 421")
	}
}

func TestDSNBecomesBounces(t *testing.T) {
	s := startServer(t)
	// Postfix's DSN for one recipient, named with other case in the
	// Original-Recipient than the message has it.
	if err := s.send(t, "", []string{msgID + "@" + host}, testdata(t, "dsn/postfix.eml")); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	bounces, _ := s.rec.snapshot()
	got := bounces[msgID]
	if len(got) != 1 {
		t.Fatalf("bounces = %+v, want one", bounces)
	}
	b := got[0]
	if b.BounceType != "Permanent" || b.BounceSubType != "NoEmail" || b.ReportingMTA != "dns; mx1.example.net" {
		t.Errorf("bounce = %+v", b)
	}
	if len(b.Recipients) != 1 {
		t.Fatalf("recipients = %+v", b.Recipients)
	}
	r := b.Recipients[0]
	want := queue.BouncedRecipient{Rcpt: "Nobody@Example.net", Action: "failed", Status: "5.1.1",
		DiagnosticCode: "smtp; 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table"}
	if r != want {
		t.Errorf("recipient = %+v\nwant        %+v", r, want)
	}
}

func TestDSNAtCustomMailFromDomain(t *testing.T) {
	s := startServer(t)
	// Exim's DSN: two failures with a generic 5.0.0, told apart by the
	// remote replies, so two bounces of different types.
	if err := s.send(t, "", []string{customID + "@bounces.example.com"}, []byte(strings.ReplaceAll(string(testdata(t, "dsn/exim.eml")), msgID, customID))); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	bounces, _ := s.rec.snapshot()
	got := bounces[customID]
	if len(got) != 2 {
		t.Fatalf("bounces = %+v, want two", bounces)
	}
	kinds := map[string]string{}
	for _, b := range got {
		for _, r := range b.Recipients {
			kinds[r.Rcpt] = b.BounceType + "/" + b.BounceSubType
			if r.Status != "5.0.0" {
				t.Errorf("%s: status %q, want the DSN's 5.0.0", r.Rcpt, r.Status)
			}
		}
	}
	if kinds["quota@example.org"] != "Transient/MailboxFull" || kinds["gone@example.org"] != "Permanent/NoEmail" {
		t.Errorf("classes = %v", kinds)
	}
}

func TestDSNIgnoresDelaysAndStrangers(t *testing.T) {
	s := startServer(t)
	// The delayed recipient is no bounce; full@example.org is no recipient
	// of the message.
	if err := s.send(t, "", []string{msgID + "@" + host}, testdata(t, "dsn/postfix-delayed.eml")); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if bounces, _ := s.rec.snapshot(); len(bounces) != 0 {
		t.Errorf("bounces = %+v, want none", bounces)
	}
}

func TestARFBecomesComplaint(t *testing.T) {
	s := startServer(t)
	// Yahoo's report to the feedback address: the message is found by
	// its Message-ID, the recipient by Original-Rcpt-To.
	if err := s.send(t, "feedback@arf.mail.yahoo.com", []string{"complaints@" + host}, testdata(t, "arf/yahoo.eml")); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	// AOL's redacts the recipient: every recipient complained.
	if err := s.send(t, "scomp@aol.net", []string{"complaints@" + host}, testdata(t, "arf/aol.eml")); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	_, got := s.rec.snapshot()
	if len(got) != 2 {
		t.Fatalf("complaints = %+v, want two", got)
	}
	yahoo, aol := got[0], got[1]
	if yahoo.msgID != msgID || len(yahoo.rcpts) != 1 || yahoo.rcpts[0] != "reader@yahoo.com" ||
		yahoo.feedbackType != "abuse" || yahoo.userAgent != "Yahoo!-Mail-Feedback/2.0" ||
		!yahoo.arrival.Equal(time.Date(2024, 6, 11, 9, 20, 0, 0, time.UTC)) {
		t.Errorf("yahoo complaint = %+v", yahoo)
	}
	if aol.msgID != msgID || aol.rcpts != nil || aol.userAgent != "AOL SComp" {
		t.Errorf("aol complaint = %+v, want every recipient (nil)", aol)
	}
}

func TestARFFoundByEnvelopeSender(t *testing.T) {
	s := startServer(t)
	// No Message-ID of Sesame's (the customer's own was kept by a
	// forwarder), but the Original-Mail-From is the VERP address.
	msg := strings.Replace(string(testdata(t, "arf/yahoo.eml")), "Message-ID: <"+msgID+"@sesame.test>", "Message-ID: <elsewhere@example.com>", 1)
	msg = strings.ReplaceAll(msg, msgID+"@sesame.test", customID+"@bounces.example.com")
	if err := s.send(t, "", []string{"complaints@" + host}, []byte(msg)); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	_, got := s.rec.snapshot()
	// reader@yahoo.com is no recipient of customID: every recipient.
	if len(got) != 1 || got[0].msgID != customID || got[0].rcpts != nil {
		t.Errorf("complaints = %+v", got)
	}
}

func TestOtherMailDropped(t *testing.T) {
	s := startServer(t)
	for name, msg := range map[string]string{
		"auto-reply":         "From: reader@example.org\r\nTo: news@example.com\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nAway until Monday.\r\n",
		"unreadable DSN":     "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n",
		"report on stranger": strings.ReplaceAll(string(testdata(t, "arf/yahoo.eml")), msgID, unknown),
	} {
		if err := s.send(t, "reader@example.org", []string{msgID + "@" + host}, []byte(msg)); err != nil {
			t.Errorf("%s: %v, want 250", name, err)
		}
	}
	// A report to the feedback address about a message Sesame never sent.
	if err := s.send(t, "", []string{"complaints@" + host}, []byte(strings.ReplaceAll(string(testdata(t, "arf/aol.eml")), msgID, unknown))); err != nil {
		t.Errorf("report about an unknown message: %v, want 250", err)
	}
	bounces, complaints := s.rec.snapshot()
	// "report on stranger" went to msgID's VERP address, which decides.
	if len(bounces) != 0 || len(complaints) != 1 || complaints[0].msgID != msgID {
		t.Errorf("bounces %+v, complaints %+v", bounces, complaints)
	}
}

func TestRecordFailureIsTemporary(t *testing.T) {
	s := startServer(t)
	s.rec.fail = errors.New("disk full")
	err := s.send(t, "", []string{msgID + "@" + host}, testdata(t, "dsn/postfix.eml"))
	if code(err) != 451 {
		t.Errorf("DATA when recording fails = %v, want 451 so the sender retries", err)
	}
}

func TestTooLong(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxMessageBytes = 4096 })
	msg := "Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 70)+"\r\n", 100)
	err := s.send(t, "", []string{msgID + "@" + host}, []byte(msg))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 552 || se.Message != "Message is too long." {
		t.Errorf("oversized DATA = %v, want 552 Message is too long.", err)
	}
}

// DATA has an idle timeout: a reporting server that stalls mid-message is
// told 451 (it will retry) and disconnected.
func TestDataIdleTimeout(t *testing.T) {
	s := startServer(t, func(c *Config) { c.DataTimeout = 400 * time.Millisecond })
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	read := func() string {
		t.Helper()
		var lines []string
		for range 20 { // a reply has few lines; bounded all the same
			line, err := r.ReadString('\n')
			if err != nil {
				return strings.Join(append(lines, err.Error()), " | ")
			}
			lines = append(lines, strings.TrimRight(line, "\r\n"))
			if len(line) < 4 || line[3] != '-' {
				break
			}
		}
		return lines[len(lines)-1]
	}
	read() // greeting
	for _, cmd := range []string{"EHLO reporter.example", "MAIL FROM:<>", "RCPT TO:<" + msgID + "@" + host + ">", "DATA"} {
		fmt.Fprintf(conn, "%s\r\n", cmd)
		if got := read(); got[0] != '2' && got[0] != '3' {
			t.Fatalf("%s: %q", cmd, got)
		}
	}
	fmt.Fprintf(conn, "Subject: stalled\r\n")
	start := time.Now()
	if got := read(); got != "451 4.4.2 Timeout waiting for data from client" {
		t.Errorf("stalled client: %q", got)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 5*time.Second {
		t.Errorf("timed out after %v, want about 400ms", d)
	}
}

func TestConnectionCap(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxConns = 1 })
	s.dial(t) // holds the only slot
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 128)
	n, _ := conn.Read(buf)
	if got := string(buf[:n]); got != conntrack.TooManyConns {
		t.Errorf("over the cap the server said %q, want %q", got, conntrack.TooManyConns)
	}
}

func TestShutdownClosesIdleConnections(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for an idle connection")
	}
	if err := c.Noop(); err == nil {
		t.Error("an idle connection survived Close")
	}
	if err := s.Listen("127.0.0.1:0"); err == nil {
		t.Error("Listen after Close succeeded")
	}
}

func TestConfigValidation(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New with no host name or dependencies succeeded")
	}
}
