package dns

import (
	"context"
	"net"
)

// Resolver is the DNS look-up surface Sesame's domain packages depend on.
// [*Client] implements it; tests may substitute their own.
//
// Names are absolute: no search list is applied and a trailing dot is
// optional. Negative answers are reported as a [*LookupError] wrapping
// [ErrNotFound], [ErrNoData] or [ErrNullMX]; failures that may clear up on a
// later try are a [*TempError] (see [IsTemporary]).
type Resolver interface {
	// LookupMX returns the MX records of domain sorted by preference, lowest
	// first, host names lower-case without the trailing dot. A domain whose
	// only MX is the RFC 7505 null MX ("0 .") yields ErrNullMX.
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
	// LookupTXT returns the TXT records of name, following CNAMEs; the
	// character-strings of each record are concatenated (RFC 7208 §3.3,
	// RFC 6376 §3.6.2.2), one string per record.
	LookupTXT(ctx context.Context, name string) ([]string, error)
	// LookupCNAME returns the target of the CNAME record at name itself (the
	// chain is not followed), lower-case without the trailing dot.
	LookupCNAME(ctx context.Context, name string) (string, error)
	// LookupIP returns the A and AAAA addresses of host, IPv4 first, following
	// CNAMEs. An IP literal is returned as is.
	LookupIP(ctx context.Context, host string) ([]net.IP, error)
}

var _ Resolver = (*Client)(nil)
