package submit

import (
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/fault"
)

// FuzzRefusal: whatever text the domain gives — and it quotes header values
// and addresses a client sent — the reply is one line of printable ASCII
// within RFC 5321's 512 octets, with a code SES uses.
func FuzzRefusal(f *testing.F) {
	f.Add(int(fault.MessageRejected), "Email address is not verified. The following identities failed the check in region US-EAST-1: a@b.test")
	f.Add(int(fault.ConfigSetNotFound), "Configuration set <x\r\n250 Ok> does not exist.")
	f.Add(int(fault.InvalidParameter), "Missing final '@domain'")
	f.Add(int(fault.RateExceeded), "")
	f.Add(int(fault.Internal), strings.Repeat("é", 600))
	f.Fuzz(func(t *testing.T, kind int, msg string) {
		r := refusal(fault.New(fault.Kind(kind), "%s", msg))
		switch r.Code {
		case 451, 454, 554:
		default:
			t.Fatalf("code %d", r.Code)
		}
		line := "554 5.123.123 " + r.Message + "\r\n"
		if len(line) > 512 {
			t.Fatalf("reply line of %d octets", len(line))
		}
		for i := 0; i < len(r.Message); i++ {
			if c := r.Message[i]; c < ' ' || c > '~' {
				t.Fatalf("byte %#x in reply %q", c, r.Message)
			}
		}
		if replyText(r.Message) != r.Message {
			t.Fatalf("replyText not idempotent on %q", r.Message)
		}
	})
}

// FuzzLoginServer: any sequence of client responses ends the LOGIN
// exchange within three steps, without panicking, and credentials are
// checked only with what the client sent.
func FuzzLoginServer(f *testing.F) {
	f.Add(true, []byte("user"), []byte("pass"), []byte("extra"))
	f.Add(false, []byte{}, []byte("\x00"), []byte{})
	f.Fuzz(func(t *testing.T, initial bool, a, b, c []byte) {
		var gotUser, gotPass string
		calls := 0
		l := newLoginServer(func(u, p string) error {
			calls++
			gotUser, gotPass = u, p
			return nil
		})
		if initial && a == nil {
			a = []byte{} // an empty initial response, not none
		}
		inputs := [][]byte{a, b, c}
		resp := []byte(nil)
		if initial {
			resp = a
			inputs = inputs[1:]
		}
		var sent [][]byte
		if initial {
			sent = append(sent, a)
		}
		for step := 0; ; step++ {
			if step > 3 {
				t.Fatal("LOGIN exchange did not end")
			}
			_, done, err := l.Next(resp)
			if done || err != nil {
				break
			}
			if len(inputs) == 0 {
				return // the client ran out of lines: the exchange is simply unfinished
			}
			resp, inputs = inputs[0], inputs[1:]
			sent = append(sent, resp)
		}
		if calls > 1 {
			t.Fatalf("credentials checked %d times", calls)
		}
		if calls == 1 && (len(sent) < 2 || gotUser != string(sent[0]) || gotPass != string(sent[1])) {
			t.Fatalf("checked %q/%q, client sent %q", gotUser, gotPass, sent)
		}
	})
}
