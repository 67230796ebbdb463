package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// Fixtures. The secret is AWS's documentation example; it must never show up
// in an error (assertNoSecret).
const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRegion = "us-east-1"
	testHost   = "email.us-east-1.amazonaws.com"
)

// signTime is when every fixture request is signed.
var signTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// keys is an in-memory Lookup.
func keys(m map[string]string) func(context.Context, string) (string, error) {
	return func(_ context.Context, akid string) (string, error) {
		if s, ok := m[akid]; ok {
			return s, nil
		}
		return "", ErrUnknownKey
	}
}

// newVerifier accepts testAKID in testRegion for "ses", with the clock at now.
func newVerifier(now time.Time) *Verifier {
	return &Verifier{
		Region:   testRegion,
		Services: []string{"ses"},
		Lookup:   keys(map[string]string{testAKID: testSecret}),
		Now:      func() time.Time { return now },
	}
}

// signing parameterises sdkSign.
type signing struct {
	akid, secret, token string
	region, service     string
	at                  time.Time
}

func defaultSigning() signing {
	return signing{akid: testAKID, secret: testSecret, region: testRegion, service: "ses", at: signTime}
}

func (s signing) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.akid, SecretAccessKey: s.secret, SessionToken: s.token}
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// newRequest builds a client request with body; rawURL may carry an escaped
// path and a raw query, which are kept as written.
func newRequest(t testing.TB, method, rawURL string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sdkSign signs r in the header form with aws-sdk-go-v2's signer and returns
// the canonical request the SDK built.
func sdkSign(t testing.TB, r *http.Request, body []byte, s signing) string {
	t.Helper()
	var canon string
	err := v4.NewSigner().SignHTTP(context.Background(), s.creds(), r, hexSHA256(body), s.service, s.region, s.at,
		func(o *v4.SignerOptions) {
			o.LogSigning = true
			o.Logger = logging.LoggerFunc(func(_ logging.Classification, format string, v ...any) {
				canon = sdkCanonical(t, format, v)
			})
		})
	if err != nil {
		t.Fatal(err)
	}
	if canon == "" {
		t.Fatal("the SDK logged no canonical request")
	}
	return canon
}

// sdkPresign presigns r with aws-sdk-go-v2's signer for expires and returns a
// request for the presigned URL (carrying the headers the SDK says must be
// sent) plus the SDK's canonical request.
func sdkPresign(t testing.TB, r *http.Request, body []byte, s signing, expires time.Duration) (*http.Request, string) {
	t.Helper()
	if expires > 0 {
		if r.URL.RawQuery != "" {
			r.URL.RawQuery += "&"
		}
		r.URL.RawQuery += "X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second))
	}
	var canon string
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), s.creds(), r, hexSHA256(body), s.service, s.region, s.at,
		func(o *v4.SignerOptions) {
			o.LogSigning = true
			o.Logger = logging.LoggerFunc(func(_ logging.Classification, format string, v ...any) {
				canon = sdkCanonical(t, format, v)
			})
		})
	if err != nil {
		t.Fatal(err)
	}
	if canon == "" {
		t.Fatal("the SDK logged no canonical request")
	}
	out := newRequest(t, r.Method, u, body)
	for k, vs := range hdr {
		if strings.EqualFold(k, "host") {
			continue
		}
		out.Header[k] = vs
	}
	return out, canon
}

// sdkCanonical extracts the canonical request from the SDK's signing log.
func sdkCanonical(t testing.TB, format string, v []any) string {
	t.Helper()
	if len(v) == 0 {
		t.Fatalf("unexpected SDK log %q", format)
	}
	s, ok := v[0].(string)
	if !ok {
		t.Fatalf("unexpected SDK log argument %T", v[0])
	}
	return s
}

// verifyErr runs Verify and returns its *Error, failing if there is none.
func verifyErr(t testing.TB, v *Verifier, r *http.Request, body []byte) *Error {
	t.Helper()
	res, err := v.Verify(context.Background(), r, body)
	if err == nil {
		t.Fatalf("Verify succeeded (%+v), want an error", res)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify error %v is not a *Error", err)
	}
	assertNoSecret(t, e)
	return e
}

func assertNoSecret(t testing.TB, err error) {
	t.Helper()
	if strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

func wantErr(t testing.TB, e *Error, kind Kind, msg string) {
	t.Helper()
	if e.Kind != kind || e.Message != msg {
		t.Fatalf("got %v %q\nwant %v %q", e.Kind, e.Message, kind, msg)
	}
}

func sdkSigner() *v4.Signer { return v4.NewSigner() }
