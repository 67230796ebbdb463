package sns_test

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/sns"
)

// TestLoadSigner: the key and certificate are made once and kept across
// starts; the certificate's name is the SHA-1 of its DER form; a damaged
// key is replaced, with a certificate of its own.
func TestLoadSigner(t *testing.T) {
	dir := t.TempDir()
	opts := sns.SignerOptions{Dir: dir, Bits: 1024}
	first, err := sns.LoadSigner(opts)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(first.CertificatePEM())
	if block == nil {
		t.Fatal("no PEM certificate")
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(block.Bytes)
	if want := "SimpleNotificationService-" + hex.EncodeToString(sum[:]) + ".pem"; first.CertificateName() != want {
		t.Errorf("name %q, want %q", first.CertificateName(), want)
	}
	if fi, err := os.Stat(filepath.Join(dir, "signing-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v", fi, err)
	}

	again, err := sns.LoadSigner(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.CertificatePEM(), first.CertificatePEM()) {
		t.Error("a second start made a new certificate")
	}
	sig1, err := first.Sign("2", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	sig2, _ := again.Sign("2", []byte("x"))
	if sig1 != sig2 { // PKCS #1 v1.5 is deterministic: same key, same signature
		t.Error("a second start uses another key")
	}

	if err := os.WriteFile(filepath.Join(dir, "signing-key.pem"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	replaced, err := sns.LoadSigner(opts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(replaced.CertificatePEM(), first.CertificatePEM()) {
		t.Error("a new key kept the old key's certificate")
	}
	if _, err := replaced.Sign("3", []byte("x")); err == nil {
		t.Error("SignatureVersion 3 signed")
	}
}

// TestLoadSignerRenewsCertificate: a certificate about to expire is made
// again, with the same key.
func TestLoadSignerRenewsCertificate(t *testing.T) {
	dir := t.TempDir()
	past := time.Now().Add(-10 * 365 * 24 * time.Hour)
	old, err := sns.LoadSigner(sns.SignerOptions{Dir: dir, Bits: 1024, Now: func() time.Time { return past }})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := sns.LoadSigner(sns.SignerOptions{Dir: dir, Bits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(old.CertificatePEM(), fresh.CertificatePEM()) {
		t.Fatal("an expiring certificate was kept")
	}
	a, _ := old.Sign("1", []byte("y"))
	b, _ := fresh.Sign("1", []byte("y"))
	if a != b {
		t.Error("renewing the certificate changed the key")
	}
}
