package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	mdns "github.com/miekg/dns"
)

const (
	// defaultTimeout bounds one query to one server when NewClient is given
	// no timeout and resolv.conf sets none.
	defaultTimeout = 2 * time.Second
	// attempts is how many times each server is asked before giving up on a
	// timeout or network error: the first try and a couple of retries.
	attempts = 3
	// ednsSize is the UDP payload size advertised in queries and answers: the
	// DNS Flag Day 2020 value, which avoids IP fragmentation.
	ednsSize = 1232
	// resolvConf is where the system resolver is configured.
	resolvConf = "/etc/resolv.conf"
)

// Client is a stub resolver (RFC 1123 §6.1.3.1) that asks recursive servers
// with recursion desired: over UDP with EDNS0 (RFC 6891), again over TCP when
// the answer is truncated (RFC 7766 §5), retrying on timeouts. It keeps no
// cache and applies no search list. A Client is safe for concurrent use.
type Client struct {
	servers  []string // host:port, asked in order
	timeout  time.Duration
	attempts int
	dialer   net.Dialer
}

// NewClient returns a Client that asks server (host:port; a bare host or IP
// means port 53). With server == "" it asks the nameservers of
// /etc/resolv.conf in order. timeout bounds each query to one server (0: the
// resolv.conf timeout, else 2s); a look-up sends at most 3 queries per server
// and fewer if its context ends first.
func NewClient(server string, timeout time.Duration) (*Client, error) {
	if timeout < 0 {
		return nil, fmt.Errorf("dns: negative timeout %v", timeout)
	}
	if server == "" {
		return newClientFromResolvConf(resolvConf, timeout)
	}
	addr, err := serverAddr(server)
	if err != nil {
		return nil, err
	}
	if timeout == 0 {
		timeout = defaultTimeout
	}
	return &Client{servers: []string{addr}, timeout: timeout, attempts: attempts}, nil
}

// newClientFromResolvConf reads the nameservers, port and timeout of a
// resolv.conf file.
func newClientFromResolvConf(path string, timeout time.Duration) (*Client, error) {
	conf, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("dns: reading system resolver configuration: %w", err)
	}
	if len(conf.Servers) == 0 {
		return nil, fmt.Errorf("dns: no nameserver in %s", path)
	}
	servers := make([]string, 0, len(conf.Servers))
	for _, s := range conf.Servers {
		servers = append(servers, net.JoinHostPort(s, conf.Port))
	}
	if timeout == 0 {
		timeout = time.Duration(conf.Timeout) * time.Second
	}
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &Client{servers: servers, timeout: timeout, attempts: attempts}, nil
}

// serverAddr validates a server address and adds the default port.
func serverAddr(server string) (string, error) {
	if ip := net.ParseIP(server); ip != nil {
		return net.JoinHostPort(server, "53"), nil
	}
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		// No port: a host name alone.
		host, port = server, "53"
	}
	if host == "" {
		return "", fmt.Errorf("dns: server %q: no host", server)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", fmt.Errorf("dns: server %q: invalid port", server)
	}
	return net.JoinHostPort(host, port), nil
}

// Servers returns the addresses the client asks, in order.
func (c *Client) Servers() []string {
	return append([]string(nil), c.servers...)
}

// errMismatch: a reply that is not an answer to the question asked.
var errMismatch = errors.New("reply does not match the query")

// exchange asks the servers for name/qtype until one gives an answer:
// NOERROR or NXDOMAIN. A server answering another code is not asked again
// (SERVFAIL and REFUSED are not cured by repeating the question); one that
// times out or fails on the network is retried up to c.attempts times.
// The error is always a *TempError.
func (c *Client) exchange(ctx context.Context, name string, qtype uint16) (*mdns.Msg, error) {
	temp := func(server string, rcode int, err error) *TempError {
		return &TempError{Name: displayName(name), Type: typeName(qtype), Server: server, Rcode: rcode, Err: err}
	}
	answered := make([]bool, len(c.servers)) // the server answered with an error code
	remaining := len(c.servers)
	var last *TempError
	for range c.attempts {
		for i, server := range c.servers {
			if answered[i] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, temp(server, 0, context.Cause(ctx))
			}
			r, err := c.queryServer(ctx, server, name, qtype)
			if err != nil {
				if ctx.Err() != nil {
					err = context.Cause(ctx)
				}
				last = temp(server, 0, err)
				continue
			}
			if r.Rcode == mdns.RcodeSuccess || r.Rcode == mdns.RcodeNameError {
				return r, nil
			}
			last = temp(server, r.Rcode, nil)
			answered[i] = true
			if remaining--; remaining == 0 {
				return nil, last
			}
		}
	}
	if last == nil { // a Client not made by NewClient
		return nil, temp("", 0, errNoServer)
	}
	return nil, last
}

// errNoServer: the Client has no server to ask.
var errNoServer = errors.New("no DNS server configured")

// queryServer asks one server once: over UDP, then over TCP if the answer was
// truncated; without EDNS if the server rejects it with FORMERR (RFC 6891 §7).
func (c *Client) queryServer(ctx context.Context, server, name string, qtype uint16) (*mdns.Msg, error) {
	q := new(mdns.Msg)
	q.SetQuestion(name, qtype) // sets RD
	q.SetEdns0(ednsSize, false)
	r, err := c.exchangeOnce(ctx, "udp", server, q)
	if err == nil && r.Truncated {
		r, err = c.exchangeOnce(ctx, "tcp", server, q)
	}
	if err == nil && r.Rcode == mdns.RcodeFormatError {
		q.Extra = nil
		q.Id = mdns.Id()
		r, err = c.exchangeOnce(ctx, "udp", server, q)
		if err == nil && r.Truncated {
			r, err = c.exchangeOnce(ctx, "tcp", server, q)
		}
	}
	return r, err
}

// aLongTimeAgo is a deadline in the past: setting it unblocks pending I/O.
var aLongTimeAgo = time.Unix(1, 0)

// exchangeOnce sends q to server over network and reads the reply, within
// c.timeout and the context (its cancellation interrupts the read).
func (c *Client) exchangeOnce(ctx context.Context, network, server string, q *mdns.Msg) (*mdns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	nc, err := c.dialer.DialContext(ctx, network, server)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	deadline, _ := ctx.Deadline()
	if err := nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// Registered after SetDeadline, so it cannot be overwritten by it.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(aLongTimeAgo) })
	defer stop()

	// Read with a buffer for any datagram, in case a server sends more than
	// the size advertised.
	co := &mdns.Conn{Conn: nc, UDPSize: mdns.MaxMsgSize}
	if err := co.WriteMsg(q); err != nil {
		return nil, err
	}
	for {
		r, err := co.ReadMsg()
		if err != nil {
			return nil, err
		}
		if r.Id != q.Id {
			if network == "udp" {
				// A late reply to an earlier query, or a spoofing attempt:
				// keep listening until the deadline (RFC 5452 §9.1).
				continue
			}
			return nil, errMismatch
		}
		if err := checkReply(q, r); err != nil {
			return nil, err
		}
		return r, nil
	}
}

// checkReply verifies that r answers q (RFC 5452 §4.2): a response to a
// standard query, echoing the question. Servers may omit the question when
// reporting an error.
func checkReply(q, r *mdns.Msg) error {
	if !r.Response || r.Opcode != mdns.OpcodeQuery {
		return errMismatch
	}
	if len(r.Question) == 0 && r.Rcode != mdns.RcodeSuccess && r.Rcode != mdns.RcodeNameError {
		return nil
	}
	if len(r.Question) != 1 {
		return errMismatch
	}
	a, b := q.Question[0], r.Question[0]
	if a.Qtype != b.Qtype || a.Qclass != b.Qclass || !sameName(a.Name, b.Name) {
		return errMismatch
	}
	return nil
}
