package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// defaultHosts are covered when Options.Hosts is empty.
var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// ensureSelfSigned loads the self-signed pair from o.Dir, or makes and
// stores a new one when there is none or it no longer fits.
func ensureSelfSigned(o Options) (*tls.Certificate, error) {
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = defaultHosts
	}
	certFile, keyFile := filepath.Join(o.Dir, selfSignedCert), filepath.Join(o.Dir, selfSignedKey)
	now := o.Now()
	cert, err := loadPair(certFile, keyFile)
	switch {
	case err == nil:
		why := unfit(cert.Leaf, hosts, now)
		if why == "" {
			return cert, nil
		}
		o.Logger.Info("making a new self-signed TLS certificate", "reason", why)
	case errors.Is(err, fs.ErrNotExist):
		o.Logger.Info("making a self-signed TLS certificate", "dir", o.Dir)
	default:
		// Sesame's own throwaway pair: a damaged one is replaced, not
		// fatal.
		o.Logger.Warn("replacing an unreadable self-signed TLS certificate", "err", err)
	}
	certPEM, keyPEM, err := makeSelfSigned(hosts, now, o.Validity)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	// The key first: a crash between the two writes leaves a mismatched
	// pair, which the next start replaces.
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	return loadPair(certFile, keyFile)
}

// unfit says why a stored self-signed certificate should be remade, or "".
func unfit(leaf *x509.Certificate, hosts []string, now time.Time) string {
	if now.Before(leaf.NotBefore) {
		return "not yet valid"
	}
	if leaf.NotAfter.Sub(now) < renewBefore {
		return "expires " + leaf.NotAfter.UTC().Format(time.DateOnly)
	}
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return "does not cover " + h
		}
	}
	return ""
}

// makeSelfSigned returns a PEM certificate and PKCS #8 key: ECDSA P-256, its
// own trust anchor (so a client can trust exactly this file), for hosts.
func makeSelfSigned(hosts []string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: generating a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"Sesame self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: creating the certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: encoding the key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeFileAtomic writes data to a temporary file beside name, syncs it and
// renames it over name, so a reader sees the old file or the new one.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("tlscert: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("tlscert: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("tlscert: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	return nil
}
