package sesv2_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	gomail "github.com/emersion/go-message/mail"

	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// apiError is what every modelled SES v2 exception of the SDK implements.
type apiError interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// wantError asserts that err is the SDK's typed exception E, sent with the
// HTTP status and (unless "") the exact message.
func wantError[E apiError](t testing.TB, err error, status int, message string) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want %T", err, err, e)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	if got := re.HTTPStatusCode(); got != status {
		t.Errorf("%s: HTTP status %d, want %d", e.ErrorCode(), got, status)
	}
	if message != "" && e.ErrorMessage() != message {
		t.Errorf("%s message:\n got %q\nwant %q", e.ErrorCode(), e.ErrorMessage(), message)
	}
	return e
}

// eventually polls cond every 25 ms until it holds, failing after timeout
// with the last reason cond gave.
func eventually(t testing.TB, timeout time.Duration, cond func() (ok bool, why string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not after %v: %s", timeout, why)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// getIdentity is GetEmailIdentity, failing the test on error.
func getIdentity(t testing.TB, s *stack.Stack, name string) *sesv2.GetEmailIdentityOutput {
	t.Helper()
	out, err := s.SESv2.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
	if err != nil {
		t.Fatalf("GetEmailIdentity %s: %v", name, err)
	}
	return out
}

// verifyDomain1024 verifies a domain with Easy DKIM like stack.VerifyDomain,
// but with 1024-bit keys, which are quick to make.
func verifyDomain1024(t testing.TB, s *stack.Stack, domain string) []string {
	t.Helper()
	out, err := s.SESv2.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{
		EmailIdentity:         aws.String(domain),
		DkimSigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa1024Bit},
	})
	if err != nil {
		t.Fatalf("CreateEmailIdentity %s: %v", domain, err)
	}
	publishCNAMEs(s, domain, out.DkimAttributes.Tokens)
	s.WaitVerified(t, domain)
	return out.DkimAttributes.Tokens
}

func publishCNAMEs(s *stack.Stack, domain string, tokens []string) {
	for _, tok := range tokens {
		s.DNS.AddCNAME(tok+"._domainkey."+domain, tok+"."+stack.DKIMZone)
	}
}

// waitMessage waits up to 15 s for a message at the sink whose Message-ID
// is the one Sesame writes for the SES message id.
func waitMessage(t testing.TB, s *stack.Stack, messageID string) smtpsink.Received {
	t.Helper()
	want := "<" + messageID + "@" + stack.Hostname + ">"
	var found smtpsink.Received
	eventually(t, 15*time.Second, func() (bool, string) {
		for _, m := range s.Sink.Messages() {
			if h := header(t, m.Data); h.Get("Message-Id") == want {
				found = m
				return true, ""
			}
		}
		return false, "no message with Message-ID " + want + " at the sink"
	})
	return found
}

// header parses the header of a message.
func header(t testing.TB, data []byte) gomail.Header {
	t.Helper()
	r, err := gomail.CreateReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("parsing message: %v", err)
	}
	return r.Header
}

// noRedirects is an HTTP client that reports redirects instead of following
// them, so a test never leaves the loopback.
func noRedirects() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
