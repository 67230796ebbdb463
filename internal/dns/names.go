package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
)

// normalizeName returns name lower-cased and fully qualified (trailing dot),
// or false when it is not a domain name a query can be sent for: empty, the
// root, a label longer than 63 octets or a name longer than 255 (RFC 1035
// §2.3.4). Names are in presentation format, so escapes such as \. count as
// one octet.
func normalizeName(name string) (string, bool) {
	if name == "" || name == "." {
		return "", false
	}
	fqdn := mdns.Fqdn(strings.ToLower(name))
	if _, ok := mdns.IsDomainName(fqdn); !ok {
		return "", false
	}
	return fqdn, true
}

// displayName is a name as Sesame shows it: lower-case, no trailing dot.
func displayName(name string) string {
	if name == "." {
		return name
	}
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

// sameName reports whether two presentation-format names are equal, ignoring
// ASCII case (RFC 4343) and a trailing dot.
func sameName(a, b string) bool {
	return strings.EqualFold(mdns.Fqdn(a), mdns.Fqdn(b))
}
