package tracking

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	s := testSigner(t)
	l := Link{URL: "https://例え.jp/?a=1&b=2#x", Tags: []Tag{{"a", "b"}, {"c", "d"}}}
	tok, err := s.Parse(s.ClickToken("msg-1", l))
	if err != nil || tok.Kind != KindClick || tok.MessageID != "msg-1" || tok.Link.URL != l.URL || !slices.Equal(tok.Link.Tags, l.Tags) {
		t.Fatalf("click token: %+v, %v", tok, err)
	}
	tok, err = s.Parse(s.OpenToken("msg-1"))
	if err != nil || tok.Kind != KindOpen || tok.MessageID != "msg-1" || tok.Link.URL != "" {
		t.Fatalf("open token: %+v, %v", tok, err)
	}
}

func TestTokenTampered(t *testing.T) {
	s := testSigner(t)
	good := s.ClickToken("msg-1", Link{URL: "https://example.com/"})
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	other, err := NewSigner([]byte("another key of thirty-two bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{"", "x", "!!!!", good[:len(good)-1], good + "A", other.ClickToken("msg-1", Link{URL: "https://example.com/"})}
	for i := range raw { // every single flipped bit is caught
		for bit := range 8 {
			b := slices.Clone(raw)
			b[i] ^= 1 << bit
			bad = append(bad, base64.RawURLEncoding.EncodeToString(b))
		}
	}
	for _, tk := range bad {
		if _, err := s.Parse(tk); !errors.Is(err, ErrBadToken) {
			t.Fatalf("Parse(%q) = %v, want ErrBadToken", tk, err)
		}
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Error("NewSigner accepted a short key")
	}
}
