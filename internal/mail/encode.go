package mail

import (
	"encoding/base64"
	"io"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"
)

// charset is a character set Build can write: the text as bytes in that set
// and the label to declare it with.
type charset struct {
	label string
	utf8  bool // bytes are UTF-8: encoded-words must split at rune boundaries
}

// encodeCharset returns s in the charset the caller asked for when Sesame
// can produce it (UTF-8, US-ASCII, ISO-8859-1), else in UTF-8. The label
// always matches the bytes: a mislabelled body is worse than a different
// charset. The standard library has no other encoders and Sesame takes no
// dependency for them. Invalid UTF-8 becomes U+FFFD.
func encodeCharset(s, want string) (string, charset) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	switch strings.ToLower(strings.TrimSpace(want)) {
	case "us-ascii", "ascii", "ansi_x3.4-1968":
		if isASCII(s) {
			return s, charset{label: "US-ASCII"}
		}
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1":
		if b, ok := toLatin1(s); ok {
			return b, charset{label: "ISO-8859-1"}
		}
	}
	return s, charset{label: "UTF-8", utf8: true}
}

func toLatin1(s string) (string, bool) {
	if isASCII(s) {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// needsEncodedWords reports whether an unstructured header text must be
// written as encoded-words: it has bytes other than printable ASCII and
// space, text that would read as an encoded-word, or a run without spaces
// too long to fold (RFC 2047 §5, RFC 5322 §2.1.1).
func needsEncodedWords(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' {
			return true
		}
		if c == ' ' {
			run = 0
		} else if run++; run > 76 {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// encodedWords writes s (bytes in cs) as RFC 2047 encoded-words of at most
// 75 characters, separated by spaces so the result folds. Q encoding keeps
// mostly-ASCII text readable; B is shorter for the rest. phrase selects the
// stricter Q alphabet allowed in a display name (RFC 2047 §5(3)).
func encodedWords(s string, cs charset, phrase bool) string {
	special := 0
	for i := 0; i < len(s); i++ {
		if !qSafe(s[i], phrase) && s[i] != ' ' {
			special++
		}
	}
	if special*3 > len(s) {
		return bWords(s, cs)
	}
	return qWords(s, cs, phrase)
}

// maxWord is the longest encoded-word RFC 2047 §2 allows.
const maxWord = 75

func bWords(s string, cs charset) string {
	prefix := "=?" + cs.label + "?B?"
	room := (maxWord - len(prefix) - 2) / 4 * 3
	var b strings.Builder
	for first := true; first || s != ""; first = false {
		n := min(room, len(s))
		if cs.utf8 {
			for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
				n--
			}
		}
		if !first {
			b.WriteByte(' ')
		}
		b.WriteString(prefix)
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s[:n])))
		b.WriteString("?=")
		s = s[n:]
	}
	return b.String()
}

func qWords(s string, cs charset, phrase bool) string {
	prefix := "=?" + cs.label + "?Q?"
	room := maxWord - len(prefix) - 2
	var b strings.Builder
	var word []byte
	flush := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(prefix)
		b.Write(word)
		b.WriteString("?=")
		word = word[:0]
	}
	for i := 0; i < len(s); {
		// One character at a time, so a UTF-8 sequence is never split.
		n := 1
		if cs.utf8 {
			_, n = utf8.DecodeRuneInString(s[i:])
		}
		var enc []byte
		for _, c := range []byte(s[i : i+n]) {
			switch {
			case c == ' ':
				enc = append(enc, '_')
			case qSafe(c, phrase):
				enc = append(enc, c)
			default:
				enc = append(enc, '=', upperhex[c>>4], upperhex[c&15])
			}
		}
		if len(word)+len(enc) > room {
			flush()
		}
		word = append(word, enc...)
		i += n
	}
	if len(word) > 0 || b.Len() == 0 {
		flush()
	}
	return b.String()
}

const upperhex = "0123456789ABCDEF"

// qSafe reports whether c may appear literally in a Q-encoded word: in a
// phrase only letters, digits and !*+-/ (RFC 2047 §5(3)); elsewhere any
// printable ASCII but = ? _ (RFC 2047 §4.2).
func qSafe(c byte, phrase bool) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	if phrase {
		return strings.IndexByte("!*+-/", c) >= 0
	}
	return c > ' ' && c <= '~' && c != '=' && c != '?' && c != '_'
}

// encodeText returns an unstructured header value (Subject,
// Content-Description) in the charset asked for, as encoded-words when
// needed.
func encodeText(s, want string) string {
	if !needsEncodedWords(s) {
		return s
	}
	b, cs := encodeCharset(s, want)
	return encodedWords(b, cs, false)
}

// writeField writes "Name: value" CRLF, folding at spaces to keep lines to
// 78 characters where possible (RFC 5322 §2.2.3). With quoted set, spaces
// inside quoted-strings are not used, so structured values stay readable to
// strict parsers.
func writeField(w io.StringWriter, name, value string, quoted bool) {
	const soft = 78
	w.WriteString(name)
	w.WriteString(":")
	col := len(name) + 1
	for value != "" {
		tok, rest := nextToken(value, quoted)
		// tok includes its leading space, if any.
		if col > len(name)+1 && col+len(tok) > soft && tok[0] == ' ' && strings.TrimLeft(tok, " ") != "" {
			w.WriteString("\r\n")
			col = 0
		} else if col == len(name)+1 && tok[0] != ' ' {
			w.WriteString(" ")
			col++
		}
		w.WriteString(tok)
		col += len(tok)
		value = rest
	}
	w.WriteString("\r\n")
}

// nextToken returns the text up to the next space that may be folded
// (including the space it starts with) and the rest.
func nextToken(s string, quoted bool) (string, string) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	inQuote := false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\' && inQuote:
			i++
		case quoted && c == '"':
			inQuote = !inQuote
		case c == ' ' && !inQuote:
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// formatMediaType writes a Content-Type or Content-Disposition value with its
// parameters in the order given. Values that are not short printable ASCII
// use RFC 2231 extended notation with continuations, so no line grows past
// the limit whatever the file name.
func formatMediaType(typ string, params ...[2]string) string {
	var b strings.Builder
	b.WriteString(typ)
	for _, p := range params {
		b.WriteString("; ")
		writeParam(&b, p[0], p[1])
	}
	return b.String()
}

func writeParam(b *strings.Builder, name, value string) {
	// 70 fits the longest boundary RFC 2046 §5.1.1 allows, which must not be
	// written in RFC 2231 notation.
	const chunk = 70
	if isPrintableASCII(strings.ReplaceAll(value, " ", "")) && len(value) <= chunk {
		b.WriteString(name)
		b.WriteByte('=')
		// File names are quoted even when they are tokens: some clients
		// expect it.
		if isToken(value) && name != "filename" && name != "name" {
			b.WriteString(value)
		} else {
			b.WriteString(quoteString(value))
		}
		return
	}
	// RFC 2231 §4: name*=utf-8''..., split as name*0*=...; name*1*=...
	// (§3) when long.
	enc := "utf-8''" + pctEncode(value)
	if len(enc) <= chunk {
		b.WriteString(name + "*=" + enc)
		return
	}
	for n := 0; enc != ""; n++ {
		end := min(chunk, len(enc))
		// Do not split a %XX triplet.
		if i := strings.LastIndexByte(enc[:end], '%'); i >= 0 && i+3 > end && end < len(enc) {
			end = i
		}
		if n > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name)
		b.WriteByte('*')
		b.WriteString(strconv.Itoa(n))
		b.WriteString("*=")
		b.WriteString(enc[:end])
		enc = enc[end:]
	}
}

// isToken reports whether s is a non-empty RFC 2045 §5.1 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// quoteString returns s as an RFC 5322 quoted-string.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// pctEncode encodes s as an RFC 2231 value: attribute-chars literal, every
// other octet as %XX.
func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
	return b.String()
}

// wordDecoder decodes RFC 2047 encoded-words. The standard library knows
// UTF-8, US-ASCII and ISO-8859-1; text in any other charset is kept as its
// ASCII bytes with U+FFFD for the rest, so a display name in an unknown
// charset never makes an address unusable. A WordDecoder holds no state, so
// one serves every caller.
var wordDecoder = &mime.WordDecoder{CharsetReader: asciiOnly}

func asciiOnly(_ string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	for _, c := range b {
		if c < utf8.RuneSelf {
			out.WriteByte(c)
		} else {
			out.WriteRune(utf8.RuneError)
		}
	}
	return strings.NewReader(out.String()), nil
}

// decodeText decodes the encoded-words of an unstructured header value,
// returning the value unchanged where they are malformed.
func decodeText(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}
