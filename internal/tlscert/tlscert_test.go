package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// The self-signed pair is made at first load, kept private, reused by the
// next load, and trusted by a client that trusts its file.
func TestSelfSignedMadeOnceAndServed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	hosts := []string{"sesame.test", "localhost", "127.0.0.1"}
	s, err := Load(Options{Dir: dir, Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	if !s.SelfSigned() || s.CertFile() != filepath.Join(dir, "cert.pem") {
		t.Fatalf("SelfSigned %v, CertFile %q", s.SelfSigned(), s.CertFile())
	}
	fi, err := os.Stat(filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := Load(Options{Dir: dir, Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	if serial(s) != serial(again) {
		t.Error("a second load made a new certificate; want the stored one reused")
	}

	pool := poolOf(t, s.CertFile())
	for _, name := range hosts {
		if err := handshake(t, s.TLSConfig(), &tls.Config{RootCAs: pool, ServerName: name}); err != nil {
			t.Errorf("verified handshake as %s: %v", name, err)
		}
	}
	if err := handshake(t, s.TLSConfig(), &tls.Config{RootCAs: pool, ServerName: "other.test"}); err == nil {
		t.Error("handshake for a name the certificate does not cover succeeded")
	}
	// SES's endpoints speak TLS 1.2 and later only (SES-BEHAVIOR §3.1).
	old := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	if err := handshake(t, s.TLSConfig(), old); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
}

// A stored certificate that no longer fits is remade: a new host name, near
// expiry, or a damaged file.
func TestSelfSignedRemade(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Now()}
	first, err := Load(Options{Dir: dir, Hosts: []string{"a.test"}, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}

	renamed, err := Load(Options{Dir: dir, Hosts: []string{"b.test"}, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if serial(renamed) == serial(first) || renamed.Certificate().Leaf.VerifyHostname("b.test") != nil {
		t.Error("new host name: certificate not remade for it")
	}

	clk.t = clk.t.Add(DefaultValidity - 10*24*time.Hour)
	renewed, err := Load(Options{Dir: dir, Hosts: []string{"b.test"}, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if serial(renewed) == serial(renamed) || !renewed.Certificate().Leaf.NotAfter.After(clk.t.Add(renewBefore)) {
		t.Error("near expiry: certificate not renewed")
	}

	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	repaired, err := Load(Options{Dir: dir, Hosts: []string{"b.test"}, Now: clk.now})
	if err != nil {
		t.Fatalf("damaged pair: %v", err)
	}
	if serial(repaired) == serial(renewed) {
		t.Error("damaged pair not replaced")
	}
}

// The operator's files are served, and a renewal on disk is picked up at the
// next look after the reload interval; a half-written renewal keeps the old
// certificate.
func TestOperatorFilesReloaded(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	writePair(t, certFile, keyFile, "mail.example.com")
	clk := &clock{t: time.Now()}
	s, err := Load(Options{CertFile: certFile, KeyFile: keyFile, Dir: filepath.Join(dir, "unused"), Now: clk.now, ReloadInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if s.SelfSigned() || s.CertFile() != certFile {
		t.Fatalf("SelfSigned %v, CertFile %q", s.SelfSigned(), s.CertFile())
	}
	if _, err := os.Stat(filepath.Join(dir, "unused")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a self-signed certificate was made although files were given")
	}
	before := serial(s)

	writePair(t, certFile, keyFile, "mail2.example.com")
	bump(t, certFile, keyFile)
	if serial(s) != before {
		t.Fatal("reloaded before the reload interval passed")
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if serial(s) == before || s.Certificate().Leaf.VerifyHostname("mail2.example.com") != nil {
		t.Fatal("renewed files not served after the reload interval")
	}
	renewed := serial(s)

	// Half-written: a new key with the old certificate.
	other := t.TempDir()
	writePair(t, filepath.Join(other, "c.pem"), keyFile, "mail3.example.com")
	bump(t, certFile, keyFile)
	clk.t = clk.t.Add(2 * time.Minute)
	if serial(s) != renewed {
		t.Fatal("a mismatched pair replaced the served certificate")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writePair(t, certFile, keyFile, "x.test")
	otherKey := filepath.Join(dir, "k2.pem")
	writePair(t, filepath.Join(dir, "c2.pem"), otherKey, "y.test")
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"cert without key", Options{CertFile: certFile}, "go together"},
		{"key without cert", Options{KeyFile: keyFile}, "go together"},
		{"missing file", Options{CertFile: certFile, KeyFile: filepath.Join(dir, "none.pem")}, "no such file"},
		{"mismatched pair", Options{CertFile: certFile, KeyFile: otherKey}, "does not match"},
		{"nothing at all", Options{}, "no certificate files"},
	}
	for _, c := range cases {
		if _, err := Load(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func serial(s *Source) string { return s.Certificate().Leaf.SerialNumber.String() }

func poolOf(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatal("no certificate in " + file)
	}
	return pool
}

func writePair(t *testing.T, certFile, keyFile, host string) {
	t.Helper()
	certPEM, keyPEM, err := makeSelfSigned([]string{host}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
}

// bump moves the files' modification times forward, so a rewrite within the
// file system's timestamp granularity still reads as a change.
func bump(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, time.Now(), fi.ModTime().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
}

// handshake runs one TLS handshake between a server with cfg and a client
// with client over loopback and returns the client's error.
func handshake(t *testing.T, cfg, client *tls.Config) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_ = c.(*tls.Conn).Handshake()
	}()
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(&d, "tcp", ln.Addr().String(), client)
	if err == nil {
		conn.Close()
	}
	<-done
	return err
}
