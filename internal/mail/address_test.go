package mail

import (
	"errors"
	"testing"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		want Address
	}{
		{"a@example.com", Address{"", "a@example.com"}},
		{"  <a@example.com>  ", Address{"", "a@example.com"}},
		{"John Doe <john@example.com>", Address{"John Doe", "john@example.com"}},
		{`"Doe, John" <john@example.com>`, Address{"Doe, John", "john@example.com"}},
		{`"Jöhn" <j@example.com>`, Address{"Jöhn", "j@example.com"}},
		{"=?UTF-8?B?SsO2aG4=?= <j@example.com>", Address{"Jöhn", "j@example.com"}},
		{"=?iso-8859-1?q?J=F6hn?= <j@example.com>", Address{"Jöhn", "j@example.com"}},
		{"=?windows-1252?q?J=F6hn?= <j@example.com>", Address{"J\uFFFDhn", "j@example.com"}},
		{"j@xn--exmple-cua.com", Address{"", "j@xn--exmple-cua.com"}},
		{`"john doe"@example.com`, Address{"", "john doe@example.com"}},
		{"a@[127.0.0.1]", Address{"", "a@[127.0.0.1]"}},
		// RFC 822 style: a trailing comment names the mailbox.
		{"a+tag@sub.example.com (Ann)", Address{"Ann", "a+tag@sub.example.com"}},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseAddress(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseAddressErrors(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"nobody", "Missing final '@domain'"},
		{"John <nobody>", "Missing final '@domain'"},
		{"", "Empty address"},
		{"@example.com", "Missing local name"},
		{"a@", "Missing domain"},
		{".a@example.com", "Local address starts with dot"},
		{"a.@example.com", "Local address ends with dot"},
		{"a..b@example.com", "Local address contains dot-dot"},
		{"a@.example.com", "Domain starts with dot"},
		{"a@example..com", "Domain contains dot-dot"},
		{"a@example.com.", "Domain ends with dot"},
		{"a@exa_mple.com", "Domain contains illegal character"},
		{"j@exämple.com", "Domain contains illegal character"},
		{"jöhn@example.com", "Local address contains illegal character"},
		{"a@b.com, c@d.com", `Illegal address: expected single address, got ", c@d.com"`},
		{"John <a@b.com", "Illegal address: unclosed angle-addr"},
	}
	for _, tt := range tests {
		_, err := ParseAddress(tt.in)
		var ae *AddressError
		if !errors.As(err, &ae) {
			t.Errorf("ParseAddress(%q) error = %v, want *AddressError", tt.in, err)
			continue
		}
		if ae.Reason != tt.reason || err.Error() != tt.reason || ae.Input != tt.in {
			t.Errorf("ParseAddress(%q) = %q (input %q), want %q", tt.in, ae.Reason, ae.Input, tt.reason)
		}
	}
}

func TestParseAddressList(t *testing.T) {
	got, err := ParseAddressList(`a@example.com, "B, Bee" <b@example.com>, team: c@example.com, d@example.com;, undisclosed-recipients:;`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Address{{"", "a@example.com"}, {"B, Bee", "b@example.com"}, {"", "c@example.com"}, {"", "d@example.com"}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got, err := ParseAddressList("  "); err != nil || got != nil {
		t.Errorf("blank list = %v, %v", got, err)
	}
	if _, err := ParseAddressList("a@example.com, nobody, c@example.com"); err == nil || err.Error() != "Missing final '@domain'" {
		t.Errorf("bad member error = %v", err)
	}
	if _, err := ParseAddressList(`"x, y" <a@exa_mple.com>, b@example.com`); err == nil || err.Error() != "Domain contains illegal character" {
		t.Errorf("bad member error = %v", err)
	}
}

func TestAddressFormatRoundTrip(t *testing.T) {
	for _, a := range []Address{
		{"", "a@example.com"},
		{"John Doe", "john@example.com"},
		{"Doe, John", "john@example.com"},
		{`Quote " and \ backslash`, "q@example.com"},
		{"Jöhn Dœ", "j@example.com"},
		{"山田 太郎, 部長", "yamada@example.jp"},
		{"=?UTF-8?Q?not_encoded?=", "x@example.com"},
		{"", "john doe@example.com"},
	} {
		s := a.String()
		if !isASCII(s) {
			t.Errorf("%+v.String() = %q is not ASCII", a, s)
		}
		got, err := ParseAddress(s)
		if err != nil || got != a {
			t.Errorf("ParseAddress(%q) = %+v, %v; want %+v", s, got, err, a)
		}
	}
	if got := (Address{"Doe, John", "j@example.com"}).Display(); got != `"Doe, John" <j@example.com>` {
		t.Errorf("Display = %q", got)
	}
	if got := (Address{"Jöhn", "j@example.com"}).Display(); got != "Jöhn <j@example.com>" {
		t.Errorf("Display = %q", got)
	}
}

func TestDomainAndNormalize(t *testing.T) {
	if got := Domain("User@Sub.Example.COM"); got != "sub.example.com" {
		t.Errorf("Domain = %q", got)
	}
	if got := Domain(`"a@b"@example.com`); got != "example.com" {
		t.Errorf("Domain of quoted local = %q", got)
	}
	if got := Domain("nodomain"); got != "" {
		t.Errorf("Domain without @ = %q", got)
	}
	if got := NormalizeAddress(" User@Example.COM "); got != "user@example.com" {
		t.Errorf("NormalizeAddress = %q", got)
	}
}
