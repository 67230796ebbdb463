package submit

import (
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"

	"github.com/sesamehq/sesame/internal/fault"
)

func TestReplyText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Message is too long.", "Message is too long."},
		{"a\r\n250 Ok forged", "a 250 Ok forged"},
		{"  leading\t\ttabs  and trailing  ", "leading tabs and trailing"},
		{"bell\a and nul\x00", "bell? and nul?"},
		{"Grüße", "Gr??e"},
		{"\xff\xfe", "??"},
		{"", ""},
	}
	for _, c := range cases {
		if got := replyText(c.in); got != c.want {
			t.Errorf("replyText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := strings.Repeat("x@example.net, ", 100)
	got := replyText(long)
	if len(got) != maxReplyText || !strings.HasSuffix(got, "...") || !strings.HasPrefix(long, strings.TrimSuffix(got, "...")) {
		t.Errorf("long text: %d octets %q", len(got), got)
	}
	if exact := strings.Repeat("y", maxReplyText); replyText(exact) != exact {
		t.Error("a text of exactly the limit was cut")
	}
}

// Every kind the domain can return has a reply, and only Internal is
// temporary apart from the throttles.
func TestRefusalKinds(t *testing.T) {
	for k := fault.Internal; k <= fault.InvalidTemplateContent; k++ {
		r := refusal(fault.New(k, "text"))
		switch k {
		case fault.Internal:
			if r != errTemporary {
				t.Errorf("kind %d: %+v", k, r)
			}
		case fault.RateExceeded, fault.DailyQuotaExceeded:
			if r.Code != 454 {
				t.Errorf("kind %d: %+v", k, r)
			}
		default:
			if r.Code != 554 || !strings.HasSuffix(r.Message, ": text") {
				t.Errorf("kind %d: %+v", k, r)
			}
		}
	}
	if r := refusal(errors.New("plain")); r != errTemporary {
		t.Errorf("plain error: %+v", r)
	}
}

func TestLoginServer(t *testing.T) {
	type call struct{ user, pass string }
	run := func(ir []byte, responses ...string) (challenges []string, calls []call, err error) {
		l := newLoginServer(func(u, p string) error {
			calls = append(calls, call{u, p})
			if p != "right" {
				return errBadLogin
			}
			return nil
		})
		resp := ir
		for i := 0; ; i++ {
			ch, done, err := l.Next(resp)
			if done || err != nil {
				return challenges, calls, err
			}
			challenges = append(challenges, string(ch))
			if i >= len(responses) {
				return challenges, calls, errors.New("out of responses")
			}
			resp = []byte(responses[i])
		}
	}
	ch, calls, err := run(nil, "AKIDUSER", "right")
	if err != nil || strings.Join(ch, "|") != "Username:|Password:" || len(calls) != 1 || calls[0] != (call{"AKIDUSER", "right"}) {
		t.Errorf("plain exchange: %q %v %v", ch, calls, err)
	}
	ch, calls, err = run([]byte("AKIDUSER"), "right")
	if err != nil || strings.Join(ch, "|") != "Password:" || len(calls) != 1 || calls[0].user != "AKIDUSER" {
		t.Errorf("user as initial response: %q %v %v", ch, calls, err)
	}
	if _, _, err = run(nil, "u", "wrong"); err != errBadLogin {
		t.Errorf("wrong password: %v", err)
	}
	l := newLoginServer(func(string, string) error { return nil })
	l.Next([]byte("u"))
	l.Next([]byte("p"))
	if _, done, err := l.Next([]byte("more")); !done || err != sasl.ErrUnexpectedClientResponse {
		t.Errorf("a response after the end: done %v, %v", done, err)
	}
}
