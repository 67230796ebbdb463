package dns

import (
	"context"
	"errors"
	"fmt"
	"net"

	mdns "github.com/miekg/dns"
)

// Definitive negative answers. They arrive wrapped in a [*LookupError]; test
// with errors.Is.
var (
	// ErrNotFound: the name does not exist (RCODE NXDOMAIN, RFC 1035 §4.1.1;
	// for a CNAME chain it concerns the last name, RFC 6604). Identities
	// report it as HOST_NOT_FOUND.
	ErrNotFound = errors.New("no such host")
	// ErrNoData: the name exists but has no record of the asked type
	// (NOERROR with an empty answer, RFC 2308 §2.2). Identities report it as
	// TYPE_NOT_FOUND.
	ErrNoData = errors.New("no record of that type")
	// ErrNullMX: the domain publishes the RFC 7505 null MX and accepts no
	// mail; delivery must not fall back to A/AAAA (RFC 7505 §3).
	ErrNullMX = errors.New("domain accepts no mail (null MX)")
	// ErrInvalidName: the name given is not a valid domain name; nothing was
	// sent.
	ErrInvalidName = errors.New("invalid domain name")
)

// LookupError is a definitive answer that there is nothing to return. Err is
// one of ErrNotFound, ErrNoData, ErrNullMX or ErrInvalidName.
type LookupError struct {
	Name string // the name that was asked (for NXDOMAIN after a CNAME chain: the name that does not exist), no trailing dot
	Type string // the record type asked, e.g. "TXT"
	Err  error
}

func (e *LookupError) Error() string {
	return fmt.Sprintf("dns: %s %s: %v", e.Type, e.Name, e.Err)
}

func (e *LookupError) Unwrap() error { return e.Err }

// TempError is a failure to get an answer that may succeed later: the server
// answered SERVFAIL, REFUSED or another error code (Rcode), or no usable
// answer arrived (Err: a timeout, a network error, a malformed reply, a CNAME
// chain that loops or is too long, the context ending). Identities report it
// as DNS_SERVER_ERROR and keep their status as TemporaryFailure.
//
// TempError implements net.Error with Temporary() true, which is how
// github.com/emersion/go-msgauth/dkim tells a temporary key-lookup failure
// (DKIM temperror, RFC 6376 §6.1.2) from a permanent one.
type TempError struct {
	Name   string // the name asked, no trailing dot
	Type   string // the record type asked
	Server string // the last server tried, host:port
	Rcode  int    // the server's response code when Err is nil
	Err    error  // the cause when the server gave no usable answer
}

func (e *TempError) Error() string {
	cause := "no usable answer"
	switch {
	case e.Err != nil:
		cause = e.Err.Error()
	case e.Rcode != mdns.RcodeSuccess:
		cause = "server answered " + rcodeName(e.Rcode)
	}
	if e.Server == "" {
		return fmt.Sprintf("dns: %s %s: %s", e.Type, e.Name, cause)
	}
	return fmt.Sprintf("dns: %s %s: server %s: %s", e.Type, e.Name, e.Server, cause)
}

func (e *TempError) Unwrap() error { return e.Err }

// Timeout reports whether no answer came in time.
func (e *TempError) Timeout() bool {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// Temporary is always true; it makes TempError a net.Error that callers such
// as go-msgauth recognise.
func (e *TempError) Temporary() bool { return true }

// IsTemporary reports whether err is, or wraps, a [*TempError].
func IsTemporary(err error) bool {
	var te *TempError
	return errors.As(err, &te)
}

func rcodeName(rcode int) string {
	if s, ok := mdns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

func typeName(qtype uint16) string {
	return mdns.Type(qtype).String()
}
