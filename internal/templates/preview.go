package templates

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// Preview is the MIME message TestRenderTemplate returns as RenderedTemplate
// (SES-BEHAVIOR §12): the rendered subject as a Subject header, and the text
// and HTML parts — multipart/alternative when there are both. It is a
// preview, not the message a send builds (that one has From, To, Date and
// Message-ID, made by the sending path), and it is deterministic: the
// boundary is derived from the content, which cannot contain its own hash.
func Preview(r Rendered) []byte {
	var b bytes.Buffer
	b.WriteString("Subject: " + subjectHeader(r.Subject) + "\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")
	type body struct{ mediaType, data string }
	var parts []body
	if r.Text != "" {
		parts = append(parts, body{"text/plain", r.Text})
	}
	if r.HTML != "" {
		parts = append(parts, body{"text/html", r.HTML})
	}
	if len(parts) == 1 {
		writePart(&b, parts[0].mediaType, parts[0].data)
		return b.Bytes()
	}
	sum := sha256.Sum256([]byte(r.Subject + "\x00" + r.Text + "\x00" + r.HTML))
	boundary := "=_" + hex.EncodeToString(sum[:16])
	b.WriteString("Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n\r\n")
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		writePart(&b, p.mediaType, p.data)
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// writePart writes a part's header and body: 7bit when the text is ASCII in
// short lines (RFC 5322 §2.1.1: at most 998 octets), quoted-printable
// otherwise (RFC 2045 §6.7).
func writePart(b *bytes.Buffer, mediaType, data string) {
	b.WriteString("Content-Type: " + mediaType + "; charset=UTF-8\r\n")
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	if sevenBit(data) {
		b.WriteString("Content-Transfer-Encoding: 7bit\r\n\r\n")
		b.WriteString(strings.ReplaceAll(data, "\n", "\r\n"))
	} else {
		b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
		w := quotedprintable.NewWriter(b)
		_, _ = w.Write([]byte(data)) // writes to a bytes.Buffer do not fail
		_ = w.Close()
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
}

func sevenBit(s string) bool {
	line := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			line = 0
			continue
		case c == 0 || c >= 0x80:
			return false
		}
		line++
		if line > 998 {
			return false
		}
	}
	return true
}

// subjectHeader is the Subject field body: the text on one line, as RFC
// 2047 encoded-words when it is not plain ASCII.
func subjectHeader(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
	return mime.QEncoding.Encode("UTF-8", s) // unchanged when plain ASCII
}
