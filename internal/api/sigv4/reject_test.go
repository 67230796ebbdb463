package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// v1Body is a v1 SendEmail form body.
var v1Body = []byte("Action=SendEmail&Version=2010-12-01&Source=sender%40example.com&Message.Subject.Data=Hi")

// signedV1 returns a v1 form POST signed in the header form.
func signedV1(t testing.TB, s signing) (*http.Request, []byte) {
	t.Helper()
	body := append([]byte(nil), v1Body...)
	r := newRequest(t, http.MethodPost, "https://"+testHost+"/", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sdkSign(t, r, body, s)
	return r, body
}

// presignedV2 returns a v2 GET presigned for expires.
func presignedV2(t testing.TB, s signing, expires time.Duration) *http.Request {
	t.Helper()
	r := newRequest(t, http.MethodGet, "https://"+testHost+"/v2/email/identities/a%40b.com?PageSize=10", nil)
	pr, _ := sdkPresign(t, r, nil, s, expires)
	return pr
}

// editQuery rewrites a presigned request's query.
func editQuery(r *http.Request, edit func(url.Values)) {
	q := r.URL.Query()
	edit(q)
	r.URL.RawQuery = q.Encode()
}

func TestRejectMissingAuthentication(t *testing.T) {
	v := newVerifier(signTime)
	r := newRequest(t, http.MethodPost, "https://"+testHost+"/", v1Body)
	wantErr(t, verifyErr(t, v, r, v1Body), MissingAuthenticationToken, "Missing Authentication Token")

	// Another scheme is no SigV4 token either.
	for _, h := range []string{"Bearer abc", "AWS AKIAIOSFODNN7EXAMPLE:c2lnbmF0dXJl"} {
		r.Header.Set("Authorization", h)
		wantErr(t, verifyErr(t, v, r, v1Body), MissingAuthenticationToken, msgMissingToken)
	}
}

func TestRejectIncompleteHeader(t *testing.T) {
	good, body := signedV1(t, defaultSigning())
	authz := good.Header.Get("Authorization")
	parts := strings.SplitN(strings.TrimPrefix(authz, "AWS4-HMAC-SHA256 "), ", ", 3)
	cred, signed, sig := parts[0], parts[1], parts[2]

	cases := []struct {
		name, authz string
		dropDate    bool
		kind        Kind
		msg         string
	}{
		{"no Credential", "AWS4-HMAC-SHA256 " + signed + ", " + sig, false, IncompleteSignature,
			"Authorization header requires 'Credential' parameter."},
		{"empty Credential", "AWS4-HMAC-SHA256 Credential=, " + signed + ", " + sig, false, IncompleteSignature,
			"Authorization header requires 'Credential' parameter."},
		{"no Signature", "AWS4-HMAC-SHA256 " + cred + ", " + signed, false, IncompleteSignature,
			"Authorization header requires 'Signature' parameter."},
		{"no SignedHeaders", "AWS4-HMAC-SHA256 " + cred + ", " + sig, false, IncompleteSignature,
			"Authorization header requires 'SignedHeaders' parameter."},
		{"no date", authz, true, IncompleteSignature,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"no Signature, no date (SES-BEHAVIOR.md example)", "AWS4-HMAC-SHA256 " + cred + ", " + signed, true, IncompleteSignature,
			"Authorization header requires 'Signature' parameter. " +
				"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"nothing", "AWS4-HMAC-SHA256", true, IncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. " +
				"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"component without '='", "AWS4-HMAC-SHA256 Credential, " + signed + ", Signature=ab", false, IncompleteSignature,
			"'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: " +
				"'AWS4-HMAC-SHA256 Credential, " + signed + ", Signature=ab'."},
		{"unsupported algorithm", "AWS4-HMAC-SHA512 " + cred + ", " + signed + ", " + sig, false, IncompleteSignature,
			"Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now)."},
		{"credential with four elements", "AWS4-HMAC-SHA256 Credential=" + testAKID + "/20240101/us-east-1/ses, " + signed + ", " + sig, false,
			IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" +
				testAKID + "/20240101/us-east-1/ses'"},
		{"host not signed", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=content-length;content-type;x-amz-date, " + sig, false,
			SignatureDoesNotMatch, msgHostNotSigned},
		{"empty SignedHeaders", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig, false,
			SignatureDoesNotMatch, msgHostNotSigned},
		{"x-amz-date not signed", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=content-length;content-type;host, " + sig, false,
			SignatureDoesNotMatch, msgDateNotSigned},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := good.Clone(context.Background())
			r.Header.Set("Authorization", c.authz)
			if c.dropDate {
				r.Header.Del("X-Amz-Date")
			}
			wantErr(t, verifyErr(t, newVerifier(signTime), r, body), c.kind, c.msg)
		})
	}

	t.Run("bad X-Amz-Date", func(t *testing.T) {
		r := good.Clone(context.Background())
		r.Header.Set("X-Amz-Date", "2024-01-01T00:00:00Z")
		wantErr(t, verifyErr(t, newVerifier(signTime), r, body), IncompleteSignature,
			"Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601")
	})

	t.Run("components in any order and separated loosely", func(t *testing.T) {
		r := good.Clone(context.Background())
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256   "+sig+","+signed+" ,  "+cred)
		if _, err := newVerifier(signTime).Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRejectSignatureMismatch(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(r *http.Request, body []byte) []byte
	}{
		{"tampered body", func(_ *http.Request, body []byte) []byte {
			return append(append([]byte(nil), body...), "&Extra=1"...)
		}},
		{"tampered signed header", func(r *http.Request, body []byte) []byte {
			r.Header.Set("Content-Type", "text/plain")
			return body
		}},
		{"signed header removed", func(r *http.Request, body []byte) []byte {
			r.Header.Del("Content-Type")
			return body
		}},
		{"tampered path", func(r *http.Request, body []byte) []byte {
			r.URL.Path = "/v2/email/account"
			return body
		}},
		{"tampered method", func(r *http.Request, body []byte) []byte {
			r.Method = http.MethodPut
			return body
		}},
		{"tampered query", func(r *http.Request, body []byte) []byte {
			r.URL.RawQuery = "Action=DeleteIdentity"
			return body
		}},
		{"tampered host", func(r *http.Request, body []byte) []byte {
			r.Host = "email.eu-west-1.amazonaws.com"
			return body
		}},
		{"signature not hex", func(r *http.Request, body []byte) []byte {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-64]+strings.Repeat("z", 64))
			return body
		}},
		{"signature truncated", func(r *http.Request, body []byte) []byte {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-2])
			return body
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, body := signedV1(t, defaultSigning())
			body = c.tamper(r, body)
			wantErr(t, verifyErr(t, newVerifier(signTime), r, body), SignatureDoesNotMatch,
				"The request signature we calculated does not match the signature you provided. "+
					"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		s := defaultSigning()
		s.secret = "notTheSecretAtAll0000000000000000000000000"
		r, body := signedV1(t, s)
		wantErr(t, verifyErr(t, newVerifier(signTime), r, body), SignatureDoesNotMatch, msgSignatureDiffer)
	})

	t.Run("unsigned header may change", func(t *testing.T) {
		r, body := signedV1(t, defaultSigning())
		r.Header.Set("User-Agent", "something-else/1.0")
		r.Header.Set("X-Amzn-Trace-Id", "Root=1-abc")
		if _, err := newVerifier(signTime).Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unsigned security token", func(t *testing.T) {
		r, body := signedV1(t, defaultSigning())
		r.Header.Set("X-Amz-Security-Token", "injected")
		wantErr(t, verifyErr(t, newVerifier(signTime), r, body), SignatureDoesNotMatch, msgTokenNotSigned)
	})

	t.Run("header and presigned query together", func(t *testing.T) {
		r := presignedV2(t, defaultSigning(), time.Minute)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/y/z/w/aws4_request, SignedHeaders=host, Signature=00")
		wantErr(t, verifyErr(t, newVerifier(signTime), r, nil), SignatureDoesNotMatch,
			"Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	})
}

func TestRejectUnknownKey(t *testing.T) {
	s := defaultSigning()
	s.akid = "AKIDUNKNOWN0000000000"
	r, body := signedV1(t, s)
	wantErr(t, verifyErr(t, newVerifier(signTime), r, body), InvalidClientTokenID,
		"The security token included in the request is invalid.")

	// An empty access key id never reaches Lookup.
	v := newVerifier(signTime)
	v.Lookup = func(context.Context, string) (string, error) {
		t.Fatal("Lookup called for an empty access key id")
		return "", nil
	}
	s.akid = ""
	r, body = signedV1(t, s)
	wantErr(t, verifyErr(t, v, r, body), InvalidClientTokenID, msgInvalidToken)

	// A key without a secret authenticates nothing.
	v.Lookup = keys(map[string]string{testAKID: ""})
	r, body = signedV1(t, defaultSigning())
	wantErr(t, verifyErr(t, v, r, body), InvalidClientTokenID, msgInvalidToken)

	// Presigned form too.
	pr := presignedV2(t, signing{akid: "AKIDUNKNOWN", secret: testSecret, region: testRegion, service: "ses", at: signTime}, time.Minute)
	wantErr(t, verifyErr(t, newVerifier(signTime), pr, nil), InvalidClientTokenID, msgInvalidToken)
}

func TestLookupFailureIsNotAnAuthError(t *testing.T) {
	dbDown := errors.New("database is down")
	v := newVerifier(signTime)
	v.Lookup = func(context.Context, string) (string, error) { return "", dbDown }
	r, body := signedV1(t, defaultSigning())
	_, err := v.Verify(context.Background(), r, body)
	var e *Error
	if !errors.Is(err, dbDown) || errors.As(err, &e) {
		t.Fatalf("err = %v, want a wrapped lookup error that is not a *Error", err)
	}

	// Wrapped ErrUnknownKey still means "unknown key".
	v.Lookup = func(context.Context, string) (string, error) { return "", errors.Join(ErrUnknownKey, dbDown) }
	wantErr(t, verifyErr(t, v, r, body), InvalidClientTokenID, msgInvalidToken)
}

func TestMisconfiguredVerifier(t *testing.T) {
	r, body := signedV1(t, defaultSigning())
	for _, v := range []*Verifier{{Lookup: keys(nil)}, {Region: testRegion}} {
		_, err := v.Verify(context.Background(), r, body)
		var e *Error
		if err == nil || errors.As(err, &e) {
			t.Fatalf("err = %v, want a configuration error", err)
		}
	}
}

func TestRejectScope(t *testing.T) {
	const wrongService = "Credential should be scoped to correct service: 'ses'."
	cases := []struct {
		name, region, service, msg string
	}{
		{"wrong region", "eu-west-1", "ses", "Credential should be scoped to a valid region."},
		{"wrong service", testRegion, "sns", wrongService},
		{"wrong region and service", "eu-west-1", "email", "Credential should be scoped to a valid region. " + wrongService},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := defaultSigning()
			s.region, s.service = c.region, c.service
			r, body := signedV1(t, s)
			wantErr(t, verifyErr(t, newVerifier(signTime), r, body), SignatureDoesNotMatch, c.msg)
			pr := presignedV2(t, s, time.Minute)
			wantErr(t, verifyErr(t, newVerifier(signTime), pr, nil), SignatureDoesNotMatch, c.msg)
		})
	}

	t.Run("scope date and terminator", func(t *testing.T) {
		r, body := signedV1(t, defaultSigning())
		a := r.Header.Get("Authorization")
		r.Header.Set("Authorization", strings.Replace(a, "/20240101/us-east-1/ses/aws4_request", "/20240102/us-east-1/ses/aws5_request", 1))
		wantErr(t, verifyErr(t, newVerifier(signTime), r, body), SignatureDoesNotMatch,
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "+
				"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "+
				"'20240102' != '20240101', from '20240101T000000Z'.")
	})

	t.Run("second accepted service", func(t *testing.T) {
		s := defaultSigning()
		s.service = "sns"
		r, body := signedV1(t, s)
		v := newVerifier(signTime)
		v.Services = []string{"ses", "sns"}
		res, err := v.Verify(context.Background(), r, body)
		if err != nil {
			t.Fatal(err)
		}
		if res.Service != "sns" {
			t.Fatalf("Service = %q, want sns", res.Service)
		}
	})

	t.Run("Services defaults to ses", func(t *testing.T) {
		r, body := signedV1(t, defaultSigning())
		v := newVerifier(signTime)
		v.Services = nil
		if _, err := v.Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRejectClockSkew(t *testing.T) {
	cases := []struct {
		name  string
		now   time.Time
		skew  time.Duration
		kind  Kind
		msg   string
		valid bool
	}{
		{name: "5 minutes old", now: signTime.Add(5 * time.Minute), valid: true},
		{name: "5 minutes early", now: signTime.Add(-5 * time.Minute), valid: true},
		{name: "6 minutes old", now: signTime.Add(6 * time.Minute), kind: SignatureExpired,
			msg: "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z (20240101T000600Z - 5 min.)"},
		{name: "15 minutes old (SES-BEHAVIOR.md example)", now: signTime.Add(15*time.Minute + 300*time.Millisecond), kind: SignatureExpired,
			msg: "Signature expired: 20240101T000000Z is now earlier than 20240101T001000Z (20240101T001500Z - 5 min.)"},
		{name: "6 minutes in the future", now: signTime.Add(-6 * time.Minute), kind: SignatureNotYetCurrent,
			msg: "Signature not yet current: 20240101T000000Z is still later than 20231231T235900Z (20231231T235400Z + 5 min.)"},
		{name: "custom skew", now: signTime.Add(2 * time.Minute), skew: 90 * time.Second, kind: SignatureExpired,
			msg: "Signature expired: 20240101T000000Z is now earlier than 20240101T000030Z (20240101T000200Z - 90 sec.)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, body := signedV1(t, defaultSigning())
			v := newVerifier(c.now)
			v.MaxSkew = c.skew
			if c.valid {
				if _, err := v.Verify(context.Background(), r, body); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, verifyErr(t, v, r, body), c.kind, c.msg)
		})
	}
}

func TestRejectPresigned(t *testing.T) {
	t.Run("expiry boundary", func(t *testing.T) {
		r := presignedV2(t, defaultSigning(), time.Minute)
		if _, err := newVerifier(signTime.Add(time.Minute)).Verify(context.Background(), r, nil); err != nil {
			t.Fatalf("at expiry: %v", err)
		}
		wantErr(t, verifyErr(t, newVerifier(signTime.Add(61*time.Second)), r, nil), SignatureExpired,
			"Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z (20240101T000101Z - 1 min.)")
	})

	t.Run("a week is allowed", func(t *testing.T) {
		r := presignedV2(t, defaultSigning(), 7*24*time.Hour)
		if _, err := newVerifier(signTime.Add(7*24*time.Hour)).Verify(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("future", func(t *testing.T) {
		r := presignedV2(t, defaultSigning(), time.Hour)
		wantErr(t, verifyErr(t, newVerifier(signTime.Add(-6*time.Minute)), r, nil), SignatureNotYetCurrent,
			"Signature not yet current: 20240101T000000Z is still later than 20231231T235900Z (20231231T235400Z + 5 min.)")
	})

	t.Run("no X-Amz-Expires falls back to the skew window", func(t *testing.T) {
		r := presignedV2(t, defaultSigning(), 0)
		if _, err := newVerifier(signTime.Add(4*time.Minute)).Verify(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
		wantErr(t, verifyErr(t, newVerifier(signTime.Add(6*time.Minute)), r, nil), SignatureExpired,
			"Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z (20240101T000600Z - 5 min.)")
	})

	cases := []struct {
		name string
		edit func(url.Values)
		kind Kind
		msg  string
	}{
		{"missing credential and date", func(q url.Values) { q.Del("X-Amz-Credential"); q.Del("X-Amz-Date") }, IncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Date'. " +
				"Re-examine the query-string parameters."},
		{"only a signature", func(q url.Values) {
			for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders"} {
				q.Del(k)
			}
		}, IncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. " +
				"AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. " +
				"Re-examine the query-string parameters."},
		{"expires zero", func(q url.Values) { q.Set("X-Amz-Expires", "0") }, IncompleteSignature, "X-Amz-Expires must be greater than zero"},
		{"expires over a week", func(q url.Values) { q.Set("X-Amz-Expires", "604801") }, IncompleteSignature,
			"X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		{"expires not a number", func(q url.Values) { q.Set("X-Amz-Expires", "1h") }, IncompleteSignature, "X-Amz-Expires should be a number"},
		{"expires extended", func(q url.Values) { q.Set("X-Amz-Expires", "3600") }, SignatureDoesNotMatch, msgSignatureDiffer},
		{"tampered parameter", func(q url.Values) { q.Set("PageSize", "1000") }, SignatureDoesNotMatch, msgSignatureDiffer},
		{"added parameter", func(q url.Values) { q.Add("NextToken", "x") }, SignatureDoesNotMatch, msgSignatureDiffer},
		{"bad date", func(q url.Values) { q.Set("X-Amz-Date", "20240101") }, IncompleteSignature,
			"Date must be in ISO-8601 'basic format'. Got '20240101'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{"bad algorithm", func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") }, IncompleteSignature,
			"Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now)."},
		{"host not signed", func(q url.Values) { q.Set("X-Amz-SignedHeaders", "x-amz-date") }, SignatureDoesNotMatch, msgHostNotSigned},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := presignedV2(t, defaultSigning(), time.Minute)
			editQuery(r, c.edit)
			wantErr(t, verifyErr(t, newVerifier(signTime), r, nil), c.kind, c.msg)
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		s := defaultSigning()
		s.secret = "another-secret"
		wantErr(t, verifyErr(t, newVerifier(signTime), presignedV2(t, s, time.Minute), nil), SignatureDoesNotMatch, msgSignatureDiffer)
	})

	t.Run("body is signed", func(t *testing.T) {
		body := []byte(`{"EmailIdentity":"a@b.com"}`)
		r := newRequest(t, http.MethodPost, "https://"+testHost+"/v2/email/identities", body)
		pr, _ := sdkPresign(t, r, body, defaultSigning(), time.Minute)
		if _, err := newVerifier(signTime).Verify(context.Background(), pr, body); err != nil {
			t.Fatal(err)
		}
		wantErr(t, verifyErr(t, newVerifier(signTime), pr, []byte(`{"EmailIdentity":"evil@b.com"}`)), SignatureDoesNotMatch, msgSignatureDiffer)
	})
}
