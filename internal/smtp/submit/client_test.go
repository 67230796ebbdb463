package submit_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// rawClient speaks SMTP line by line, so a test sees every reply exactly as
// the server wrote it.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	text *textproto.Conn
}

// dialRaw connects to addr (wrapping it in TLS first when tlsCfg is given)
// and reads the greeting.
func dialRaw(t testing.TB, addr string, tlsCfg *tls.Config) *rawClient {
	t.Helper()
	var conn net.Conn
	var err error
	d := &net.Dialer{Timeout: 5 * time.Second}
	if tlsCfg != nil {
		conn, err = tls.DialWithDialer(d, "tcp", addr, tlsCfg)
	} else {
		conn, err = d.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &rawClient{t: t, conn: conn, text: textproto.NewConn(conn)}
	t.Cleanup(func() { conn.Close() })
	if got := c.read(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting = %q", got)
	}
	return c
}

// read returns the next reply as "code text", the lines of a multi-line
// reply joined with "\n".
func (c *rawClient) read() string {
	c.t.Helper()
	code, msg, err := c.text.ReadResponse(0)
	if err != nil && code == 0 {
		c.t.Fatalf("reading a reply: %v", err)
	}
	return fmt.Sprintf("%d %s", code, msg)
}

// cmd sends one command line and returns the reply.
func (c *rawClient) cmd(line string) string {
	c.t.Helper()
	if err := c.text.PrintfLine("%s", line); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
	return c.read()
}

// expect sends line and fails unless the reply is exactly want.
func (c *rawClient) expect(line, want string) {
	c.t.Helper()
	if got := c.cmd(line); got != want {
		c.t.Fatalf("%s\n got: %q\nwant: %q", line, got, want)
	}
}

// startTLS upgrades the connection and says EHLO again.
func (c *rawClient) startTLS(cfg *tls.Config) {
	c.t.Helper()
	c.expect("STARTTLS", "220 2.0.0 Ready to start TLS")
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn, c.text = tc, textproto.NewConn(tc)
	c.ehlo()
}

// ehlo says EHLO and returns the extension keywords.
func (c *rawClient) ehlo() []string {
	c.t.Helper()
	got := c.cmd("EHLO client.test")
	if !strings.HasPrefix(got, "250 ") {
		c.t.Fatalf("EHLO: %q", got)
	}
	return strings.Split(got, "\n")[1:]
}

// authPlain logs in with AUTH PLAIN and an initial response.
func (c *rawClient) authPlain(user, pass string) string {
	c.t.Helper()
	return c.cmd("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))
}

// data sends DATA, the message (dot-stuffed) and returns the final reply.
func (c *rawClient) data(msg string) string {
	c.t.Helper()
	if got := c.cmd("DATA"); !strings.HasPrefix(got, "354 ") {
		c.t.Fatalf("DATA: %q", got)
	}
	w := c.text.DotWriter()
	if _, err := w.Write([]byte(msg)); err != nil {
		c.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		c.t.Fatal(err)
	}
	return c.read()
}

// session returns a client over STARTTLS, logged in with the root key.
func session(t testing.TB, s *stack.Stack) *rawClient {
	t.Helper()
	c := dialRaw(t, s.SMTPAddr(t), nil)
	c.ehlo()
	c.startTLS(s.SMTPTLSConfig(t))
	if got := c.authPlain(s.Root.ID, s.SMTPPassword()); got != "235 2.0.0 Authentication succeeded" {
		t.Fatalf("AUTH: %q", got)
	}
	return c
}

// transaction runs MAIL, RCPT… and DATA and returns the reply to DATA.
func (c *rawClient) transaction(from string, to []string, msg string) string {
	c.t.Helper()
	c.expect("MAIL FROM:<"+from+">", "250 2.0.0 Roger, accepting mail from <"+from+">")
	for _, rc := range to {
		c.expect("RCPT TO:<"+rc+">", "250 2.0.0 I'll make sure <"+rc+"> gets this")
	}
	return c.data(msg)
}

// message is a small RFC 5322 message.
func message(from, to, subject, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\n", from, to, subject)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	return b.String()
}

// messageID takes the MessageId from SES's "250 Ok <MessageId>".
func messageID(t testing.TB, reply string) string {
	t.Helper()
	id, ok := strings.CutPrefix(reply, "250 Ok ")
	if !ok || len(id) != 60 || !strings.HasSuffix(id, "-000000") {
		t.Fatalf("reply %q: want 250 Ok <MessageId>", reply)
	}
	return id
}

// delivered waits (at most 15 s) for the message with SES MessageId id at
// the sink.
func delivered(t testing.TB, s *stack.Stack, id string) smtpsink.Received {
	t.Helper()
	want := []byte("Message-ID: <" + id + "@" + stack.Hostname + ">")
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range s.Sink.Messages() {
			if bytes.Contains(m.Data, want) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("message %s not delivered", id)
	return smtpsink.Received{}
}

// verifyDomain verifies domain with Easy DKIM through the v1 API (the
// CNAMEs published in the test DNS) and waits for Success.
func verifyDomain(t testing.TB, s *stack.Stack, domain string) {
	t.Helper()
	ctx := context.Background()
	dk, err := s.SES.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String(domain)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range dk.DkimTokens {
		s.DNS.AddCNAME(tok+"._domainkey."+domain, tok+"."+stack.DKIMZone)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := s.SES.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{domain}})
		if err != nil {
			t.Fatal(err)
		}
		if out.VerificationAttributes[domain].VerificationStatus == sestypes.VerificationStatusSuccess {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not verified after 30 s", domain)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// production lifts the root account out of the sandbox with limits no test
// reaches.
func production(t testing.TB, s *stack.Stack) {
	t.Helper()
	if err := s.App.Accounts.ApproveProduction(context.Background(), account.RootAccountID, 100000, 1000); err != nil {
		t.Fatal(err)
	}
}

// readAll reads what is left on the connection until it closes (bounded by
// the connection's deadline).
func (c *rawClient) readAll() string {
	var b strings.Builder
	r := c.text.R
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String()
		}
	}
}

func encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
