package mail

import (
	"net/mail"
	"strings"
)

// Address is a mailbox: an optional display name (decoded) and an addr-spec
// of 7-bit ASCII.
type Address struct {
	Name, Addr string
}

// ParseAddress parses one RFC 5322 mailbox ("a@example.com",
// `"Jöhn" <j@example.com>`, "=?UTF-8?B?...?= <j@example.com>") with SES's
// rules (SES-BEHAVIOR §4.2): the addr-spec must be 7-bit ASCII, an
// internationalised domain only as Punycode. Display names may be UTF-8 or
// RFC 2047 encoded-words. Errors are *AddressError; a missing domain reads
// exactly "Missing final '@domain'", as SES has it.
func ParseAddress(s string) (Address, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Address{}, &AddressError{Input: s, Reason: "Empty address"}
	}
	if isPlainAddrSpec(t) {
		return Address{Addr: t}, nil // what the parser below returns for it
	}
	return parseAddress(s, t)
}

// parseAddress is ParseAddress for any input; t is s trimmed.
func parseAddress(s, t string) (Address, error) {
	p := mail.AddressParser{WordDecoder: wordDecoder}
	a, err := p.Parse(t)
	if err != nil {
		return Address{}, &AddressError{Input: s, Reason: explainAddress(t, err)}
	}
	if reason := checkAddrSpec(a.Address); reason != "" {
		return Address{}, &AddressError{Input: s, Reason: reason}
	}
	return Address{Name: a.Name, Addr: a.Address}, nil
}

// ParseAddressList parses a comma-separated address list, as in a To or Cc
// header; groups ("undisclosed-recipients:;") contribute their members. An
// empty or blank list is no addresses, not an error. An *AddressError names
// the member at fault in Input when one can be singled out.
func ParseAddressList(s string) ([]Address, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, nil
	}
	if isPlainAddrSpec(t) {
		return []Address{{Addr: t}}, nil // what the parser below returns for it
	}
	return parseAddressList(s, t)
}

// parseAddressList is ParseAddressList for any input; t is s trimmed.
func parseAddressList(s, t string) ([]Address, error) {
	p := mail.AddressParser{WordDecoder: wordDecoder}
	list, err := p.ParseList(t)
	if err != nil {
		// Find the member at fault for a precise reason.
		for _, piece := range splitList(t) {
			if strings.TrimSpace(piece) == "" || strings.HasSuffix(strings.TrimSpace(piece), ";") {
				continue
			}
			if _, perr := ParseAddress(piece); perr != nil {
				return nil, perr
			}
		}
		return nil, &AddressError{Input: s, Reason: explainAddress(t, err)}
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		if reason := checkAddrSpec(a.Address); reason != "" {
			return nil, &AddressError{Input: s, Reason: reason}
		}
		out = append(out, Address{Name: a.Name, Addr: a.Address})
	}
	return out, nil
}

// splitList splits an address list at commas outside quotes, comments and
// angle brackets.
func splitList(s string) []string {
	var out []string
	depth, inQuote, angle, start := 0, false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && (inQuote || depth > 0):
			i++
		case c == '"' && depth == 0:
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// explainAddress turns a net/mail error into SES's wording where the cause
// is one SES names (SES words its errors as JavaMail's InternetAddress does),
// else a plain description.
func explainAddress(s string, err error) string {
	spec := s
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		spec = s[i+1:]
		if j := strings.IndexByte(spec, '>'); j >= 0 {
			spec = spec[:j]
		}
	}
	if reason := checkAddrSpec(strings.TrimSpace(spec)); reason != "" {
		return reason
	}
	return "Illegal address: " + strings.TrimPrefix(err.Error(), "mail: ")
}

// checkAddrSpec applies SES's addr-spec rules and returns the reason an
// address is refused, or "". The texts are those of JavaMail's
// InternetAddress.checkAddress, which SES's texts follow ("Missing final
// '@domain'"), with the ASCII-only rule of SES-BEHAVIOR §4.2 added.
func checkAddrSpec(spec string) string {
	at := strings.LastIndexByte(spec, '@')
	if at < 0 {
		return "Missing final '@domain'"
	}
	local, domain := spec[:at], spec[at+1:]
	if local == "" {
		return "Missing local name"
	}
	quoted := len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"'
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c >= 0x80:
			return "Local address contains illegal character"
		case c < ' ' || c == 0x7f:
			return "Local address contains control or whitespace"
		}
	}
	if !quoted && isDotAtomText(local) {
		switch {
		case local[0] == '.':
			return "Local address starts with dot"
		case local[len(local)-1] == '.':
			return "Local address ends with dot"
		case strings.Contains(local, ".."):
			return "Local address contains dot-dot"
		}
	}
	if domain == "" {
		return "Missing domain"
	}
	if domain[0] == '.' {
		return "Domain starts with dot"
	}
	if domain[0] == '[' {
		if domain[len(domain)-1] != ']' {
			return "Domain literal end not at end of domain"
		}
		for i := 0; i < len(domain); i++ {
			if c := domain[i]; c <= ' ' || c >= 0x7f {
				return "Domain contains control or whitespace"
			}
		}
		return ""
	}
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return "Domain contains control or whitespace"
		case c == '.':
			if i > 0 && domain[i-1] == '.' {
				return "Domain contains dot-dot"
			}
		case c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
		default:
			// Includes non-ASCII: IDNs must be given as Punycode.
			return "Domain contains illegal character"
		}
	}
	if domain[len(domain)-1] == '.' {
		return "Domain ends with dot"
	}
	return ""
}

// isPlainAddrSpec reports whether s is a bare addr-spec in its most common
// form, which needs no parser: a dot-atom local part (RFC 5322 §3.4.1) and a
// domain of letters, digits and hyphens in dot-separated labels, with no
// empty label. Such an address is valid as written, with no display name.
func isPlainAddrSpec(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if !isDotAtomText(local) || !dotSeparated(local) || !dotSeparated(domain) {
		return false
	}
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; c != '.' && c != '-' && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// dotSeparated reports whether s neither starts nor ends with a dot nor has
// two in a row.
func dotSeparated(s string) bool {
	return s[0] != '.' && s[len(s)-1] != '.' && !strings.Contains(s, "..")
}

// isDotAtomText reports whether s has only atext and dots (RFC 5322 §3.2.3),
// i.e. it was written without quotes.
func isDotAtomText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && !isAtext(c) {
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// Domain returns the lower-cased domain of an address, or "" if it has none.
func Domain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}

// NormalizeAddress returns the form addresses are compared and stored in:
// lower case throughout. Domains are case-insensitive (RFC 5321 §2.4) and
// Sesame also treats local parts so (SES-BEHAVIOR §5.1).
func NormalizeAddress(addr string) string {
	return strings.ToLower(strings.TrimSpace(addr))
}

// String returns the address as written in a header: the display name as
// atoms, a quoted-string, or RFC 2047 encoded-words in UTF-8.
func (a Address) String() string { return a.format("UTF-8") }

// format writes the address with a non-ASCII display name in the charset
// asked for (if Sesame can write it).
func (a Address) format(charsetName string) string {
	spec := formatAddrSpec(a.Addr)
	if a.Name == "" {
		return spec
	}
	var name string
	switch {
	case isPhrase(a.Name):
		name = a.Name
	case !needsEncodedWords(a.Name):
		name = quoteString(a.Name)
	default:
		b, cs := encodeCharset(a.Name, charsetName)
		name = encodedWords(b, cs, true)
	}
	return name + " <" + spec + ">"
}

// Display returns the address for people and event records: the display name
// decoded, quoted only when it has specials.
func (a Address) Display() string {
	spec := formatAddrSpec(a.Addr)
	if a.Name == "" {
		return spec
	}
	name := a.Name
	if strings.ContainsAny(name, `()<>[]:;@\,."`) {
		name = quoteString(name)
	}
	return name + " <" + spec + ">"
}

// formatAddrSpec quotes a local part that is not a dot-atom (net/mail
// returns it unquoted).
func formatAddrSpec(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return addr
	}
	local := addr[:at]
	if isDotAtomText(local) && local[0] != '.' && local[len(local)-1] != '.' && !strings.Contains(local, "..") {
		return addr
	}
	return quoteString(local) + addr[at:]
}

// isPhrase reports whether a display name can be written as plain atoms
// separated by single spaces (RFC 5322 §3.2.5) without reading as an
// encoded-word.
func isPhrase(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  ") || strings.Contains(s, "=?") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && !isAtext(c) {
			return false
		}
	}
	return true
}
