package feedback

import (
	"bytes"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// field is one "Name: value" line of a report body, its name lower-cased
// and its value unfolded.
type field struct{ name, value string }

// parseGroups splits the body of a message/delivery-status or
// message/feedback-report part into its groups of fields. Both use header
// syntax (RFC 3464 §2.1, RFC 5965 §3.1): a DSN is a per-message group
// followed by one group per recipient, the groups separated by blank lines;
// a feedback report is one group. Continuation lines are unfolded (RFC 5322
// §2.2.3) and runs of white space become one space. Lines that are not
// fields are skipped rather than fatal: reports are written by every kind
// of MTA, and one odd line should not lose the rest. A line of only white
// space counts as blank.
func parseGroups(body []byte) [][]field {
	var groups [][]field
	var cur []field
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
			cur = nil
		}
	}
	var last *field // the field a continuation line extends; nil after a skipped line
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			flush()
			last = nil
		case line[0] == ' ' || line[0] == '\t':
			if last != nil {
				last.value += " " + string(line)
			}
		default:
			name, value, ok := bytes.Cut(line, []byte{':'})
			name = bytes.TrimRight(name, " \t") // "Name :" is seen in the wild
			if !ok || !validName(name) {
				last = nil
				continue
			}
			cur = append(cur, field{name: strings.ToLower(string(name)), value: string(value)})
			last = &cur[len(cur)-1]
		}
	}
	flush()
	for _, g := range groups {
		for i := range g {
			g[i].value = clean(g[i].value)
		}
	}
	return groups
}

// validName reports whether b is a field name: printable US-ASCII without
// a colon (RFC 5322 §2.2), which excludes white space.
func validName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// clean makes a field value one line of valid UTF-8 with single spaces.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Join(strings.Fields(s), " ")
}

// get returns the first value of the named (lower-case) field, or "".
func get(g []field, name string) string {
	for _, f := range g {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// all returns every value of the named (lower-case) field, in order.
func all(g []field, name string) []string {
	var out []string
	for _, f := range g {
		if f.name == name && f.value != "" {
			out = append(out, f.value)
		}
	}
	return out
}

// Typed is a report field of the form "type; value" (RFC 3464 §2.1.2): an
// MTA name ("dns; mx.example.com"), an address ("rfc822; a@example.com"),
// a diagnostic ("smtp; 550 5.1.1 user unknown").
type Typed struct {
	Type  string `json:"type,omitempty"` // lower case: dns, rfc822, smtp, x-…
	Value string `json:"value"`
}

// String is the field as written: "type; value", or the bare value when
// it has no type.
func (t Typed) String() string {
	if t.Type == "" {
		return t.Value
	}
	return t.Type + "; " + t.Value
}

// IsZero reports whether the field was absent.
func (t Typed) IsZero() bool { return t.Type == "" && t.Value == "" }

// parseTyped splits "type; value". A value without a leading type token is
// kept whole with no type.
func parseTyped(s string) Typed {
	typ, rest, ok := strings.Cut(s, ";")
	typ = strings.TrimSpace(typ)
	if !ok || typ == "" || strings.ContainsAny(typ, " \t()<>@\"") {
		return Typed{Value: strings.TrimSpace(s)}
	}
	return Typed{Type: strings.ToLower(typ), Value: strings.TrimSpace(rest)}
}

// parseMTA reads an MTA-name field, dropping comments: Gmail writes
// "dns; mx.example.com. (192.0.2.1, the server for the domain …)".
func parseMTA(s string) Typed {
	t := parseTyped(stripComments(s))
	t.Value = strings.TrimSuffix(t.Value, ".")
	return t
}

// parseAddressField reads a Final-Recipient, Original-Recipient (RFC 3464
// §2.3.1–2) or an address in a feedback report: comments and angle
// brackets, which some MTAs add, are dropped.
func parseAddressField(s string) Typed {
	t := parseTyped(stripComments(s))
	t.Value = bareAddress(t.Value)
	return t
}

// bareAddress strips white space and one pair of angle brackets.
func bareAddress(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// stripComments removes RFC 5322 comments (nested parentheses, with
// quoted-pairs) outside quoted strings.
func stripComments(s string) string {
	if !strings.ContainsRune(s, '(') {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (quoted || depth > 0) && i+1 < len(s):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
			continue
		case depth == 0 && c == '"':
			quoted = !quoted
		case !quoted && c == '(':
			depth++
			continue
		case !quoted && c == ')' && depth > 0:
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return clean(b.String())
}

// parseStatus returns the status code at the start of a Status field
// (RFC 3464 §2.3.4, RFC 3463 §2: class "." subject "." detail, the class
// 2, 4 or 5, the others 1–3 digits), without any comment after it; "" if
// there is none.
func parseStatus(s string) string {
	s = strings.TrimSpace(s)
	end := strings.IndexAny(s, " \t(")
	if end < 0 {
		end = len(s)
	}
	code := s[:end]
	parts := strings.Split(code, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return ""
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 {
			return ""
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return ""
			}
		}
	}
	return code
}

// obsZone is the offset in hours of a zone name RFC 5322 §4.3 keeps for
// old mail; Go's parser reads these as names with a zero offset ("EDT" is
// -0400, and RFC 5965's own example uses it).
func obsZone(name string) (int, bool) {
	switch name {
	case "EDT":
		return -4, true
	case "EST", "CDT":
		return -5, true
	case "CST", "MDT":
		return -6, true
	case "MST", "PDT":
		return -7, true
	case "PST":
		return -8, true
	}
	return 0, false
}

// parseDate reads an RFC 5322 date-time (Arrival-Date, Last-Attempt-Date),
// comments allowed; the zero time when absent or unreadable, since a bad
// date should not cost the rest of a report.
func parseDate(s string) time.Time {
	s = stripComments(s)
	if s == "" {
		return time.Time{}
	}
	t, err := mail.ParseDate(s)
	if err != nil {
		return time.Time{}
	}
	if name, off := t.Zone(); off == 0 {
		if h, ok := obsZone(name); ok {
			y, mo, d := t.Date()
			t = time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone(name, h*3600))
		}
	}
	return t
}
