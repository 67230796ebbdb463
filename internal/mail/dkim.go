package mail

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Signer is one DKIM signing identity: the d= domain, the s= selector and
// the private key (RSA of at least 1024 bits, or Ed25519).
type Signer struct {
	Domain, Selector string
	Key              crypto.Signer
}

// Sign returns msg with one DKIM-Signature header per signer prepended, in
// the order of signers (RFC 6376 §5). Each signature uses rsa-sha256, or
// ed25519-sha256 for an Ed25519 key (RFC 8463); relaxed/relaxed
// canonicalization; t= now. The signed headers are SES's list
// (SES-BEHAVIOR §5.4) plus Feedback-ID, each as many times as the message
// has it, and From once more: an extra From after signing then breaks the
// signature (RFC 6376 §8.15). Headers the message lacks are not listed.
//
// Sesame signs itself rather than with go-msgauth's signer, which reads the
// wall clock for t= and hashes the body again for every signer; signatures
// are checked against go-msgauth's verifier in the tests. A message with
// bare CR or LF is normalised to CRLF first, as it will be sent.
func Sign(msg []byte, signers []Signer, now time.Time) ([]byte, error) {
	if len(signers) == 0 {
		return msg, nil
	}
	if now.IsZero() {
		return nil, errors.New("dkim: no signing time")
	}
	msg = normalizeCRLF(msg)
	fields, body, _, err := splitMessage(msg)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	bodyHash := relaxedBodyHash(body)
	bh := base64.StdEncoding.EncodeToString(bodyHash[:])
	names := signedHeaderNames(fields)

	var out bytes.Buffer
	out.Grow(len(msg) + 700*len(signers))
	for _, s := range signers {
		sig, err := s.sign(fields, names, bh, now)
		if err != nil {
			return nil, err
		}
		out.WriteString(sig)
	}
	out.Write(msg)
	return out.Bytes(), nil
}

// signedHeaderNames lists each header to sign once per occurrence, plus an
// extra From (oversigning).
func signedHeaderNames(fields []field) []string {
	var names []string
	for _, name := range dkimSignedHeaders() {
		for _, f := range fields {
			if strings.EqualFold(f.name, name) {
				names = append(names, name)
			}
		}
	}
	return append(names, "From")
}

func (s Signer) sign(fields []field, names []string, bh string, now time.Time) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	algo, hashOpt := "rsa-sha256", crypto.Hash(crypto.SHA256)
	if _, ok := s.Key.Public().(ed25519.PublicKey); ok {
		// RFC 8463 §3: Ed25519 signs the SHA-256 hash (PureEdDSA).
		algo, hashOpt = "ed25519-sha256", crypto.Hash(0)
	}

	// The field without the b= value, as it is hashed (RFC 6376 §3.7); the
	// value is appended last, so the hashed text is a prefix of the field.
	var hdr strings.Builder
	hdr.WriteString("DKIM-Signature: v=1; a=" + algo + "; c=relaxed/relaxed;\r\n" +
		" d=" + s.Domain + "; s=" + s.Selector + "; t=" + strconv.FormatInt(now.Unix(), 10) + ";\r\n")
	writeTagList(&hdr, "h", names)
	hdr.WriteString(" bh=" + bh + ";\r\n b=")

	hasher := sha256.New()
	var canon []byte
	for _, f := range pickHeaders(fields, names) {
		canon = relaxedHeader(canon[:0], f.raw)
		hasher.Write(canon)
	}
	canon = relaxedHeader(canon[:0], []byte(hdr.String()))
	hasher.Write(bytes.TrimSuffix(canon, []byte("\r\n")))
	sig, err := s.Key.Sign(rand.Reader, hasher.Sum(nil), hashOpt)
	if err != nil {
		return "", fmt.Errorf("dkim: signing for %s: %w", s.Domain, err)
	}
	b := base64.StdEncoding.EncodeToString(sig)
	for len(b) > 72 {
		hdr.WriteString(b[:72] + "\r\n  ")
		b = b[72:]
	}
	hdr.WriteString(b + "\r\n")
	return hdr.String(), nil
}

// writeTagList writes " h=A:B:C;" CRLF, folding after a colon when a line
// would pass 78 characters (FWS is allowed around the colons, RFC 6376
// §3.5).
func writeTagList(b *strings.Builder, tag string, names []string) {
	line := 1 + len(tag) + 1
	b.WriteString(" " + tag + "=")
	for i, n := range names {
		if i > 0 {
			b.WriteByte(':')
			line++
			if line+len(n) > 77 {
				b.WriteString("\r\n  ")
				line = 2
			}
		}
		b.WriteString(n)
		line += len(n)
	}
	b.WriteString(";\r\n")
}

func (s Signer) check() error {
	if !validDKIMName(s.Domain) || !validDKIMName(s.Selector) {
		return fmt.Errorf("dkim: invalid domain %q or selector %q", s.Domain, s.Selector)
	}
	if s.Key == nil {
		return fmt.Errorf("dkim: no key for %s", s.Domain)
	}
	switch pub := s.Key.Public().(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 1024 {
			return fmt.Errorf("dkim: RSA key for %s has %d bits, below the 1024 RFC 8301 requires", s.Domain, pub.N.BitLen())
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("dkim: unsupported key type %T for %s", pub, s.Domain)
	}
	return nil
}

// validDKIMName reports whether s can be a d= or s= value: dot-separated
// labels of ASCII letters, digits, hyphens and underscores (RFC 6376 §3.1,
// §3.5; domains in Punycode).
func validDKIMName(s string) bool {
	if s == "" || len(s) > 253 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// pickHeaders selects the fields named in h= order; repeated names take
// instances from the bottom up, and names with no instance left select
// nothing (RFC 6376 §5.4.2).
func pickHeaders(fields []field, names []string) []field {
	used := make([]bool, len(fields))
	picked := make([]field, 0, len(names))
	for _, n := range names {
		for i := len(fields) - 1; i >= 0; i-- {
			if !used[i] && strings.EqualFold(fields[i].name, n) {
				used[i] = true
				picked = append(picked, fields[i])
				break
			}
		}
	}
	return picked
}
