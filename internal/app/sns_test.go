package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/store"
)

// TestSNSStartServesCertificateAndKeepsKey: StartSNS makes the signing key
// in the data directory, serves the certificate under its SigningCertURL
// path, keeps the key across starts, and closes cleanly.
func TestSNSStartServesCertificateAndKeepsKey(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := SNSOptions{DataDir: dir, Region: "us-east-1", PublicURL: "http://127.0.0.1:8080"}
	s, err := StartSNS(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	url := s.Service.SigningCertURL()
	path := strings.TrimPrefix(url, "http://127.0.0.1:8080")
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if !IsSNSPublic(r) {
		t.Fatalf("%s is not public", path)
	}
	w := httptest.NewRecorder()
	s.ServePublic(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	if w.Code != 200 || !bytes.HasPrefix(body, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatalf("certificate: %d %s", w.Code, body)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	again, err := StartSNS(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Service.SigningCertURL() != url {
		t.Errorf("a restart changed the certificate: %s, was %s", again.Service.SigningCertURL(), url)
	}
	if _, err := again.Service.CreateTopic(context.Background(), "123456789012", "events", nil, nil); err != nil {
		t.Fatal(err)
	}
	var nilSNS *SNS
	if err := nilSNS.Close(); err != nil {
		t.Error(err)
	}
}
