package mail

import (
	"bytes"
	"strings"
)

// Header is one header field: its name as written and its value unfolded
// (RFC 5322 §2.2.3) and trimmed, not decoded.
type Header struct {
	Name, Value string
}

// field is one header field as it appears in a message.
type field struct {
	name  string // as written, without whitespace before the colon
	raw   []byte // the whole field, folding kept; ends in CRLF unless it ends the input
	value string // unfolded and trimmed
}

// Reasons for a malformed header section. SES documents no texts for these.
const (
	reasonContinuation = "Message header section starts with a folded line."
	reasonHeaderLine   = "Message contains a malformed header line: a header must be 'Name: value'."
)

// splitMessage splits a CRLF-normalised message into its header fields and
// body (RFC 5322 §2.1). A message without the empty line is all header and
// has an empty body; hasBody says whether the empty line was there.
// Obsolete whitespace before the colon (RFC 5322 §4.5.4) is accepted.
func splitMessage(msg []byte) (fields []field, body []byte, hasBody bool, err error) {
	pos := 0
	for pos < len(msg) {
		end, next := lineAt(msg, pos)
		if end == pos {
			return fields, msg[next:], true, nil
		}
		if c := msg[pos]; c == ' ' || c == '\t' {
			return nil, nil, false, contentErr(reasonContinuation)
		}
		colon := bytes.IndexByte(msg[pos:end], ':')
		if colon < 0 {
			return nil, nil, false, contentErr(reasonHeaderLine)
		}
		name := strings.TrimRight(string(msg[pos:pos+colon]), " \t")
		if !validFieldName(name) {
			return nil, nil, false, contentErr(reasonHeaderLine)
		}
		// Take the continuation lines.
		for next < len(msg) && (msg[next] == ' ' || msg[next] == '\t') {
			_, next = lineAt(msg, next)
		}
		raw := msg[pos:next:next]
		fields = append(fields, field{
			name:  name,
			raw:   raw,
			value: unfold(raw[colon+1:]),
		})
		pos = next
	}
	return fields, nil, false, nil
}

// lineAt returns the end of the line starting at pos (the index of its CRLF,
// or len(msg)) and the start of the next line.
func lineAt(msg []byte, pos int) (end, next int) {
	i := bytes.Index(msg[pos:], []byte("\r\n"))
	if i < 0 {
		return len(msg), len(msg)
	}
	return pos + i, pos + i + 2
}

// validFieldName reports whether s is a field-name: one or more printable
// US-ASCII characters other than the colon (RFC 5322 §3.6.8).
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// unfold removes the CRLFs of folding (RFC 5322 §2.2.3) and trims the value.
func unfold(v []byte) string {
	s := string(v)
	if strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "")
	}
	return strings.Trim(s, " \t")
}

// ParseHeader returns the header fields of a message in order, for example of
// a message Build produced. Bare LF line endings are accepted.
func ParseHeader(msg []byte) ([]Header, error) {
	fields, _, _, err := splitMessage(normalizeCRLF(msg))
	if err != nil {
		return nil, err
	}
	return headersOf(fields), nil
}

func headersOf(fields []field) []Header {
	h := make([]Header, len(fields))
	for i, f := range fields {
		h[i] = Header{Name: f.name, Value: f.value}
	}
	return h
}

// normalizeCRLF turns bare LF and bare CR into CRLF (RFC 5322 §2.3 allows
// CR and LF only together; SMTP must not carry them alone, RFC 5321
// §2.3.8). A message that is already canonical is returned as is.
func normalizeCRLF(msg []byte) []byte {
	if onlyCRLF(msg) {
		return msg
	}
	out := make([]byte, 0, len(msg)+len(msg)/32+2)
	for i := 0; i < len(msg); i++ {
		switch c := msg[i]; c {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(msg) && msg[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// onlyCRLF reports whether every CR and every LF in msg is part of a CRLF:
// exactly when the pairs account for all of both. (bytes.Count is
// vectorised: this is several times faster than a loop over the bytes.)
func onlyCRLF(msg []byte) bool {
	pairs := bytes.Count(msg, []byte("\r\n"))
	return bytes.Count(msg, []byte{'\n'}) == pairs && bytes.Count(msg, []byte{'\r'}) == pairs
}

// maxLine is the longest line RFC 5322 §2.1.1 / RFC 5321 §4.5.3.1.6 allow,
// without its CRLF.
const maxLine = 998

// hasLongLine reports whether a CRLF-normalised message has a line over
// maxLine octets.
func hasLongLine(msg []byte) bool {
	for len(msg) > maxLine {
		i := bytes.Index(msg[:min(len(msg), maxLine+2)], []byte("\r\n"))
		if i < 0 {
			return true
		}
		msg = msg[i+2:]
	}
	return false
}
