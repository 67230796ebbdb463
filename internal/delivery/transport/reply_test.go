package transport

import (
	"bufio"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestServerReply(t *testing.T) {
	cases := []struct {
		code          int
		msg           string
		outcome       Outcome
		enhanced, txt string
	}{
		{250, "2.0.0 Ok: queued as 4F2x", Delivered, "2.0.0", "250 2.0.0 Ok: queued as 4F2x"},
		{250, "Ok", Delivered, "", "250 Ok"},
		{250, "", Delivered, "", "250"},
		// RFC 2034: the code on every line is said once.
		{550, "5.1.1 The email account does not exist.\n5.1.1 Try double-checking.", Permanent, "5.1.1",
			"550 5.1.1 The email account does not exist. Try double-checking."},
		// A class that disagrees with the reply code is text, not a code.
		{250, "5.1.1 odd", Delivered, "", "250 5.1.1 odd"},
		{451, "4.7.1000 too long", Transient, "", "451 4.7.1000 too long"},
		{421, "4.x.0 bad", Transient, "", "421 4.x.0 bad"},
		{554, "5.7.1", Permanent, "5.7.1", "554 5.7.1"},
		{354, "go ahead", Transient, "", "354 go ahead"}, // a reply out of place is worth a retry
	}
	for _, c := range cases {
		r := serverReply(c.code, c.msg)
		if r.outcome != c.outcome || r.code != c.code || r.enhanced != c.enhanced || r.text != c.txt {
			t.Errorf("serverReply(%d, %q) = %v %d %q %q, want %v %q %q", c.code, c.msg,
				r.outcome, r.code, r.enhanced, r.text, c.outcome, c.enhanced, c.txt)
		}
	}
}

func FuzzServerReply(f *testing.F) {
	f.Add(250, "2.0.0 Ok")
	f.Add(550, "5.1.1 a\n5.1.1 b")
	f.Add(421, "4..1 x")
	f.Add(0, "")
	f.Fuzz(func(t *testing.T, code int, msg string) {
		r := serverReply(code, msg)
		if !strings.HasPrefix(r.text, strconv.Itoa(code)) {
			t.Errorf("text %q does not start with the code %d", r.text, code)
		}
		if strings.Contains(r.text, "\n") {
			t.Errorf("text %q has a line break", r.text)
		}
		if r.enhanced != "" && !strings.HasPrefix(r.enhanced, strconv.Itoa(code/100)+".") {
			t.Errorf("enhanced %q is not of class %d", r.enhanced, code/100)
		}
		if r.outcome < Delivered || r.outcome > Permanent {
			t.Errorf("outcome %v", r.outcome)
		}
	})
}

func TestOrderMX(t *testing.T) {
	mxs := []*net.MX{
		{Host: "c.test.", Pref: 20},
		{Host: "A.test.", Pref: 10},
		{Host: ".", Pref: 0}, // a null MX among real ones is skipped (RFC 7505 §3)
		{Host: "b.test.", Pref: 10},
		{Host: "a.test", Pref: 30}, // the same host again, at a worse preference
		nil,
	}
	var runs []int
	reverse := func(n int, swap func(i, j int)) {
		runs = append(runs, n)
		for i := 0; i < n/2; i++ {
			swap(i, n-1-i)
		}
	}
	tr := &Transport{shuffle: reverse}
	if got, want := tr.orderMX(mxs), []string{"b.test", "a.test", "c.test"}; !slices.Equal(got, want) {
		t.Errorf("orderMX = %v, want %v", got, want)
	}
	if want := []int{2, 1, 1}; !slices.Equal(runs, want) {
		t.Errorf("shuffled runs of lengths %v, want %v (only equal preferences together)", runs, want)
	}

	// The default shuffle keeps preference order and, over enough tries,
	// puts each of two equal hosts first.
	tr = &Transport{}
	first := map[string]bool{}
	for range 200 {
		got := tr.orderMX(mxs)
		if got[2] != "c.test" {
			t.Fatalf("orderMX = %v: preference order broken", got)
		}
		first[got[0]] = true
	}
	if !first["a.test"] || !first["b.test"] {
		t.Errorf("equal-preference hosts never shuffled: first = %v", first)
	}
}

func TestValidAddress(t *testing.T) {
	for _, a := range []string{"a@b.test", "first.last+tag@sub.b.test", "jörg@b.test", `x"y@b.test`} {
		if !validAddress(a) {
			t.Errorf("validAddress(%q) = false", a)
		}
	}
	for _, a := range []string{"", "a", "@b.test", "a@", "a b@c.test", "a@b.test\r\nRSET", "<a@b.test>", "a@b\x00.test", strings.Repeat("a", 250) + "@b.test"} {
		if validAddress(a) {
			t.Errorf("validAddress(%q) = true", a)
		}
	}
}

func TestReadReply(t *testing.T) {
	cases := []struct {
		in   string
		code int
		msg  string
		bad  bool
	}{
		{in: "220 mx.test ESMTP\r\n", code: 220, msg: "mx.test ESMTP"},
		{in: "220-mx.test hello\r\n220-more\r\n220 last\r\nEXTRA", code: 220, msg: "mx.test hello\nmore\nlast"},
		{in: "554\r\n", code: 554, msg: ""},
		{in: "421 4.3.2 bye\n", code: 421, msg: "4.3.2 bye"}, // a bare LF is tolerated
		{in: "220-a\r\n221 b\r\n", bad: true},                // codes must agree
		{in: "22 short\r\n", bad: true},
		{in: "abc x\r\n", bad: true},
		{in: "099 x\r\n", bad: true},
		{in: "220x\r\n", bad: true},
		{in: "220-unterminated", bad: true},
		{in: "220 " + strings.Repeat("x", 5000) + "\r\n", bad: true}, // longer than the buffer
		{in: strings.Repeat("220-x\r\n", maxReplyLines+1) + "220 x\r\n", bad: true},
	}
	for _, c := range cases {
		code, msg, err := readReply(bufio.NewReaderSize(strings.NewReader(c.in), 4096))
		if c.bad {
			if err == nil {
				t.Errorf("readReply(%.40q) = %d %q, want an error", c.in, code, msg)
			}
			continue
		}
		if err != nil || code != c.code || msg != c.msg {
			t.Errorf("readReply(%.40q) = %d %q %v, want %d %q", c.in, code, msg, err, c.code, c.msg)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	f.Add("220 ok\r\n")
	f.Add("250-a\r\n250 b\r\n")
	f.Add("5")
	f.Fuzz(func(t *testing.T, in string) {
		br := bufio.NewReaderSize(strings.NewReader(in), 64)
		code, msg, err := readReply(br)
		if err != nil {
			return
		}
		if code < 100 || code > 599 {
			t.Errorf("code %d accepted", code)
		}
		if strings.Count(msg, "\n") >= maxReplyLines {
			t.Errorf("%d lines accepted", strings.Count(msg, "\n")+1)
		}
	})
}
