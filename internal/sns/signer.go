package sns

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Message signing (SNS "Verifying the signatures of Amazon SNS messages"):
// SignatureVersion 1 is SHA1withRSA and 2 is SHA256withRSA, PKCS #1 v1.5,
// over the canonical string of the message. Consumers fetch the X.509
// certificate from SigningCertURL and verify with its public key. Sesame
// makes its own RSA key and self-signed certificate at first start and
// serves the certificate at <public URL>/sns/<CertificateName>.

// Files in the signer's directory.
const (
	signerKeyFile  = "signing-key.pem"
	signerCertFile = "signing-cert.pem"
)

// Signer holds Sesame's SNS signing key and its certificate.
type Signer struct {
	key      *rsa.PrivateKey
	certPEM  []byte
	certName string
}

// SignerOptions say where the key lives and how to make one.
type SignerOptions struct {
	// Dir holds signing-key.pem (PKCS #8) and signing-cert.pem; made if
	// missing.
	Dir string
	// Bits is the RSA key size for a new key; 0 means 2048.
	Bits int
	// CommonName is the certificate's subject; "" means "Sesame SNS".
	CommonName string
	Now        func() time.Time
	Logger     *slog.Logger
}

// certValidity is how long a new certificate is valid; one that has less
// than certRenewBefore left is made again (with the same key) at start.
const (
	certValidity    = 10 * 365 * 24 * time.Hour
	certRenewBefore = 30 * 24 * time.Hour
)

// LoadSigner loads the key and certificate from o.Dir, making what is
// missing. The key is kept across restarts; only an unreadable key is
// replaced.
func LoadSigner(o SignerOptions) (*Signer, error) {
	if o.Dir == "" {
		return nil, errors.New("sns: SignerOptions.Dir is empty")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("sns: %w", err)
	}
	keyPath, certPath := filepath.Join(o.Dir, signerKeyFile), filepath.Join(o.Dir, signerCertFile)
	key, err := readKey(keyPath)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			o.Logger.Warn("sns: replacing an unreadable signing key", "err", err)
		} else {
			o.Logger.Info("sns: making the message signing key", "dir", o.Dir)
		}
		bits := o.Bits
		if bits == 0 {
			bits = 2048
		}
		if key, err = rsa.GenerateKey(rand.Reader, bits); err != nil {
			return nil, fmt.Errorf("sns: signing key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("sns: signing key: %w", err)
		}
		if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
		_ = os.Remove(certPath) // it belonged to the old key
	}
	certPEM, err := os.ReadFile(certPath)
	if err == nil {
		if why := certUnfit(certPEM, key, o.Now()); why != "" {
			o.Logger.Info("sns: making a new signing certificate", "reason", why)
			err = fs.ErrNotExist
		}
	}
	if err != nil {
		if certPEM, err = selfSigned(key, o.CommonName, o.Now()); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
			return nil, err
		}
	}
	return newSigner(key, certPEM), nil
}

// NewSigner returns a signer for key with a new self-signed certificate,
// kept in memory only (tests, tools).
func NewSigner(key *rsa.PrivateKey, now time.Time) (*Signer, error) {
	certPEM, err := selfSigned(key, "", now)
	if err != nil {
		return nil, err
	}
	return newSigner(key, certPEM), nil
}

func newSigner(key *rsa.PrivateKey, certPEM []byte) *Signer {
	b, _ := pem.Decode(certPEM) // checked by the callers
	sum := sha1.Sum(b.Bytes)
	return &Signer{key: key, certPEM: certPEM, certName: "SimpleNotificationService-" + hex.EncodeToString(sum[:]) + ".pem"}
}

// CertificatePEM is the signing certificate, PEM-encoded, as served.
func (s *Signer) CertificatePEM() []byte { return s.certPEM }

// CertificateName is the certificate's file name in SigningCertURL:
// SimpleNotificationService-<hex SHA-1 of the DER certificate>.pem.
func (s *Signer) CertificateName() string { return s.certName }

// Sign returns the base64 Signature of canonical for SignatureVersion
// version ("1" or "2").
func (s *Signer) Sign(version string, canonical []byte) (string, error) {
	var (
		h   crypto.Hash
		sum []byte
	)
	switch version {
	case "1":
		d := sha1.Sum(canonical)
		h, sum = crypto.SHA1, d[:]
	case "2":
		d := sha256.Sum256(canonical)
		h, sum = crypto.SHA256, d[:]
	default:
		return "", fmt.Errorf("sns: unknown SignatureVersion %q", version)
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, h, sum)
	if err != nil {
		return "", fmt.Errorf("sns: signing: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

func readKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an RSA key", k)
	}
	return rk, nil
}

// certUnfit says why certPEM cannot be served with key, or "".
func certUnfit(certPEM []byte, key *rsa.PrivateKey, now time.Time) string {
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return "no PEM block"
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return err.Error()
	}
	if pub, ok := c.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return "it is not the signing key's"
	}
	if now.Add(certRenewBefore).After(c.NotAfter) {
		return "it expires soon"
	}
	return ""
}

func selfSigned(key *rsa.PrivateKey, cn string, now time.Time) ([]byte, error) {
	if cn == "" {
		cn = "Sesame SNS"
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Sesame"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sns: signing certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// writeFileAtomic writes data to path through a temporary file and rename,
// so a crash never leaves a half-written key.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("sns: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename: a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("sns: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("sns: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sns: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sns: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sns: %w", err)
	}
	return nil
}
