package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// ZoneServer is the authoritative name server for Sesame's DKIM zone. Easy
// DKIM has customers publish <token>._domainkey.<domain> CNAME <token>.<Zone>;
// a verifier following that CNAME asks for <token>.<Zone> TXT and the
// ZoneServer answers with the public key record Lookup returns for the token
// — as SES does for dkim.amazonses.com.
//
// It answers, with the AA bit (RFC 1035 §4.1.1):
//   - <token>.<Zone> TXT: the record, cut into character-strings of at most
//     255 octets; NOERROR without data for other types; NXDOMAIN for tokens
//     Lookup does not know; SERVFAIL if Lookup fails;
//   - the apex: SOA, and NS naming ns.<Zone>; ns.<Zone> A/AAAA with the
//     address the query arrived on, when that address is specific;
//   - negative answers carry the SOA in the authority section (RFC 2308 §3);
//   - names outside Zone, classes other than IN, and zone transfers: REFUSED.
//
// It honours EDNS0 (RFC 6891) for the UDP answer size and truncates answers
// too big for UDP, setting TC so the client retries over TCP (RFC 7766).
//
// Set the fields, then Start; do not change them afterwards. ZoneServer is
// also an mdns.Handler: ServeDNS may be used without Start.
type ZoneServer struct {
	// Zone is the DKIM zone, e.g. "dkim.sesame.example" (SESAME_DKIM_ZONE).
	Zone string
	// Lookup returns the TXT record for a token (the label left of Zone,
	// lower-case), e.g. "v=DKIM1; k=rsa; p=MIIB…", and whether the token
	// exists. An error makes the answer SERVFAIL. ctx ends when the query is
	// abandoned or the server closes.
	Lookup func(ctx context.Context, label string) (txt string, ok bool, err error)
	// Logger receives protocol traces at debug level and Lookup failures;
	// nil discards.
	Logger *slog.Logger

	mu     sync.Mutex
	ep     *endpoint
	ctx    context.Context // parent of every Lookup context while serving
	cancel context.CancelFunc
	closed bool
}

// Start binds UDP and TCP on addr (host:port; port 0 picks a free port, the
// same for both) and serves until Close. It fails if the configuration is
// invalid, the address cannot be bound, or the server was started or closed
// before; on failure nothing is left bound.
func (z *ZoneServer) Start(addr string) error {
	if _, ok := normalizeName(z.Zone); !ok {
		return fmt.Errorf("dns: zone server: invalid zone %q", z.Zone)
	}
	if z.Lookup == nil {
		return errors.New("dns: zone server: Lookup is nil")
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	switch {
	case z.closed:
		return errors.New("dns: zone server: closed")
	case z.ep != nil:
		return errors.New("dns: zone server: already started")
	}
	z.ctx, z.cancel = context.WithCancel(context.Background())
	ep, err := serve(addr, z, func(network string, err error) {
		z.logger().Error("dns: zone server stopped serving", "network", network, "err", err)
	})
	if err != nil {
		z.cancel()
		z.ctx, z.cancel = nil, nil
		return err
	}
	z.ep = ep
	z.logger().Info("dns: serving DKIM zone", "zone", z.Zone, "addr", ep.addr)
	return nil
}

// Addr returns the bound address (the UDP one; TCP has the same port), or ""
// before Start.
func (z *ZoneServer) Addr() string {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.ep == nil {
		return ""
	}
	return z.ep.addr
}

// Close stops serving, cancelling lookups in flight and waiting a few seconds
// at most for their answers. It may be called at any time, more than once.
func (z *ZoneServer) Close() error {
	z.mu.Lock()
	ep, cancel := z.ep, z.cancel
	z.ep, z.closed = nil, true
	z.mu.Unlock()
	if ep == nil {
		return nil
	}
	cancel()
	return ep.close()
}

// baseContext is the parent of Lookup contexts: cancelled by Close.
func (z *ZoneServer) baseContext() context.Context {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.ctx == nil {
		return context.Background()
	}
	return z.ctx
}

func (z *ZoneServer) logger() *slog.Logger {
	if z.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return z.Logger
}
