package sigv4

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseAuthorization feeds arbitrary Authorization headers and query
// strings to the parsers and then to a full Verify. Nothing may panic, every
// failure must be a *Error with a bounded, valid-UTF-8 message, and parsed
// components must respect the grammar.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range [][2]string{
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", ""},
		{"AWS4-HMAC-SHA256 Credential=/20240101//ses/aws4_request/,SignedHeaders=,Signature=zz", "a=b&c"},
		{"AWS4-HMAC-SHA256 Credential, Signature=", "%zz=%&+=+"},
		{"AWS4-X\tCredential==a=b Signature=1", ""},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fses%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00"},
		{"", "X-Amz-Signature=&X-Amz-Expires=-1&X-Amz-Date=99999999T999999Z"},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/b/c/d/e&X-Amz-Date=20240101T000000Z&X-Amz-Expires=9223372036854775807&X-Amz-SignedHeaders=host&X-Amz-Signature=00"},
	} {
		f.Add(s[0], s[1])
	}
	v := newVerifier(signTime)
	f.Fuzz(func(t *testing.T, authz, rawQuery string) {
		if a, err := parseAuthorization(authz); err == nil {
			for _, c := range []string{a.credential, a.signedHeaders, a.signature} {
				if strings.ContainsAny(c, ", \t") {
					t.Fatalf("component %q holds a separator", c)
				}
			}
			if cred, err := parseCredential(a.credential); err == nil {
				if strings.Contains(cred.accessKeyID+cred.date+cred.region+cred.service+cred.terminator, "/") {
					t.Fatalf("credential element holds a slash: %+v", cred)
				}
			}
		}
		q := parseQuery(rawQuery)
		if p, err := parsePresigned(q); err == nil {
			if p.expires < 0 || p.expires > maxPresignExpires*1e9 {
				t.Fatalf("expires %v out of range", p.expires)
			}
			_, _ = parseCredential(p.credential)
		}

		r, err := http.NewRequest(http.MethodGet, "https://"+testHost+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.URL.RawQuery = rawQuery
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
			r.Header.Set("X-Amz-Date", "20240101T000000Z")
		}
		_, err = v.Verify(context.Background(), r, nil)
		var e *Error
		if err == nil {
			return // only a forged signature gets here
		}
		if !errors.As(err, &e) {
			t.Fatalf("non-auth error %v", err)
		}
		if !utf8.ValidString(e.Message) || len(e.Message) > 2048 {
			t.Fatalf("bad message (%d bytes): %q", len(e.Message), e.Message)
		}
	})
}
