package identity

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/store"
)

// dkimKey is one Easy DKIM key pair, published under its token.
type dkimKey struct {
	token  string
	der    []byte // PKCS#8
	record string // v=DKIM1; k=rsa; p=…
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newToken returns an Easy DKIM token: 32 lower-case alphanumerics, as SES's.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b)
}

// setupDKIM chooses a new domain identity's signing: BYODKIM when the
// options carry a key, Easy DKIM otherwise.
func (s *Service) setupDKIM(id *Identity, o *DKIMOptions) ([]dkimKey, error) {
	if o != nil && (o.PrivateKey != "" || o.Selector != "") {
		if o.PrivateKey == "" || o.Selector == "" {
			return nil, fault.New(fault.InvalidParameter, "DomainSigningSelector and DomainSigningPrivateKey must be given together.")
		}
		key, err := mail.ParseBYODKIMKey(o.PrivateKey)
		if err != nil {
			return nil, fault.New(fault.InvalidParameter, "Invalid DomainSigningPrivateKey: %v.", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		selector := strings.ToLower(o.Selector)
		id.DKIM = DKIM{Origin: OriginExternal, Status: Pending, Enabled: true, Tokens: []string{selector}, Selector: selector, privateKey: der}
		if id.Status != Success {
			id.Status = Pending
		}
		return nil, nil
	}
	length := ""
	if o != nil {
		length = o.NextKeyLength
	}
	return s.easyDKIM(id, length, nil)
}

// easyDKIM makes three key pairs of the given length (the default when "")
// under the given tokens (new ones when nil) and sets the identity's state.
func (s *Service) easyDKIM(id *Identity, length string, tokens []string) ([]dkimKey, error) {
	bits := s.cfg.KeyBits
	switch length {
	case "":
		length = RSA2048
		if bits == 1024 {
			length = RSA1024
		}
	case RSA1024:
		bits = 1024
	case RSA2048:
		bits = 2048
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid NextSigningKeyLength %s.", length)
	}
	if len(tokens) != 3 {
		tokens = []string{newToken(), newToken(), newToken()}
	}
	keys := make([]dkimKey, len(tokens))
	for i, t := range tokens {
		k, err := mail.GenerateRSAKey(bits)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		rec, err := mail.PublicKeyRecord(k.Public())
		if err != nil {
			return nil, err
		}
		keys[i] = dkimKey{token: t, der: der, record: rec}
	}
	status := Pending
	if id.DKIM.Origin == OriginAWSSES && id.DKIM.Status == Success && sameTokens(id.DKIM.Tokens, tokens) {
		status = Success // a key rotation under published CNAMEs stays verified
	}
	id.DKIM = DKIM{Origin: OriginAWSSES, Status: status, Enabled: true, Tokens: tokens, KeyLength: length, NextKeyLength: length,
		KeyGeneratedAt: s.now().UTC()}
	if id.Status != Success {
		id.Status = Pending
	}
	return keys, nil
}

func sameTokens(a, b []string) bool {
	return strings.Join(a, " ") == strings.Join(b, " ")
}

func insertKeys(tx *store.Tx, account, identity string, keys []dkimKey) error {
	for _, k := range keys {
		if _, err := tx.Exec(`INSERT OR REPLACE INTO dkim_keys(token, account_id, identity, private_key, public_record, created_at)
			VALUES (?, ?, ?, ?, ?, strftime('%s','now') * 1000)`, k.token, account, identity, k.der, k.record); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) cacheKeys(keys []dkimKey) {
	for _, k := range keys {
		s.zone.Store(k.token, k.record)
	}
}

// ZoneTXT answers Sesame's DKIM zone: the public key record published under
// <token>.<zone>, the target of an Easy DKIM CNAME.
func (s *Service) ZoneTXT(ctx context.Context, token string) (string, bool, error) {
	token = strings.ToLower(token)
	if rec, ok := s.zone.Load(token); ok {
		return rec.(string), true, nil
	}
	var rec string
	err := s.db.Read().QueryRowContext(ctx, "SELECT public_record FROM dkim_keys WHERE token = ?", token).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	s.zone.Store(token, rec)
	return rec, true, nil
}

// SigningKey is one key a message from an identity is signed with.
type SigningKey struct {
	Domain   string
	Selector string
	Key      crypto.Signer
}

// SigningKeys returns the DKIM keys for mail from addr: those of the most
// specific identity with verified, enabled DKIM covering it. An address
// identity that turned signing off stops the inheritance (SES-BEHAVIOR §5.4).
func (s *Service) SigningKeys(ctx context.Context, account, addr string) ([]SigningKey, error) {
	addr = Normalize(addr)
	if KindOf(addr) == EmailAddress {
		id, err := s.get(ctx, account, addr)
		if err != nil {
			return nil, err
		}
		if id != nil && !id.DKIM.Enabled {
			return nil, nil
		}
	}
	for d := DomainOf(addr); d != ""; {
		id, err := s.get(ctx, account, d)
		if err != nil {
			return nil, err
		}
		if id != nil && id.DKIM.Origin != "" {
			if id.DKIM.Status != Success || !id.DKIM.Enabled {
				return nil, nil
			}
			return s.keysOf(ctx, id)
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			break
		}
		d = d[dot+1:]
	}
	return nil, nil
}

func (s *Service) keysOf(ctx context.Context, id *Identity) ([]SigningKey, error) {
	if id.DKIM.Origin == OriginExternal {
		k, err := x509.ParsePKCS8PrivateKey(id.DKIM.privateKey)
		if err != nil {
			return nil, fmt.Errorf("identity %s: BYODKIM key: %w", id.Name, err)
		}
		return []SigningKey{{Domain: id.Name, Selector: id.DKIM.Selector, Key: k.(crypto.Signer)}}, nil
	}
	if len(id.DKIM.Tokens) == 0 {
		return nil, nil
	}
	// SES signs with one of the three keys; Sesame uses the first token's.
	token := id.DKIM.Tokens[0]
	if k, ok := s.keys.Load(token); ok && k.(parsed).generated.Equal(id.DKIM.KeyGeneratedAt) {
		return []SigningKey{{Domain: id.Name, Selector: token, Key: k.(parsed).key}}, nil
	}
	var der []byte
	if err := s.db.QueryRow(ctx, "SELECT private_key FROM dkim_keys WHERE token = ?", token).Scan(&der); err != nil {
		return nil, fmt.Errorf("identity %s: DKIM key %s: %w", id.Name, token, err)
	}
	k, err := s.parsedKey(token, der, id.DKIM.KeyGeneratedAt)
	if err != nil {
		return nil, err
	}
	return []SigningKey{{Domain: id.Name, Selector: token, Key: k}}, nil
}

// parsed is a DKIM private key parsed once, with the KeyGeneratedAt of the
// identity it was read for.
type parsed struct {
	generated time.Time
	der       []byte
	key       crypto.Signer
}

// parsedKey parses a PKCS#8 key once: delivery asks for the same key for
// every message of a domain, and reading and parsing it cost as much as a
// tenth of a delivery. A key is only ever replaced under the same token by a
// rotation, which sets the identity's KeyGeneratedAt: keysOf uses a key
// parsed for the same KeyGeneratedAt without reading the table, and a key
// read again with other bytes is parsed again.
func (s *Service) parsedKey(token string, der []byte, generated time.Time) (crypto.Signer, error) {
	if e, ok := s.keys.Load(token); ok && bytes.Equal(e.(parsed).der, der) {
		s.keys.Store(token, parsed{generated: generated, der: e.(parsed).der, key: e.(parsed).key})
		return e.(parsed).key, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("identity: DKIM key %s is not a signing key", token)
	}
	s.keys.Store(token, parsed{generated: generated, der: bytes.Clone(der), key: signer})
	return signer, nil
}
