// Package tlscert provides the certificate Sesame's TLS listeners present
// (DESIGN.md §2: --tls-cert/--tls-key, else a self-signed certificate made at
// first start in the data directory). An operator's files are re-read when
// they change on disk, so a renewed certificate (certbot, cert-manager) is
// served without a restart; the self-signed pair is made once, reused across
// restarts, and remade only when it no longer fits: expiring, or not covering
// the host names Sesame serves.
package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Names of the self-signed pair inside Options.Dir.
const (
	selfSignedCert = "cert.pem"
	selfSignedKey  = "key.pem"
)

// Defaults of Options.
const (
	// DefaultValidity is how long a self-signed certificate is valid.
	DefaultValidity = 2 * 365 * 24 * time.Hour
	// renewBefore: a self-signed certificate closer than this to expiry is
	// remade at load.
	renewBefore = 30 * 24 * time.Hour
	// DefaultReloadInterval bounds how often an operator's files are
	// checked for changes (one stat of each file per interval).
	DefaultReloadInterval = time.Minute
)

// Options say where the certificate comes from.
type Options struct {
	// CertFile and KeyFile are the operator's PEM files (--tls-cert,
	// --tls-key); both or neither. The certificate file may hold the chain.
	CertFile, KeyFile string
	// Dir holds the self-signed pair when no files are given (created 0700).
	Dir string
	// Hosts are the DNS names and IP addresses the self-signed certificate
	// covers; the first is its subject common name.
	Hosts []string
	// Validity of a new self-signed certificate; 0 means DefaultValidity.
	Validity time.Duration
	// ReloadInterval bounds how often the operator's files are checked for
	// changes; 0 means DefaultReloadInterval, negative never reloads.
	ReloadInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger reports a reload, or a failed one (the old certificate stays).
	Logger *slog.Logger
}

// Source is a loaded certificate. It is safe for concurrent use.
type Source struct {
	opts       Options
	selfSigned bool

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   fileStamp // of the operator's files at the last (re)load
	checked time.Time // last look at the files
}

// Load returns the operator's certificate when Options names files, and the
// self-signed one from Options.Dir otherwise, making it if needed.
func Load(o Options) (*Source, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReloadInterval == 0 {
		o.ReloadInterval = DefaultReloadInterval
	}
	if o.Validity <= 0 {
		o.Validity = DefaultValidity
	}
	s := &Source{opts: o}
	switch {
	case (o.CertFile == "") != (o.KeyFile == ""):
		return nil, errors.New("tlscert: the certificate and key files go together")
	case o.CertFile != "":
		stamp, err := stampOf(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, err
		}
		cert, err := loadPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, err
		}
		s.cert, s.stamp, s.checked = cert, stamp, o.Now()
	default:
		if o.Dir == "" {
			return nil, errors.New("tlscert: no certificate files and no directory for a self-signed certificate")
		}
		cert, err := ensureSelfSigned(o)
		if err != nil {
			return nil, err
		}
		s.cert, s.selfSigned = cert, true
	}
	return s, nil
}

// SelfSigned reports whether the certificate is Sesame's own.
func (s *Source) SelfSigned() bool { return s.selfSigned }

// CertFile is the PEM file of the certificate served: the operator's, or the
// self-signed one in Options.Dir (clients can trust it with this file).
func (s *Source) CertFile() string {
	if s.selfSigned {
		return filepath.Join(s.opts.Dir, selfSignedCert)
	}
	return s.opts.CertFile
}

// Certificate returns the certificate to serve now, re-reading the
// operator's files first if they changed since the last look (at most once
// per ReloadInterval). A failed reload keeps the previous certificate.
func (s *Source) Certificate() *tls.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.selfSigned || s.opts.ReloadInterval < 0 {
		return s.cert
	}
	now := s.opts.Now()
	if now.Sub(s.checked) < s.opts.ReloadInterval {
		return s.cert
	}
	s.checked = now
	stamp, err := stampOf(s.opts.CertFile, s.opts.KeyFile)
	if err != nil || stamp == s.stamp {
		if err != nil {
			s.opts.Logger.Warn("TLS certificate files unreadable; serving the loaded certificate", "err", err)
		}
		return s.cert
	}
	cert, err := loadPair(s.opts.CertFile, s.opts.KeyFile)
	if err != nil {
		// Half-written files (the key renewed, the certificate not yet)
		// fail here; the next look retries.
		s.opts.Logger.Warn("TLS certificate reload failed; serving the loaded certificate", "err", err)
		return s.cert
	}
	s.cert, s.stamp = cert, stamp
	s.opts.Logger.Info("TLS certificate reloaded", "file", s.opts.CertFile, "not_after", cert.Leaf.NotAfter)
	return s.cert
}

// TLSConfig is a server configuration serving the certificate with TLS 1.2
// or later, as SES's SMTP endpoints do (SES-BEHAVIOR §3.1).
func (s *Source) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.Certificate(), nil
		},
	}
}

// loadPair reads a PEM certificate (chain) and key and checks that they
// belong together.
func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %s and %s: %w", certFile, keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("tlscert: %s: %w", certFile, err)
		}
	}
	return &cert, nil
}

// fileStamp identifies a version of the two files.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func stampOf(certFile, keyFile string) (fileStamp, error) {
	c, err := os.Stat(certFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("tlscert: %w", err)
	}
	k, err := os.Stat(keyFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("tlscert: %w", err)
	}
	return fileStamp{certMod: c.ModTime(), keyMod: k.ModTime(), certSize: c.Size(), keySize: k.Size()}, nil
}
