package mail

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzPrepareRaw checks PrepareRaw never panics, refuses only with its typed
// errors, and that what it accepts is wire-safe and stable: preparing Data
// again gives the same Data.
func FuzzPrepareRaw(f *testing.F) {
	for _, s := range buildCases() {
		if msg, err := (Builder{Boundary: seqBoundary()}).Build(s); err == nil {
			f.Add(msg)
		}
	}
	f.Add([]byte("From: a@example.com\nBcc: b@example.com\nX-SES-MESSAGE-TAGS: a=b\n\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Disposition: attachment; filename*0*=utf-8''a; filename*1=.exe\n\nx\n--c--\n--b--\n"))
	f.Add([]byte("Subject: a\r\n\tb\r\nTo: undisclosed-recipients:;\r\n"))
	f.Add([]byte("\r\n\r\nbody only"))
	opts := RawOptions{MessageID: testMsgID, Date: acceptTime}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := PrepareRaw(raw, opts)
		if err != nil {
			var ce *ContentError
			var ae *AddressError
			if !errors.As(err, &ce) && !errors.As(err, &ae) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if !bytes.Equal(normalizeCRLF(p.Data), p.Data) {
			t.Fatalf("Data has bare CR or LF: %q", p.Data)
		}
		h, err := ParseHeader(p.Data)
		if err != nil {
			t.Fatalf("Data header does not parse: %v", err)
		}
		ids := 0
		for _, f := range h {
			if strippedHeader(f.Name) {
				t.Fatalf("%s left in Data", f.Name)
			}
			if strings.EqualFold(f.Name, "Message-ID") {
				ids++
				if f.Value != testMsgID {
					t.Fatalf("Message-ID = %q", f.Value)
				}
			}
		}
		if ids != 1 {
			t.Fatalf("%d Message-ID headers", ids)
		}
		again, err := PrepareRaw(p.Data, opts)
		if err != nil {
			t.Fatalf("Data refused on second pass: %v", err)
		}
		if !bytes.Equal(again.Data, p.Data) {
			t.Fatalf("second pass changed Data:\n%q\n%q", p.Data, again.Data)
		}
		_ = p.CommonHeaders()
	})
}

// FuzzParseAddress checks ParseAddress never panics, refuses only with
// *AddressError, accepts only ASCII addr-specs, and that an accepted address
// formats to a string it parses back to.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"a@example.com", `"Jöhn" <j@example.com>`, "=?UTF-8?B?SsO2aG4=?= <j@example.com>",
		"nobody", `"a b"@example.com`, "a@[127.0.0.1]", "x (comment) <y@z.com>", "undisclosed:;",
		"=?utf-8?q?a,b?= <c@d.e>", `"\"" <a@b.c>`,
		"first.last+tag@sub.example-domain.com", "=?x?q?y?=@example.com", "a.b@c", "{x}/=?@1-2.3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if _, lerr := ParseAddressList(s); lerr != nil {
			var ae *AddressError
			if !errors.As(lerr, &ae) {
				t.Fatalf("list: untyped error %T", lerr)
			}
		}
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if !isASCII(a.Addr) {
			t.Fatalf("non-ASCII address accepted: %q", a.Addr)
		}
		if trimmed := strings.TrimSpace(s); isPlainAddrSpec(trimmed) {
			if full, err := parseAddress(s, trimmed); err != nil || full != a {
				t.Fatalf("%q: the plain addr-spec path gives %+v, the parser %+v, %v", s, a, full, err)
			}
			if list, err := parseAddressList(s, trimmed); err != nil || len(list) != 1 || list[0] != a {
				t.Fatalf("%q: the plain addr-spec path gives %+v, the list parser %+v, %v", s, a, list, err)
			}
		}
		_ = a.Display()
		formatted := a.String()
		b, err := ParseAddress(formatted)
		if err != nil {
			t.Fatalf("%q formatted as %q, which does not parse: %v", s, formatted, err)
		}
		if b.Addr != a.Addr {
			t.Fatalf("%q: address %q became %q via %q", s, a.Addr, b.Addr, formatted)
		}
	})
}
