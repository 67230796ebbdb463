package tracking

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"testing"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func testSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testOptions = Options{MessageID: "0100019a-test-message", BaseURL: "https://sesame.example", Open: true, Click: true}

// leaf is one non-multipart entity of a message, decoded.
type leaf struct {
	contentType string
	header      mail.Header
	raw         []byte // the body as transmitted
}

// leaves walks a message with the standard library's MIME readers, as a
// receiving client would.
func leaves(msg []byte) ([]leaf, error) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	var out []leaf
	err = walkLeaves(m.Header.Get("Content-Type"), mail.Header(m.Header), m.Body, 0, &out)
	return out, err
}

func walkLeaves(ct string, h mail.Header, body io.Reader, depth int, out *[]leaf) error {
	mt, params, _ := mime.ParseMediaType(ct)
	if strings.HasPrefix(mt, "multipart/") && depth < 10 {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walkLeaves(p.Header.Get("Content-Type"), mail.Header(p.Header), p, depth+1, out); err != nil {
				return err
			}
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	*out = append(*out, leaf{contentType: mt, header: h, raw: b})
	return nil
}

var trackedURL = regexp.MustCompile(`/t/(open|click)/([A-Za-z0-9_-]+)`)

// tokensIn returns what every tracking token in s says, in order.
func tokensIn(t *testing.T, s *Signer, text string) []Token {
	t.Helper()
	var out []Token
	for _, m := range trackedURL.FindAllStringSubmatch(text, -1) {
		tok, err := s.Parse(m[2])
		if err != nil {
			t.Fatalf("token %s: %v", m[2], err)
		}
		out = append(out, tok)
	}
	return out
}
