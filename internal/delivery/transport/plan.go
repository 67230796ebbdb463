package transport

import (
	"strings"
)

// group is the recipients that share one SMTP transaction: one domain, or
// everyone when a relay is used.
type group struct {
	domain string   // lower-case; "" with a relay
	rcpts  []string // distinct addresses, in first-seen order
	pos    [][]int  // pos[i]: the indexes in Message.To of rcpts[i]
}

// plan groups the valid recipients by domain, in first-seen order, and gives
// each invalid one its Permanent result right away.
func (t *Transport) plan(to []string, results []Result) []*group {
	var groups []*group
	byDomain := map[string]*group{}
	seen := map[string]int{} // address -> index in its group's rcpts
	for i, rcpt := range to {
		if !validAddress(rcpt) {
			results[i] = reply{
				outcome:  Permanent,
				enhanced: "5.1.3", // RFC 3463: bad destination mailbox address syntax
				text:     "invalid recipient address",
			}.result(peer{})
			results[i].Rcpt = rcpt
			continue
		}
		domain := t.Destination(rcpt)
		g := byDomain[domain]
		if g == nil {
			g = &group{domain: domain}
			byDomain[domain] = g
			groups = append(groups, g)
		}
		// Local parts are case-sensitive (RFC 5321 §2.4): only exact
		// duplicates share a RCPT.
		if j, ok := seen[rcpt]; ok {
			g.pos[j] = append(g.pos[j], i)
			continue
		}
		seen[rcpt] = len(g.rcpts)
		g.rcpts = append(g.rcpts, rcpt)
		g.pos = append(g.pos, []int{i})
	}
	return groups
}

// Destination names where rcpt's mail goes, as Deliver groups it: its
// domain, lower-cased, whose mail exchangers are tried — or "" for every
// recipient when there is a Relay. rcpt must contain an "@".
func (t *Transport) Destination(rcpt string) string {
	if t.Relay != "" {
		return ""
	}
	return strings.ToLower(rcpt[strings.LastIndexByte(rcpt, '@')+1:])
}

// fill copies per-recipient results (aligned with g.rcpts) to every position
// of each recipient in Message.To.
func (g *group) fill(results []Result, rs []Result) {
	for i, r := range rs {
		for _, p := range g.pos[i] {
			results[p] = r
		}
	}
}

// validAddress accepts what can be written as a path in MAIL or RCPT
// (RFC 5321 §4.1.2) without quoting: local@domain, no spaces, brackets or
// control characters, at most 256 octets (§4.5.3.1.3). Non-ASCII is allowed
// here; the session asks for SMTPUTF8 (RFC 6531) when it is present.
func validAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || len(a) > 256 {
		return false
	}
	for _, c := range []byte(a) {
		if c <= ' ' || c == 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// needsUTF8 reports whether any address has non-ASCII characters.
func needsUTF8(addrs ...string) bool {
	for _, a := range addrs {
		for i := 0; i < len(a); i++ {
			if a[i] >= 0x80 {
				return true
			}
		}
	}
	return false
}
