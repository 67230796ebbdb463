package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// sdkCase is a request shape SES clients send: v1 form POSTs and v2 REST
// paths with encoded labels, query strings, and awkward headers.
type sdkCase struct {
	name    string
	method  string
	target  string // path and query, written as the client would send them
	body    string
	headers [][2]string
}

var sdkCases = []sdkCase{
	{
		name:   "v1 form POST",
		method: http.MethodPost,
		target: "/",
		body: "Action=SendEmail&Version=2010-12-01&Source=sender%40example.com" +
			"&Destination.ToAddresses.member.1=to%40example.com&Message.Subject.Data=Hello+world&Message.Body.Text.Data=Hi%21",
		headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
	},
	{name: "v2 GET identity with @", method: http.MethodGet, target: "/v2/email/identities/a%40b.com"},
	{
		name:    "v2 PUT JSON under encoded label",
		method:  http.MethodPut,
		target:  "/v2/email/identities/a%40b.com/dkim/signing",
		body:    `{"SigningAttributesOrigin":"AWS_SES"}`,
		headers: [][2]string{{"Content-Type", "application/json"}},
	},
	{
		name:   "v2 query with spaces, tilde, plus, repeated and empty keys",
		method: http.MethodGet,
		target: "/v2/email/suppression/addresses?Reason=COMPLAINT&Reason=BOUNCE&NextToken=a%20b~c%2Fd&Plus=x+y&PageSize=10&Empty=&Flag",
	},
	{
		name:   "query sorted after encoding",
		method: http.MethodGet,
		target: "/v2/email/templates?a=a-b&a=a%2Fb&B=1&%C3%A9=%E2%82%AC",
	},
	{
		name:   "headers trimmed, collapsed and repeated",
		method: http.MethodPost,
		target: "/v2/email/outbound-emails",
		body:   `{"Content":{"Simple":{"Subject":{"Data":"x"}}}}`,
		headers: [][2]string{
			{"Content-Type", "application/json"},
			{"X-Amz-Meta-Note", "  a   b  c "},
			{"X-Custom", "one"},
			{"X-Custom", "two   three"},
		},
	},
	{name: "space and plus in path label", method: http.MethodGet, target: "/v2/email/templates/My%20Template%2B1"},
	{name: "sub-delims left raw in path", method: http.MethodDelete, target: "/v2/email/contact-lists/a!b$c'd(e)f*g,h;i=j:k@l"},
	{name: "trailing slash", method: http.MethodGet, target: "/v2/email/email-address-insights/"},
}

func (c sdkCase) request(t testing.TB, base string) (*http.Request, []byte) {
	t.Helper()
	var body []byte
	if c.body != "" {
		body = []byte(c.body)
	}
	r := newRequest(t, c.method, base+c.target, body)
	for _, h := range c.headers {
		r.Header.Add(h[0], h[1])
	}
	return r, body
}

// ourCanonical rebuilds the canonical request of a signed request the way
// Verify does.
func ourCanonical(t testing.TB, r *http.Request, body []byte, presign bool) string {
	t.Helper()
	q := parseQuery(r.URL.RawQuery)
	signed, _ := queryGet(q, qSignedHeaders)
	if !presign {
		a, err := parseAuthorization(r.Header.Get(hdrAuthorization))
		if err != nil {
			t.Fatal(err)
		}
		signed = a.signedHeaders
	}
	hash, herr := payloadHash(r, body)
	if herr != nil {
		t.Fatal(herr)
	}
	canon, ok := canonicalRequest(r, q, signed, presign, hash)
	if !ok {
		t.Fatal("a signed header is missing")
	}
	return canon
}

func checkResult(t testing.TB, res Result, presigned bool) {
	t.Helper()
	want := Result{AccessKeyID: testAKID, Service: "ses", Region: testRegion, Presigned: presigned, Time: signTime}
	if res != want {
		t.Fatalf("Result = %+v, want %+v", res, want)
	}
}

// TestSDKHeaderForm: requests signed by aws-sdk-go-v2 verify, and our
// canonical request is byte-for-byte the SDK's.
func TestSDKHeaderForm(t *testing.T) {
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			r, body := c.request(t, "https://"+testHost)
			sdkCanon := sdkSign(t, r, body, defaultSigning())
			if got := ourCanonical(t, r, body, false); got != sdkCanon {
				t.Fatalf("canonical request differs\nours:\n%s\nSDK:\n%s", got, sdkCanon)
			}
			res, err := newVerifier(signTime).Verify(context.Background(), r, body)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, false)
		})
	}
}

// TestSDKPresigned: the same requests presigned by aws-sdk-go-v2 verify.
func TestSDKPresigned(t *testing.T) {
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			r, body := c.request(t, "https://"+testHost)
			pr, sdkCanon := sdkPresign(t, r, body, defaultSigning(), 15*time.Minute)
			if got := ourCanonical(t, pr, body, true); got != sdkCanon {
				t.Fatalf("canonical request differs\nours:\n%s\nSDK:\n%s", got, sdkCanon)
			}
			// Ten minutes on: past the header form's skew, within X-Amz-Expires.
			res, err := newVerifier(signTime.Add(10*time.Minute)).Verify(context.Background(), pr, body)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, true)
		})
	}
}

// TestCanonicalURIDoubleEncoded: for non-S3 services the SDK encodes the
// already-encoded path again, and so must we (SES-BEHAVIOR.md §2.2).
func TestCanonicalURIDoubleEncoded(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/email/identities/a%40b.com": "/v2/email/identities/a%2540b.com",
		"/v2/email/templates/My%20T":     "/v2/email/templates/My%2520T",
		"":                               "/",
	} {
		r := newRequest(t, http.MethodGet, "https://"+testHost+path, nil)
		sdkCanon := sdkSign(t, r, nil, defaultSigning())
		if got := strings.Split(sdkCanon, "\n")[1]; got != want {
			t.Errorf("SDK canonical URI of %q = %q, want %q", path, got, want)
		}
		if got := strings.Split(ourCanonical(t, r, nil, false), "\n")[1]; got != want {
			t.Errorf("our canonical URI of %q = %q, want %q", path, got, want)
		}
	}
}

// TestSDKSessionToken: temporary credentials sign X-Amz-Security-Token, in
// the header form and in the presigned query; Result reports the token.
func TestSDKSessionToken(t *testing.T) {
	s := defaultSigning()
	s.token = "FwoGZXIvYXdzEXAMPLE/TOKEN+=="
	v := newVerifier(signTime)

	r := newRequest(t, http.MethodGet, "https://"+testHost+"/v2/email/account", nil)
	sdkSign(t, r, nil, s)
	res, err := v.Verify(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.SessionToken != s.token {
		t.Fatalf("SessionToken = %q, want %q", res.SessionToken, s.token)
	}

	pr, _ := sdkPresign(t, newRequest(t, http.MethodGet, "https://"+testHost+"/v2/email/account", nil), nil, s, time.Minute)
	if res, err = v.Verify(context.Background(), pr, nil); err != nil {
		t.Fatal(err)
	}
	if res.SessionToken != s.token || !res.Presigned {
		t.Fatalf("presigned Result = %+v", res)
	}
}

// TestSDKContentSHA256: a hex X-Amz-Content-Sha256 is honoured when it
// matches the body; a mismatching one, or UNSIGNED-PAYLOAD, is refused.
func TestSDKContentSHA256(t *testing.T) {
	body := []byte(`{"EmailIdentity":"a@b.com"}`)
	v := newVerifier(signTime)
	sign := func(hash, header string) *http.Request {
		r := newRequest(t, http.MethodPost, "https://"+testHost+"/v2/email/identities", body)
		r.Header.Set("X-Amz-Content-Sha256", header)
		if err := sdkSigner().SignHTTP(context.Background(), defaultSigning().creds(), r, hash, "ses", testRegion, signTime); err != nil {
			t.Fatal(err)
		}
		return r
	}

	upper := strings.ToUpper(hexSHA256(body))
	if _, err := v.Verify(context.Background(), sign(upper, upper), body); err != nil {
		t.Fatalf("matching upper-case hash: %v", err)
	}
	other := hexSHA256([]byte("something else"))
	wantErr(t, verifyErr(t, v, sign(other, other), body), SignatureDoesNotMatch, msgSignatureDiffer)
	wantErr(t, verifyErr(t, v, sign("UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD"), body), SignatureDoesNotMatch, msgSignatureDiffer)
}

// TestSDKOverLoopback sends SDK-signed requests through net/http to a
// loopback server, so the verifier sees what a real server sees: the raw
// request-target, Host moved to r.Host, Content-Length as sent.
func TestSDKOverLoopback(t *testing.T) {
	v := newVerifier(signTime.Add(time.Minute))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := v.Verify(r.Context(), r, body)
		var e *Error
		switch {
		case errors.As(err, &e):
			code, status := e.QueryCode()
			http.Error(w, code+": "+e.Message, status)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			io.WriteString(w, res.AccessKeyID)
		}
	}))
	defer srv.Close()
	client := srv.Client()
	client.Timeout = 10 * time.Second

	send := func(t *testing.T, r *http.Request) (int, string) {
		t.Helper()
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, strings.TrimSpace(string(b))
	}

	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			r, body := c.request(t, srv.URL)
			sdkSign(t, r, body, defaultSigning())
			if status, msg := send(t, r); status != http.StatusOK || msg != testAKID {
				t.Fatalf("header form: %d %s", status, msg)
			}

			r, body = c.request(t, srv.URL)
			pr, _ := sdkPresign(t, r, body, defaultSigning(), time.Hour)
			if status, msg := send(t, pr); status != http.StatusOK || msg != testAKID {
				t.Fatalf("presigned: %d %s", status, msg)
			}

			// And the wire really is checked: a tampered query fails.
			r, body = c.request(t, srv.URL)
			sdkSign(t, r, body, defaultSigning())
			r.URL.RawQuery += "&Tampered=1"
			if status, msg := send(t, r); status != http.StatusForbidden || !strings.HasPrefix(msg, "SignatureDoesNotMatch: ") {
				t.Fatalf("tampered: %d %s", status, msg)
			}
		})
	}
}
