package stack

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"github.com/sesamehq/sesame/internal/auth/smtppass"
)

// SMTPAddr is the SMTP submission listener with STARTTLS (SES's 2587).
func (s *Stack) SMTPAddr(t testing.TB) string {
	t.Helper()
	starttls, _ := s.App.SMTPAddrs()
	if starttls == "" {
		t.Fatal("stack: the app serves no SMTP STARTTLS listener")
	}
	return starttls
}

// SMTPSAddr is the SMTP submission listener with implicit TLS (SES's 2465).
func (s *Stack) SMTPSAddr(t testing.TB) string {
	t.Helper()
	_, implicit := s.App.SMTPAddrs()
	if implicit == "" {
		t.Fatal("stack: the app serves no SMTP implicit-TLS listener")
	}
	return implicit
}

// SMTPPassword is the root key's SMTP password, derived as SES does.
func (s *Stack) SMTPPassword() string { return smtppass.V4(s.Root.Secret, Region) }

// SMTPTLSConfig is a client configuration that verifies Sesame's SMTP
// certificate (the self-signed one made in the data directory) for the
// stack's host name.
func (s *Stack) SMTPTLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(s.App.SMTPCertFile())
	if err != nil {
		t.Fatalf("stack: reading the SMTP certificate: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("stack: no certificate in " + s.App.SMTPCertFile())
	}
	return &tls.Config{RootCAs: pool, ServerName: Hostname, MinVersion: tls.VersionTLS12}
}
