package transport

import (
	"context"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// maxPipelined bounds the commands written ahead of their replies. RFC 2920
// §3.2 warns that a client writing a long group without reading can
// deadlock with a server blocked writing the replies; the replies to this
// many commands fit in any socket buffer.
const maxPipelined = 100

// send runs one mail transaction (RFC 5321 §3.3) and returns one reply per
// recipient, aligned with rcpts.
//
// When the server offers PIPELINING (RFC 2920), MAIL, every RCPT and DATA go
// in one write and their replies are read in order, so a transaction costs
// one round trip before the message instead of one per command; otherwise
// each command waits for its reply. Either way the outcome per recipient is
// the same: MAIL's refusal is everyone's, a RCPT's refusal is its
// recipient's, DATA's refusal and the reply to the final "." are those of
// the accepted recipients, and a lost connection or a 421 ends the session
// for everyone not yet answered.
//
// stale reports that the very first command got no reply or a 421: on a
// session taken from the cache, the server closed it while it was idle, and
// nothing of this message reached it.
func (s *session) send(ctx context.Context, m Message, rcpts []string) (out []reply, stale bool) {
	out = make([]reply, len(rcpts))
	utf8 := needsUTF8(append([]string{m.From}, rcpts...)...)
	if utf8 && !s.offers("SMTPUTF8") {
		// RFC 6531 §3.2: without SMTPUTF8 the addresses cannot be sent.
		fill(out, local(Permanent, "5.6.7", "%s does not support SMTPUTF8, needed for a non-ASCII address", s.peer.host))
		return out, false
	}
	tx := &transaction{s: s, out: out}
	tx.cmds = append(tx.cmds, s.mailCommand(m.From, len(m.Data), utf8))
	for _, rcpt := range rcpts {
		tx.cmds = append(tx.cmds, "RCPT TO:<"+rcpt+">")
	}
	tx.cmds = append(tx.cmds, "DATA")
	s.used++
	s.dirty = true

	body, stale := tx.commands(ctx)
	if !body {
		return out, stale
	}
	if err := s.writeBody(m.Data); err != nil {
		tx.toAccepted(s.lost(ctx, "DATA", err, "4.4.2"))
		return out, false
	}
	code, msg, err := s.read(s.to.DataEnd)
	if err != nil {
		// A connection lost here may have delivered the message anyway
		// (RFC 1047); retrying risks a duplicate, not a loss.
		tx.toAccepted(s.lost(ctx, "end of DATA", err, "4.4.2"))
		return out, false
	}
	tx.toAccepted(s.answer(code, msg))
	s.dirty = false // RFC 5321 §4.1.1.4: the reply to "." ends the transaction
	return out, false
}

// transaction is the command phase of one mail transaction.
type transaction struct {
	s        *session
	cmds     []string // MAIL, then RCPT for recipient i at i+1, then DATA
	out      []reply  // per recipient
	accepted []int    // indexes in out of the recipients the server took
	live     bool     // MAIL was accepted: the replies after it count
}

// commands sends MAIL, the RCPTs and DATA, in groups of up to maxPipelined
// when the server pipelines, else one by one, and applies each reply as it
// is read. body reports that DATA was accepted with someone to send the
// message to; stale is send's.
func (tx *transaction) commands(ctx context.Context) (body, stale bool) {
	s := tx.s
	group := 1
	if s.offers("PIPELINING") {
		group = maxPipelined
	}
	dataAt := len(tx.cmds) - 1
	more := true // the commands not yet sent are worth sending
	sent := 0
	for i := range tx.cmds {
		if i == sent {
			if !more {
				return false, false
			}
			n := min(len(tx.cmds), sent+group)
			if err := s.write(tx.timeout(i), tx.cmds[sent:n]...); err != nil {
				tx.end(i, s.lost(ctx, tx.stage(i), err, "4.4.2"))
				return false, i == 0 && ctx.Err() == nil
			}
			sent = n
		}
		code, msg, err := s.read(tx.timeout(i))
		if err != nil {
			tx.end(i, s.lost(ctx, tx.stage(i), err, "4.4.2"))
			return false, i == 0 && ctx.Err() == nil
		}
		r := s.answer(code, msg)
		switch {
		case s.broken: // 421
			tx.end(i, r)
			return false, i == 0
		case i == 0 && code/100 == 2:
			tx.live = true
		case i == 0:
			// The transaction never started. With PIPELINING the server
			// answers the RCPTs and DATA already sent with 503s, which
			// are read and ignored (RFC 2920 §3.1).
			fill(tx.out, r)
			more = false
		case i == dataAt && code == 354:
			if tx.live && len(tx.accepted) > 0 {
				return true, false
			}
			s.abortData(ctx)
			return false, false
		case i == dataAt:
			// DATA refused; RFC 2920 §3.1: the expected answer too when
			// no RCPT was accepted. A 2xx is out of place and delivered
			// nothing.
			if r.outcome == Delivered {
				r.outcome = Transient
			}
			tx.toAccepted(r)
			return false, false
		case !tx.live:
		case code/100 == 2:
			tx.accepted = append(tx.accepted, i-1)
		default:
			tx.out[i-1] = r
		}
		if i == dataAt-1 && len(tx.accepted) == 0 {
			more = false // no one to send the message to: no DATA
		}
	}
	return false, false // not reached: DATA's reply returns
}

// timeout is the stage timeout of command i's reply (RFC 5321 §4.5.3.2).
func (tx *transaction) timeout(i int) time.Duration {
	switch i {
	case 0:
		return tx.s.to.Mail
	case len(tx.cmds) - 1:
		return tx.s.to.DataInit
	}
	return tx.s.to.Rcpt
}

// stage names command i in a failure's text.
func (tx *transaction) stage(i int) string {
	switch i {
	case 0:
		return "MAIL"
	case len(tx.cmds) - 1:
		return "DATA"
	}
	return "RCPT"
}

// end applies r, which ends the session at command i (a lost connection or
// a 421), to every recipient not yet refused: all of them at MAIL, the
// accepted ones and those from i on at a RCPT, the accepted ones at DATA.
// Once MAIL was refused, its reply stands.
func (tx *transaction) end(i int, r reply) {
	switch {
	case i == 0:
		fill(tx.out, r)
	case !tx.live:
	case i == len(tx.cmds)-1:
		tx.toAccepted(r)
	default:
		tx.toAccepted(r)
		fill(tx.out[i-1:], r)
	}
}

// toAccepted makes r the reply of every accepted recipient.
func (tx *transaction) toAccepted(r reply) {
	for _, j := range tx.accepted {
		tx.out[j] = r
	}
}

// mailCommand is MAIL FROM with the parameters the server offers: BODY
// (RFC 6152 §2, as go-smtp's client always declared it), SIZE (RFC 1870
// §6, so a server can refuse a message too large before it is sent) and
// SMTPUTF8 (RFC 6531 §3.4) when an address needs it.
func (s *session) mailCommand(from string, size int, utf8 bool) string {
	var b strings.Builder
	b.WriteString("MAIL FROM:<" + from + ">")
	if s.offers("8BITMIME") {
		b.WriteString(" BODY=8BITMIME")
	}
	if s.offers("SIZE") {
		b.WriteString(" SIZE=" + strconv.Itoa(size))
	}
	if utf8 {
		b.WriteString(" SMTPUTF8")
	}
	return b.String()
}

// abortData ends a DATA the server accepted when there is nothing to send:
// with PIPELINING the server may take DATA even though it refused every
// RCPT, and RFC 2920 §3.1 has the client send a lone "." then. The
// transaction stays dirty, so it is reset before the session is reused.
func (s *session) abortData(ctx context.Context) {
	code, _, err := s.cmd(".", s.to.DataEnd)
	if err != nil {
		s.lost(ctx, "end of DATA", err, "4.4.2")
		return
	}
	s.answer(code, "")
}

// writeBody writes data dot-stuffed (RFC 5321 §4.5.2), then the final ".",
// in blocks each under its own write deadline: RFC 5321 §4.5.3.2.5 bounds
// each send, not the whole message, so a large message on a slow link is not
// cut off while it makes progress. net/textproto's DotWriter is what
// go-smtp's client used: lines arrive byte for byte, a bare LF goes out as
// CRLF and a missing final CRLF is added, as Message.Data documents.
func (s *session) writeBody(data []byte) error {
	const block = 64 << 10
	w := textproto.NewWriter(s.bw).DotWriter()
	for len(data) > 0 {
		n := min(block, len(data))
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.to.DataBlock))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.to.DataBlock))
	return w.Close() // the final buffered bytes and "."
}

// reset ends a transaction that did not reach the reply to the final "."
// (RFC 5321 §4.1.1.5), so that the session can carry the next one. It
// reports whether the session is still usable.
func (s *session) reset() bool {
	code, _, err := s.cmd("RSET", s.to.Rset)
	if err != nil || code != 250 {
		s.broken = s.broken || err != nil || code == 421
		return false
	}
	s.dirty = false
	return true
}

func fill(out []reply, r reply) {
	for i := range out {
		out[i] = r
	}
}
