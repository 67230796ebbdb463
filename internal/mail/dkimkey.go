package mail

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKey is wrapped by every key parsing and validation error.
var ErrInvalidKey = errors.New("invalid DKIM private key")

// RSA key sizes. RFC 8301 §3.2 requires at least 1024 bits; SES's BYODKIM
// takes 1024 to 2048 (SES-BEHAVIOR §5.3).
const (
	minRSABits    = 1024
	maxRSABits    = 4096
	maxBYODKIMRSA = 2048
)

// GenerateRSAKey returns a new RSA key for Easy DKIM: 1024 or 2048 bits in
// SES (RSA_1024_BIT, RSA_2048_BIT); up to 4096 is allowed.
func GenerateRSAKey(bits int) (*rsa.PrivateKey, error) {
	if bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("%w: RSA key size %d is outside %d to %d bits", ErrInvalidKey, bits, minRSABits, maxRSABits)
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// MarshalPrivateKey returns the key as a PKCS#8 PEM block ("PRIVATE KEY"),
// the form Sesame stores.
func MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a DKIM signing key: PEM ("RSA PRIVATE KEY" PKCS#1 or
// "PRIVATE KEY" PKCS#8) or bare base64 of either DER form, as BYODKIM sends
// it. It returns an RSA key of 1024 to 4096 bits or an Ed25519 key.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	der, err := keyDER(data)
	if err != nil {
		return nil, err
	}
	var key any
	if k, err1 := x509.ParsePKCS1PrivateKey(der); err1 == nil {
		key = k
	} else if k, err2 := x509.ParsePKCS8PrivateKey(der); err2 == nil {
		key = k
	} else {
		return nil, fmt.Errorf("%w: not a PKCS#1 or PKCS#8 private key", ErrInvalidKey)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, fmt.Errorf("%w: RSA key has %d bits; it must have %d to %d", ErrInvalidKey, bits, minRSABits, maxRSABits)
		}
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("%w: unsupported key type %T; DKIM keys are RSA or Ed25519", ErrInvalidKey, key)
	}
}

// ParseBYODKIMKey validates a v2 DkimSigningAttributes.DomainSigningPrivateKey:
// an RSA key of 1024 to 2048 bits, base64 (PKCS#1 as SES documents it; PKCS#8
// and PEM are accepted too).
func ParseBYODKIMKey(s string) (*rsa.PrivateKey, error) {
	key, err := ParsePrivateKey([]byte(s))
	if err != nil {
		return nil, err
	}
	k, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: BYODKIM keys must be RSA", ErrInvalidKey)
	}
	if bits := k.N.BitLen(); bits > maxBYODKIMRSA {
		return nil, fmt.Errorf("%w: RSA key has %d bits; BYODKIM keys must have %d to %d", ErrInvalidKey, bits, minRSABits, maxBYODKIMRSA)
	}
	return k, nil
}

// keyDER returns the DER bytes of a PEM block or of bare base64.
func keyDER(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte("-----BEGIN")) {
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%w: malformed PEM", ErrInvalidKey)
		}
		if block.Type != "RSA PRIVATE KEY" && block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%w: PEM block %q; want RSA PRIVATE KEY or PRIVATE KEY", ErrInvalidKey, block.Type)
		}
		if _, encrypted := block.Headers["Proc-Type"]; encrypted {
			return nil, fmt.Errorf("%w: encrypted PEM keys are not supported", ErrInvalidKey)
		}
		return block.Bytes, nil
	}
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, string(data))
	der, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		if der, err = base64.RawStdEncoding.DecodeString(clean); err != nil {
			return nil, fmt.Errorf("%w: neither PEM nor base64", ErrInvalidKey)
		}
	}
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	return der, nil
}

// PublicKeyRecord returns the DKIM key record to publish at
// <selector>._domainkey.<domain> (RFC 6376 §3.6.1): for RSA
// "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>", for Ed25519
// "v=DKIM1; k=ed25519; p=<base64 raw key>" (RFC 8463 §4). Long records go
// out as several strings of one TXT record; see SplitTXT.
func PublicKeyRecord(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k), nil
	}
	return "", fmt.Errorf("%w: unsupported public key type %T", ErrInvalidKey, pub)
}

// SplitTXT splits a TXT value into character-strings of at most 255 octets
// (RFC 1035 §3.3.14); resolvers join them back (RFC 6376 §3.6.2.2).
func SplitTXT(s string) []string {
	const max = 255
	if s == "" {
		return []string{""}
	}
	out := make([]string, 0, len(s)/max+1)
	for len(s) > max {
		out = append(out, s[:max])
		s = s[max:]
	}
	return append(out, s)
}
