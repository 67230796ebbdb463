package bench

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"testing"
)

// The floors under delivery: what one DKIM signature costs on this machine
// whatever Sesame does around it, and what re-parsing the key costs when it
// is not cached (identity.keysOf parses the PKCS #8 key for every message).

func rsaKey(b *testing.B) *rsa.PrivateKey {
	b.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkRSA2048Sign is one rsa-sha256 DKIM signature (RFC 6376 §3.3.1).
func BenchmarkRSA2048Sign(b *testing.B) {
	k := rsaKey(b)
	digest := sha256.Sum256([]byte("relaxed header hash input"))
	for b.Loop() {
		if _, err := k.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Sign is one ed25519-sha256 DKIM signature (RFC 8463),
// for comparison; SES's Easy DKIM offers only RSA.
func BenchmarkEd25519Sign(b *testing.B) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("relaxed header hash input"))
	for b.Loop() {
		ed25519.Sign(k, digest[:])
	}
}

// BenchmarkParsePKCS8RSA2048 is loading a stored RSA-2048 DKIM key: the
// parse validates and precomputes the key.
func BenchmarkParsePKCS8RSA2048(b *testing.B) {
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
			b.Fatal(err)
		}
	}
}
