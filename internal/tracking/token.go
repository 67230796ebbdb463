package tracking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// Kind says what a token tracks.
type Kind byte

const (
	KindOpen  Kind = 'o'
	KindClick Kind = 'c'
)

// KeySize is the size of a tracking key in bytes.
const KeySize = 32

const (
	tokenVersion = 1
	macSize      = 16 // truncated HMAC-SHA256: 128 bits is ample against forgery
	// maxToken bounds what Parse decodes: a 2048-character link (the longest
	// tracked) with its tags fits easily.
	maxToken = 8 << 10
)

// macContext separates tracking MACs from any other use of the key.
const macContext = "sesame-tracking-v1\x00"

// ErrBadToken is returned for a token that is malformed, forged or altered.
var ErrBadToken = errors.New("tracking: invalid token")

// Tag is one ses:tags name:value pair of a link (click.linkTags).
type Tag struct{ Name, Value string }

// Link is a tracked link: the original URL and its link tags.
type Link struct {
	URL  string
	Tags []Tag
}

// Token is what a valid token says.
type Token struct {
	Kind      Kind
	MessageID string
	Link      Link // clicks only
}

// Signer makes and checks tokens with one secret key.
type Signer struct{ key []byte }

// NewSigner returns a signer for key, which must be KeySize bytes of
// secret randomness (the caller keeps it in the data directory).
func NewSigner(key []byte) (*Signer, error) {
	if len(key) != KeySize {
		return nil, errors.New("tracking: the key must be 32 bytes")
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// OpenToken is the token of a message's open pixel.
func (s *Signer) OpenToken(messageID string) string {
	return s.seal(Token{Kind: KindOpen, MessageID: messageID})
}

// ClickToken is the token of one link of a message.
func (s *Signer) ClickToken(messageID string, l Link) string {
	return s.seal(Token{Kind: KindClick, MessageID: messageID, Link: l})
}

// seal encodes t as version | kind | message id | [link | tags], each
// string length-prefixed (uvarint), followed by the MAC, in base64url so
// that it is one path segment.
func (s *Signer) seal(t Token) string {
	b := []byte{tokenVersion, byte(t.Kind)}
	b = appendString(b, t.MessageID)
	if t.Kind == KindClick {
		b = appendString(b, t.Link.URL)
		b = binary.AppendUvarint(b, uint64(len(t.Link.Tags)))
		for _, tg := range t.Link.Tags {
			b = appendString(b, tg.Name)
			b = appendString(b, tg.Value)
		}
	}
	b = append(b, s.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Parse checks a token and returns what it says; any malformed, forged or
// altered token is ErrBadToken.
func (s *Signer) Parse(token string) (Token, error) {
	if len(token) > maxToken {
		return Token{}, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 2+macSize {
		return Token{}, ErrBadToken
	}
	body, mac := raw[:len(raw)-macSize], raw[len(raw)-macSize:]
	if !hmac.Equal(mac, s.mac(body)) {
		return Token{}, ErrBadToken
	}
	if body[0] != tokenVersion {
		return Token{}, ErrBadToken
	}
	t := Token{Kind: Kind(body[1])}
	r := reader{b: body[2:]}
	t.MessageID = r.string()
	switch t.Kind {
	case KindOpen:
	case KindClick:
		t.Link.URL = r.string()
		n := r.uvarint()
		if n > uint64(len(r.b)) { // each tag takes at least two bytes
			return Token{}, ErrBadToken
		}
		for range n {
			t.Link.Tags = append(t.Link.Tags, Tag{Name: r.string(), Value: r.string()})
		}
	default:
		return Token{}, ErrBadToken
	}
	if r.bad || len(r.b) != 0 || t.MessageID == "" {
		return Token{}, ErrBadToken
	}
	return t, nil
}

func (s *Signer) mac(b []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(macContext))
	m.Write(b)
	return m.Sum(nil)[:macSize]
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes the payload; bad records the first error.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad = true
		r.b = nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
