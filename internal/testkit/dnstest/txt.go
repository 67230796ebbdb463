package dnstest

import (
	"fmt"
	"strings"
)

// splitTXT cuts a raw value into character-strings of at most 255 octets
// (RFC 1035 §3.3.14) in miekg/dns's presentation form, where '"' and '\' are
// escaped and other non-printable octets are written \DDD.
func splitTXT(raw string) []string {
	if raw == "" {
		return []string{""}
	}
	var out []string
	for len(raw) > 0 {
		n := min(len(raw), 255)
		out = append(out, escape(raw[:n]))
		raw = raw[n:]
	}
	return out
}

func escape(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
