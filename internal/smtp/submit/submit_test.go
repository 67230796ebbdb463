package submit_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/smtp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/dns"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// The spine, the way most applications send: Go's net/smtp with STARTTLS
// and AUTH PLAIN. The reply is SES's "250 Ok <MessageId>", the message is
// delivered with that id in its Message-ID and a DKIM signature of the
// verified domain that verifies through DNS.
func TestSTARTTLSWithNetSMTP(t *testing.T) {
	s := stack.Start(t)
	verifyDomain(t, s, "example.com")
	production(t, s)
	addr := s.SMTPAddr(t)
	host, _, _ := net.SplitHostPort(addr)

	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH advertised before STARTTLS")
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not advertised")
	}
	if err := c.StartTLS(s.SMTPTLSConfig(t)); err != nil {
		t.Fatalf("STARTTLS with the certificate verified: %v", err)
	}
	for ext, want := range map[string]string{"AUTH": "PLAIN LOGIN", "SIZE": "41943040", "8BITMIME": "", "PIPELINING": "", "ENHANCEDSTATUSCODES": ""} {
		if ok, got := c.Extension(ext); !ok || got != want {
			t.Errorf("after TLS: %s = %v %q, want %q", ext, ok, got, want)
		}
	}
	for _, ext := range []string{"STARTTLS", "SMTPUTF8"} {
		if ok, _ := c.Extension(ext); ok {
			t.Errorf("after TLS: %s advertised", ext)
		}
	}
	if err := c.Auth(smtp.PlainAuth("", s.Root.ID, s.SMTPPassword(), host)); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("app@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@example.net"); err != nil {
		t.Fatal(err)
	}
	// net/smtp drops the text of the reply to DATA; read it off c.Text.
	msg := message("App <app@example.com>", "bob@example.net", "Hello", "Hello Bob,\r\n.leading dot\r\n",
		"X-SES-MESSAGE-TAGS: campaign=welcome, tier=free")
	seq, err := c.Text.Cmd("DATA")
	if err != nil {
		t.Fatal(err)
	}
	c.Text.StartResponse(seq)
	_, _, err = c.Text.ReadResponse(354)
	c.Text.EndResponse(seq)
	if err != nil {
		t.Fatal(err)
	}
	w := c.Text.DotWriter()
	io.WriteString(w, msg)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	code, text, err := c.Text.ReadResponse(250)
	if err != nil {
		t.Fatal(err)
	}
	id := messageID(t, "250 "+text)
	if code != 250 {
		t.Fatalf("code %d", code)
	}
	if err := c.Quit(); err != nil {
		t.Error(err)
	}

	got := delivered(t, s, id)
	if !strings.HasPrefix(got.From, id+"@") || !slices.Equal(got.To, []string{"bob@example.net"}) {
		t.Errorf("envelope %q → %v, want the bounce address of %s → [bob@example.net]", got.From, got.To, id)
	}
	if bytes.Contains(bytes.ToLower(got.Data), []byte("x-ses-message-tags")) {
		t.Error("X-SES-MESSAGE-TAGS was delivered; SES strips it")
	}
	if !bytes.Contains(got.Data, []byte("\r\n\r\nHello Bob,\r\n.leading dot\r\n")) {
		t.Errorf("body not delivered as sent (dot-stuffing undone):\n%s", got.Data)
	}
	verifyDKIM(t, s, got.Data, "example.com")
}

// go-smtp's client on the implicit-TLS port with AUTH LOGIN: an 8-bit UTF-8
// body, an RFC 2047 subject and a binary attachment arrive byte for byte.
func TestImplicitTLSWithGoSMTP(t *testing.T) {
	s := stack.Start(t)
	verifyDomain(t, s, "example.com")
	production(t, s)

	c, err := gosmtp.DialTLS(s.SMTPSAddr(t), s.SMTPTLSConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS advertised inside TLS")
	}
	if err := c.Auth(sasl.NewLoginClient(s.Root.ID, s.SMTPPassword())); err != nil {
		t.Fatal(err)
	}

	attachment := make([]byte, 48<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range attachment {
		attachment[i] = byte(rng.UintN(256))
	}
	const subject, text = "Grüße aus Köln 🎉", "Hallo Jürgen,\r\nщи да каша — 世界\r\n"
	body := "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text +
		"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + wrap76(attachment) + "--b1--\r\n"
	msg := "From: =?utf-8?q?J=C3=BCrgen?= <jurgen@example.com>\r\nTo: ann@example.net\r\nSubject: " +
		mime.QEncoding.Encode("utf-8", subject) + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" + body

	if err := c.Mail("jurgen@example.com", &gosmtp.MailOptions{Body: gosmtp.Body8BitMIME}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("ann@example.net", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, msg)
	resp, err := w.CloseWithResponse()
	if err != nil {
		t.Fatal(err)
	}
	id := messageID(t, "250 "+resp.StatusText)
	c.Quit()

	got := delivered(t, s, id)
	if _, after, _ := bytes.Cut(got.Data, []byte("\r\n\r\n")); !bytes.Equal(after, []byte(body)) {
		t.Error("the body (text and attachment) was not delivered byte for byte")
	}
	r, err := mail.CreateReader(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Header.Subject(); err != nil || got != subject {
		t.Errorf("Subject = %q, %v; want %q", got, err, subject)
	}
	var sawText, sawFile bool
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p.Body)
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			sawText = string(data) == strings.TrimSuffix(text, "\r\n") // the last CRLF belongs to the boundary
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			sawFile = name == "data.bin" && bytes.Equal(data, attachment)
		}
	}
	if !sawText || !sawFile {
		t.Errorf("decoded parts: text intact %v, attachment intact %v", sawText, sawFile)
	}
	verifyDKIM(t, s, got.Data, "example.com")
}

// Every refusal before a message: SES's texts, with enhanced codes.
func TestSessionRefusals(t *testing.T) {
	s := stack.Start(t)
	b64 := func(s string) string { return encode([]byte(s)) }

	t.Run("before TLS", func(t *testing.T) {
		c := dialRaw(t, s.SMTPAddr(t), nil)
		exts := c.ehlo()
		if !slices.Contains(exts, "STARTTLS") || slices.ContainsFunc(exts, func(e string) bool { return strings.HasPrefix(e, "AUTH") }) {
			t.Errorf("EHLO before TLS: %q; want STARTTLS and no AUTH", exts)
		}
		if !slices.Contains(exts, "SIZE 41943040") || slices.Contains(exts, "SMTPUTF8") {
			t.Errorf("EHLO: %q; want SIZE 41943040, no SMTPUTF8", exts)
		}
		const want = "530 5.7.0 Must issue a STARTTLS command first"
		c.expect("AUTH PLAIN "+b64("\x00"+s.Root.ID+"\x00"+s.SMTPPassword()), want)
		c.expect("AUTH LOGIN", want)
		c.expect("MAIL FROM:<app@example.com>", want)
		c.expect("QUIT", "221 2.0.0 Bye")
	})

	t.Run("before AUTH", func(t *testing.T) {
		c := dialRaw(t, s.SMTPAddr(t), nil)
		c.ehlo()
		c.startTLS(s.SMTPTLSConfig(t))
		c.expect("MAIL FROM:<app@example.com>", "530 5.7.0 Authentication required")
		c.expect("RCPT TO:<bob@example.net>", "502 5.5.1 Missing MAIL FROM command.")
	})

	t.Run("credentials", func(t *testing.T) {
		c := dialRaw(t, s.SMTPAddr(t), nil)
		c.ehlo()
		c.startTLS(s.SMTPTLSConfig(t))
		const bad = "535 5.7.8 Authentication Credentials Invalid"
		if got := c.authPlain(s.Root.ID, "B"+strings.Repeat("A", 43)); got != bad {
			t.Errorf("wrong password: %q", got)
		}
		// The secret is what derives the password; it is not one.
		if got := c.authPlain(s.Root.ID, s.Root.Secret); got != bad {
			t.Errorf("raw secret as password: %q", got)
		}
		// The third failure is the last: the server hangs up after it.
		if got := c.authPlain("AKIAUNKNOWNKEY000000", s.SMTPPassword()); got != bad {
			t.Errorf("unknown key: %q", got)
		}
		if rest := c.readAll(); rest != "" {
			t.Errorf("after the third failure: %q, want the connection closed", rest)
		}
	})

	t.Run("AUTH LOGIN step by step", func(t *testing.T) {
		c := dialRaw(t, s.SMTPAddr(t), nil)
		c.ehlo()
		c.startTLS(s.SMTPTLSConfig(t))
		c.expect("AUTH LOGIN", "334 "+b64("Username:"))
		c.expect(b64(s.Root.ID), "334 "+b64("Password:"))
		c.expect(b64(s.SMTPPassword()), "235 2.0.0 Authentication succeeded")
		c.expect("AUTH PLAIN "+b64("\x00"+s.Root.ID+"\x00"+s.SMTPPassword()), "503 5.5.1 Already authenticated")
	})

	t.Run("implicit TLS", func(t *testing.T) {
		c := dialRaw(t, s.SMTPSAddr(t), s.SMTPTLSConfig(t))
		exts := c.ehlo()
		if slices.Contains(exts, "STARTTLS") || !slices.Contains(exts, "AUTH PLAIN LOGIN") {
			t.Errorf("EHLO on the TLS port: %q", exts)
		}
		c.expect("MAIL FROM:<app@example.com>", "530 5.7.0 Authentication required")
		if got := c.authPlain(s.Root.ID, s.SMTPPassword()); got != "235 2.0.0 Authentication succeeded" {
			t.Errorf("AUTH: %q", got)
		}
	})
}

// The domain's refusals, mapped once (reply.go), as SES words them.
func TestSendingRefusals(t *testing.T) {
	s := stack.Start(t)
	verifyDomain(t, s, "example.com")
	ctx := context.Background()
	const from = "app@example.com"
	const notVerified = "554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: "

	// In the sandbox: recipients must be verified, and the rate is one
	// recipient a second.
	c := session(t, s)
	if got := c.transaction(from, []string{"stranger@example.net"}, message(from, "stranger@example.net", "x", "x")); got != notVerified+"stranger@example.net" {
		t.Errorf("sandbox recipient: %q", got)
	}
	c.expect("RSET", "250 2.0.0 Session reset")
	sim := "success@simulator.amazonses.com"
	messageID(t, c.transaction(from, []string{sim}, message(from, sim, "one", "x")))
	if got := c.transaction(from, []string{sim}, message(from, sim, "two", "x")); got != "454 4.7.0 Throttling failure: Maximum sending rate exceeded" {
		t.Errorf("second message within a second in the sandbox: %q", got)
	}

	production(t, s)
	cases := []struct {
		name      string
		from      string
		to        []string
		msg       string
		wantReply string
	}{
		{"unverified From", "x@unverified.test", []string{"bob@example.net"},
			message("x@unverified.test", "bob@example.net", "x", "x"), notVerified + "x@unverified.test"},
		{"unverified header From", from, []string{"bob@example.net"},
			message("Spoof <ceo@other.test>", "bob@example.net", "x", "x"), notVerified + "ceo@other.test"},
		{"duplicate header", from, []string{"bob@example.net"},
			message(from, "bob@example.net", "x", "x", "Subject: again"), "554 5.6.0 Transaction failed: Duplicate header 'Subject'."},
		{"unknown configuration set", from, []string{"bob@example.net"},
			message(from, "bob@example.net", "x", "x", "X-SES-CONFIGURATION-SET: nope"), "554 5.6.0 Transaction failed: Configuration set <nope> does not exist."},
	}
	for _, tc := range cases {
		c.expect("RSET", "250 2.0.0 Session reset")
		if got := c.transaction(tc.from, tc.to, tc.msg); got != tc.wantReply {
			t.Errorf("%s:\n got: %q\nwant: %q", tc.name, got, tc.wantReply)
		}
	}

	// No SMTPUTF8 at SES: addresses are 7-bit ASCII (SES-BEHAVIOR §3.1).
	c.expect("MAIL FROM:<jürgen@example.com>", "501 5.1.7 Invalid MAIL FROM address provided")
	c.expect("MAIL FROM:<"+from+">", "250 2.0.0 Roger, accepting mail from <"+from+">")
	c.expect("RCPT TO:<bad@@example.net>", "501 5.1.3 Invalid RCPT TO address provided")
	for i := range 50 {
		rc := "r" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.net"
		c.expect("RCPT TO:<"+rc+">", "250 2.0.0 I'll make sure <"+rc+"> gets this")
	}
	c.expect("RCPT TO:<one-too-many@example.net>", "554 5.5.3 Transaction failed: Too many recipients")
	c.expect("RSET", "250 2.0.0 Session reset")

	if err := s.App.Accounts.SetSendingEnabled(ctx, account.RootAccountID, false); err != nil {
		t.Fatal(err)
	}
	if got := c.transaction(from, []string{"bob@example.net"}, message(from, "bob@example.net", "x", "x")); got != "554 5.7.1 Transaction failed: Email sending is disabled for this account." {
		t.Errorf("sending paused: %q", got)
	}
	if err := s.App.Accounts.SetSendingEnabled(ctx, account.RootAccountID, true); err != nil {
		t.Fatal(err)
	}

	// The daily quota: one message left.
	q, err := s.App.Accounts.Quota(ctx, account.RootAccountID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.App.Accounts.SetQuota(ctx, account.RootAccountID, int64(q.SentLast24Hours)+1, 1000); err != nil {
		t.Fatal(err)
	}
	messageID(t, c.transaction(from, []string{"bob@example.net"}, message(from, "bob@example.net", "last", "x")))
	if got := c.transaction(from, []string{"bob@example.net"}, message(from, "bob@example.net", "over", "x")); got != "454 4.7.0 Throttling failure: Daily message quota exceeded" {
		t.Errorf("over the daily quota: %q", got)
	}
}

// Twenty messages on one connection, each transaction pipelined (RFC 2920:
// MAIL, RCPT and DATA in one write), with RSET between: every one accepted
// with its own MessageId and delivered.
func TestManyMessagesPipelined(t *testing.T) {
	s := stack.Start(t)
	verifyDomain(t, s, "example.com")
	production(t, s)
	c := session(t, s)
	seen := map[string]bool{}
	for i := range 20 {
		batch := "MAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n"
		if _, err := io.WriteString(c.conn, batch); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"250 2.0.0 Roger", "250 2.0.0 I'll make sure <bob", "250 2.0.0 I'll make sure <carol", "354 "} {
			if got := c.read(); !strings.HasPrefix(got, want) {
				t.Fatalf("message %d: reply %q, want %q…", i, got, want)
			}
		}
		w := c.text.DotWriter()
		io.WriteString(w, message("app@example.com", "bob@example.net, carol@example.net", "n", strings.Repeat("line\r\n", i+1)))
		w.Close()
		id := messageID(t, c.read())
		if seen[id] {
			t.Fatalf("MessageId %s given twice", id)
		}
		seen[id] = true
		c.expect("RSET", "250 2.0.0 Session reset")
	}
	c.expect("QUIT", "221 2.0.0 Bye")
	for id := range seen {
		if m := delivered(t, s, id); len(m.To) != 2 {
			t.Errorf("%s delivered to %v", id, m.To)
		}
	}
}

// verifyDKIM checks that msg carries one valid DKIM signature by domain,
// its key found through the test DNS and Sesame's own DKIM zone.
func verifyDKIM(t *testing.T, s *stack.Stack, msg []byte, domain string) {
	t.Helper()
	resolver, err := dns.NewClient(s.DNS.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		return resolver.LookupTXT(context.Background(), name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(verifs) != 1 || verifs[0].Err != nil || verifs[0].Domain != domain {
		for _, v := range verifs {
			t.Logf("signature d=%s err=%v", v.Domain, v.Err)
		}
		t.Fatalf("want one valid DKIM signature by %s, got %d", domain, len(verifs))
	}
}

// wrap76 is base64 in lines of 76 characters (RFC 2045 §6.8).
func wrap76(data []byte) string {
	enc := encode(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}
