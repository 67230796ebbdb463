package transport

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// With PIPELINING, MAIL, the RCPTs and DATA reach the server in one read,
// and each recipient still gets its own reply.
func TestPipelinedTransaction(t *testing.T) {
	sink := newRecSink(t, withRefused("gone@example.test"))
	tr, _, _ := mxTransport(t, sink.addr())
	to := []string{"ok1@example.test", "gone@example.test", "ok2@example.test"}
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: to, Data: body})
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, Text: sent})
	checkResult(t, rs[1], Result{Outcome: Permanent, Code: 550, Enhanced: "5.1.1", Text: "550 5.1.1 no such user"})
	checkResult(t, rs[2], Result{Outcome: Delivered, Code: 250, Text: sent})
	if m := sink.messages(); len(m) != 1 || !slices.Equal(m[0].to, []string{"ok1@example.test", "ok2@example.test"}) {
		t.Errorf("server got %+v", m)
	}
	i := slices.IndexFunc(sink.reads(0), func(chunk string) bool { return strings.Contains(chunk, "MAIL FROM:") })
	if i < 0 {
		t.Fatal("no MAIL read")
	}
	chunk := sink.reads(0)[i]
	if strings.Count(chunk, "RCPT TO:") != 3 || !strings.HasSuffix(chunk, "DATA\r\n") {
		t.Errorf("first read with MAIL: %q; want MAIL, 3 RCPT and DATA together", chunk)
	}
}

// Without PIPELINING each command waits for the reply to the one before
// (RFC 2920 §3: a client pipelines only when the server says it may), with
// the same replies per recipient.
func TestNoPipeliningUnlessOffered(t *testing.T) {
	srv := newRawServer(t, rawOptions{refuse: []string{"gone@example.test"}})
	tr, _, _ := mxTransport(t, srv.addr())
	to := []string{"ok1@example.test", "gone@example.test", "ok2@example.test"}
	m := Message{From: "s@sesame.test", To: to, Data: body}
	for range 2 {
		rs := deliver(t, tr, m)
		checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, Text: "250 2.0.0 raw queued"})
		checkResult(t, rs[1], Result{Outcome: Permanent, Code: 550, Enhanced: "5.1.1", Text: "550 5.1.1 no such user here"})
		checkResult(t, rs[2], Result{Outcome: Delivered, Code: 250})
	}
	lines, uninvited, conns := srv.got()
	if len(uninvited) != 0 {
		t.Errorf("commands sent before the previous reply: %q", uninvited)
	}
	if conns != 1 {
		t.Errorf("%d connections, want 1", conns)
	}
	if !slices.Contains(lines, "MAIL FROM:<s@sesame.test> SIZE=106") {
		t.Errorf("commands %q: want MAIL with SIZE", lines)
	}
}

// RFC 2920 §3.1: with every RCPT refused, a server may still answer the
// pipelined DATA with 354; the client then sends a lone "." and resets.
func TestPipelinedDATAAcceptedWithoutRecipients(t *testing.T) {
	srv := newRawServer(t, rawOptions{pipelining: true, always354: true, refuse: []string{"gone@example.test", "lost@example.test"}})
	tr, _, _ := mxTransport(t, srv.addr())
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: []string{"gone@example.test", "lost@example.test"}, Data: body})
	for _, r := range rs {
		checkResult(t, r, Result{Outcome: Permanent, Code: 550, Enhanced: "5.1.1"})
	}
	rs = deliver(t, tr, Message{From: "s@sesame.test", To: []string{"ok@example.test"}, Data: body})
	checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250, Text: "250 2.0.0 raw queued"})
	lines, _, conns := srv.got()
	got := strings.Join(lines, "|")
	want := "RCPT TO:<lost@example.test>|DATA|body:|RSET|MAIL FROM:<s@sesame.test> SIZE=106|RCPT TO:<ok@example.test>|DATA|body:"
	if !strings.Contains(got, want) || conns != 1 {
		t.Errorf("%d connections, commands %q; want %q on one", conns, got, want)
	}
}

// Past maxPipelined commands, a transaction goes in several groups, each
// written once its predecessor's replies are read (RFC 2920 §3.2), with
// replies still matched to their recipients.
func TestPipelinedInGroups(t *testing.T) {
	const n = 2*maxPipelined + 10
	var to, refused, want []string
	for i := range n {
		rcpt := fmt.Sprintf("r%d@example.test", i)
		to = append(to, rcpt)
		if i%37 == 5 {
			refused = append(refused, rcpt)
		} else {
			want = append(want, rcpt)
		}
	}
	sink := newRecSink(t, withRefused(refused...))
	tr, _, _ := mxTransport(t, sink.addr())
	rs := deliver(t, tr, Message{From: "s@sesame.test", To: to, Data: body})
	for i, r := range rs {
		if slices.Contains(refused, r.Rcpt) {
			checkResult(t, r, Result{Outcome: Permanent, Code: 550, Enhanced: "5.1.1"})
		} else {
			checkResult(t, r, Result{Outcome: Delivered, Code: 250, Text: sent})
		}
		if r.Rcpt != to[i] {
			t.Fatalf("result %d is for %s", i, r.Rcpt)
		}
	}
	if m := sink.messages(); len(m) != 1 || !slices.Equal(m[0].to, want) {
		t.Errorf("server got %d messages, recipients %v", len(m), m)
	}
}

// A 421 among the RCPTs ends the session (RFC 5321 §3.8): the recipients
// accepted before it and those not yet answered all get it; one refused
// before keeps its refusal. Pipelined or not, the replies are the same.
func TestSessionEndsAmongRecipients(t *testing.T) {
	for _, pipelining := range []bool{false, true} {
		t.Run(fmt.Sprintf("PIPELINING=%v", pipelining), func(t *testing.T) {
			srv := newRawServer(t, rawOptions{pipelining: pipelining, refuse: []string{"gone@example.test"}, hangUpAt: "bye@example.test"})
			tr, _, _ := mxTransport(t, srv.addr())
			to := []string{"gone@example.test", "ok1@example.test", "bye@example.test", "ok2@example.test"}
			rs := deliver(t, tr, Message{From: "s@sesame.test", To: to, Data: body})
			checkResult(t, rs[0], Result{Outcome: Permanent, Code: 550, Enhanced: "5.1.1"})
			for _, r := range rs[1:] {
				checkResult(t, r, Result{Outcome: Transient, Code: 421, Enhanced: "4.3.2", Text: "421 4.3.2 shutting down"})
			}
			// The session is not kept: the next message has a new one.
			rs = deliver(t, tr, Message{From: "s@sesame.test", To: []string{"ok1@example.test"}, Data: body})
			checkResult(t, rs[0], Result{Outcome: Delivered, Code: 250})
			if _, _, conns := srv.got(); conns != 2 {
				t.Errorf("%d connections, want 2", conns)
			}
		})
	}
}
