// Package dns is Sesame's window on the Domain Name System.
//
// It has two halves. [Client] is the resolver every other package uses (through
// the [Resolver] interface) to verify identities — Easy DKIM CNAMEs, BYODKIM and
// legacy _amazonses TXT records, custom MAIL FROM MX and SPF records — and to
// find where to deliver mail (MX with A/AAAA fallback). Its errors say exactly
// what went wrong, because identities report HOST_NOT_FOUND, TYPE_NOT_FOUND or
// DNS_SERVER_ERROR from them: [ErrNotFound] (NXDOMAIN), [ErrNoData] (the name
// exists without a record of the asked type), [ErrNullMX] (RFC 7505), and
// [*TempError] for everything that may succeed later (SERVFAIL, REFUSED,
// timeouts, network errors).
//
// [ZoneServer] is the authoritative server for Sesame's DKIM zone: Easy DKIM
// tells a customer to publish <token>._domainkey.<domain> CNAME
// <token>.<zone>, and the ZoneServer answers the TXT query for <token>.<zone>
// with that token's public key, the way SES serves dkim.amazonses.com.
//
// The wire protocol is github.com/miekg/dns, imported as mdns.
package dns
