package dns

import (
	"strconv"
	"strings"
)

// miekg/dns keeps TXT character-strings in presentation form (RFC 1035 §5.1):
// a backslash or double quote is escaped with a backslash and any other byte
// outside printable ASCII is written \DDD. These helpers convert between that
// form and the raw octets callers deal in.

// maxCharString is the longest character-string a TXT record can hold
// (RFC 1035 §3.3: a length octet, then that many octets).
const maxCharString = 255

// splitTXT cuts raw into character-strings of at most 255 octets, escaped
// for miekg/dns. An empty value is one empty string: a TXT record holds at
// least one (RFC 1035 §3.3.14).
func splitTXT(raw string) []string {
	if raw == "" {
		return []string{""}
	}
	out := make([]string, 0, (len(raw)+maxCharString-1)/maxCharString)
	for len(raw) > 0 {
		n := min(len(raw), maxCharString)
		out = append(out, escapeTXT(raw[:n]))
		raw = raw[n:]
	}
	return out
}

// joinTXT concatenates the character-strings of one TXT record into the raw
// value (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
func joinTXT(parts []string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(unescapeTXT(p))
	}
	return b.String()
}

// escapeTXT puts raw octets in miekg/dns's presentation form.
func escapeTXT(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			b.WriteByte('\\')
			s := strconv.Itoa(int(c))
			b.WriteString(strings.Repeat("0", 3-len(s)))
			b.WriteString(s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeTXT undoes escapeTXT (and miekg/dns's unpacking): \DDD is the octet
// DDD, \X is X. A lone trailing backslash is dropped, as miekg/dns's packer
// does.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			break
		}
		if i+2 < len(s) && isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
			// Like miekg/dns, values above 255 wrap: \DDD is only ever
			// written for a single octet, so this is unreachable from the wire.
			b.WriteByte(byte(int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
