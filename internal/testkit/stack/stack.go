// Package stack starts a whole Sesame in-process for integration tests: the
// app on 127.0.0.1:0 with a temporary data directory, a fail-closed loopback
// DNS server holding the test's records (with Sesame's DKIM zone forwarded to
// Sesame's own responder), a real SMTP sink as relay or MX, and AWS SDK
// clients signed with the root key. Nothing of Sesame's core is mocked.
package stack

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	gomail "github.com/emersion/go-message/mail"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/app"
	"github.com/sesamehq/sesame/internal/config"
	"github.com/sesamehq/sesame/internal/delivery"
	"github.com/sesamehq/sesame/internal/delivery/transport"
	"github.com/sesamehq/sesame/internal/testkit/dnstest"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
)

// Hostname and DKIMZone are the test server's names.
const (
	Hostname = "sesame.test"
	DKIMZone = "dkim.sesame.test"
	Region   = "us-east-1"
)

// Stack is a running Sesame and its surroundings.
type Stack struct {
	App   *app.App
	DNS   *dnstest.Server
	Sink  *smtpsink.Sink
	SES   *ses.Client
	SESv2 *sesv2.Client
	Root  account.Key
	URL   string // the HTTP base URL
	Cfg   *config.Config
}

type options struct {
	dev      bool
	mx       bool
	sinkOpts []smtpsink.Option
	dataDir  string
	mutate   []func(*config.Config)
	tune     []func(*app.App)
}

// Option changes how the stack starts.
type Option func(*options)

// Dev starts Sesame with --dev (mail captured, accounts out of the sandbox).
func Dev() Option { return func(o *options) { o.dev = true } }

// MX delivers through MX look-ups (the sink answers for every domain the test
// publishes with s.PublishMX) instead of using the sink as relay.
func MX() Option { return func(o *options) { o.mx = true } }

// SinkOptions configure the SMTP sink.
func SinkOptions(opts ...smtpsink.Option) Option {
	return func(o *options) { o.sinkOpts = append(o.sinkOpts, opts...) }
}

// DataDir uses dir instead of a fresh temporary directory.
func DataDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// Configure edits the configuration before start.
func Configure(f func(*config.Config)) Option {
	return func(o *options) { o.mutate = append(o.mutate, f) }
}

// Tune edits the app's tuning (a.Retry, a.Timeouts) before start, after the
// stack's own short test values are set.
func Tune(f func(*app.App)) Option {
	return func(o *options) { o.tune = append(o.tune, f) }
}

// Start starts a stack; everything stops at the end of the test.
func Start(t testing.TB, opts ...Option) *Stack {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	s := &Stack{DNS: dnstest.New(t), Sink: smtpsink.New(t, o.sinkOpts...)}
	cfg, err := config.Load([]string{
		"--data", o.dataDir, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--smtps", "127.0.0.1:0",
		"--mx", "127.0.0.1:0", "--dns-listen", "127.0.0.1:0", "--hostname", Hostname, "--dkim-zone", DKIMZone,
		"--dns", s.DNS.Addr(), "--region", Region,
	}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dev = o.dev
	cfg.VerifyInterval = 50 * time.Millisecond
	if o.mx {
		cfg.DeliveryPort = s.Sink.Port()
	} else {
		cfg.Relay = s.Sink.Addr()
	}
	for _, f := range o.mutate {
		f(cfg)
	}
	s.Cfg = cfg
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("SESAME_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	a.Retry = delivery.Config{RetryBase: 100 * time.Millisecond, RetryMax: time.Second, RetryWindow: 20 * time.Second}
	a.Timeouts = transport.Timeouts{Connect: 2 * time.Second, Greeting: 3 * time.Second, EHLO: 3 * time.Second, StartTLS: 3 * time.Second,
		Mail: 3 * time.Second, Rcpt: 3 * time.Second, DataInit: 3 * time.Second, DataBlock: 5 * time.Second, DataEnd: 5 * time.Second, Quit: time.Second}
	for _, f := range o.tune {
		f(a)
	}
	if err := a.Start(context.Background()); err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("closing app: %v", err)
		}
	})
	s.App, s.Root, s.URL = a, a.RootKey, "http://"+a.HTTPAddr()
	s.DNS.Forward(DKIMZone, a.DNSAddr())
	s.SES, s.SESv2 = s.Clients(a.RootKey.ID, a.RootKey.Secret)
	return s
}

// Clients returns v1 and v2 SDK clients signing with the given key. They do
// not retry, so a test sees every error as the server sent it.
func (s *Stack) Clients(id, secret string) (*ses.Client, *sesv2.Client) {
	cfg := aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
	}
	v1 := ses.NewFromConfig(cfg, func(o *ses.Options) { o.BaseEndpoint = aws.String(s.URL) })
	v2 := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(s.URL) })
	return v1, v2
}

// PublishMX makes the sink the MX host of domain.
func (s *Stack) PublishMX(domain string) {
	host := "mx." + domain
	s.DNS.AddMX(domain, 10, host)
	s.DNS.AddA(host, "127.0.0.1")
}

// ApproveProduction lifts the root account out of the sandbox.
func (s *Stack) ApproveProduction(t testing.TB) {
	t.Helper()
	if err := s.App.Accounts.ApproveProduction(context.Background(), account.RootAccountID, 0, 0); err != nil {
		t.Fatal(err)
	}
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/verify-email\?[^\s"<>]+`)

// VerifyEmail verifies an address the way a user does: it asks for
// verification (v1 VerifyEmailIdentity), finds the mail at the sink, and
// follows the link.
func (s *Stack) VerifyEmail(t testing.TB, addr string) {
	t.Helper()
	before := len(s.Sink.Messages())
	if _, err := s.SES.VerifyEmailIdentity(context.Background(), &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(addr)}); err != nil {
		t.Fatalf("VerifyEmailIdentity %s: %v", addr, err)
	}
	link := s.VerificationLink(t, addr, before)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("following %s: %s", link, resp.Status)
	}
}

// VerificationLink waits for a verification mail to addr among the sink's
// messages after the first skip, and returns its link.
func (s *Stack) VerificationLink(t testing.TB, addr string, skip int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		msgs := s.Sink.Messages()
		for _, m := range msgs[min(skip, len(msgs)):] {
			if len(m.To) == 1 && strings.EqualFold(m.To[0], addr) {
				if link := linkRE.FindString(BodyText(t, m.Data)); link != "" {
					return link
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no verification mail for %s arrived", addr)
	return ""
}

// VerifyDomain creates (v2 CreateEmailIdentity) and verifies a domain with
// Easy DKIM: it publishes the three CNAMEs and waits for SUCCESS.
func (s *Stack) VerifyDomain(t testing.TB, domain string) []string {
	t.Helper()
	ctx := context.Background()
	out, err := s.SESv2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)})
	if err != nil {
		t.Fatalf("CreateEmailIdentity %s: %v", domain, err)
	}
	tokens := out.DkimAttributes.Tokens
	for _, tok := range tokens {
		s.DNS.AddCNAME(tok+"._domainkey."+domain, tok+"."+DKIMZone)
	}
	s.WaitVerified(t, domain)
	return tokens
}

// WaitVerified polls GetEmailIdentity until the identity is verified for
// sending (at most 30 s).
func (s *Stack) WaitVerified(t testing.TB, name string) *sesv2.GetEmailIdentityOutput {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := s.SESv2.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
		if err != nil {
			t.Fatalf("GetEmailIdentity %s: %v", name, err)
		}
		if got.VerifiedForSendingStatus && got.VerificationStatus == sesv2types.VerificationStatusSuccess {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not verified after 30s: status %s", name, got.VerificationStatus)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// BodyText returns the decoded text of a message's first text part (or of
// its single part).
func BodyText(t testing.TB, data []byte) string {
	t.Helper()
	r, err := gomail.CreateReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("parsing message: %v", err)
	}
	var out strings.Builder
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		if h, ok := p.Header.(*gomail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); strings.HasPrefix(ct, "text/") {
				b, _ := io.ReadAll(p.Body)
				out.Write(b)
				out.WriteString("\n")
			}
		}
	}
	return out.String()
}
