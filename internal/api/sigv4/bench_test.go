package sigv4

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkVerify measures a header-signed v1 SendEmail and a v2 GET with a
// warm signing-key cache: the steady state of a busy endpoint.
func BenchmarkVerify(b *testing.B) {
	v := newVerifier(signTime)
	b.Run("v1 form POST", func(b *testing.B) {
		r, body := signedV1(b, defaultSigning())
		benchVerify(b, v, r, body)
	})
	b.Run("v2 GET", func(b *testing.B) {
		r := newRequest(b, http.MethodGet, "https://"+testHost+"/v2/email/identities/a%40b.com?PageSize=10", nil)
		sdkSign(b, r, nil, defaultSigning())
		benchVerify(b, v, r, nil)
	})
	b.Run("presigned", func(b *testing.B) {
		benchVerify(b, v, presignedV2(b, defaultSigning(), 0), nil)
	})
}

func benchVerify(b *testing.B, v *Verifier, r *http.Request, body []byte) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}
