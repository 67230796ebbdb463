package sigv4

import (
	"net/http"
	"strings"
	"testing"
)

// TestErrorWireMapping is SES-BEHAVIOR.md §2.3's table: v1 code and v2 type,
// with their statuses, for every Kind.
func TestErrorWireMapping(t *testing.T) {
	cases := []struct {
		kind        Kind
		code        string
		codeStatus  int
		typ         string
		typStatus   int
		stringified string
	}{
		{MissingAuthenticationToken, "MissingAuthenticationToken", http.StatusForbidden, "MissingAuthenticationTokenException", http.StatusForbidden, "MissingAuthenticationToken"},
		{IncompleteSignature, "IncompleteSignature", http.StatusBadRequest, "IncompleteSignatureException", http.StatusBadRequest, "IncompleteSignature"},
		{InvalidClientTokenID, "InvalidClientTokenId", http.StatusForbidden, "UnrecognizedClientException", http.StatusForbidden, "InvalidClientTokenId"},
		{SignatureDoesNotMatch, "SignatureDoesNotMatch", http.StatusForbidden, "InvalidSignatureException", http.StatusForbidden, "SignatureDoesNotMatch"},
		{SignatureExpired, "SignatureDoesNotMatch", http.StatusForbidden, "InvalidSignatureException", http.StatusForbidden, "SignatureExpired"},
		{SignatureNotYetCurrent, "SignatureDoesNotMatch", http.StatusForbidden, "InvalidSignatureException", http.StatusForbidden, "SignatureNotYetCurrent"},
	}
	for _, c := range cases {
		e := &Error{Kind: c.kind, Message: "m"}
		if code, status := e.QueryCode(); code != c.code || status != c.codeStatus {
			t.Errorf("%v QueryCode = %s %d, want %s %d", c.kind, code, status, c.code, c.codeStatus)
		}
		if typ, status := e.RESTType(); typ != c.typ || status != c.typStatus {
			t.Errorf("%v RESTType = %s %d, want %s %d", c.kind, typ, status, c.typ, c.typStatus)
		}
		if got := c.kind.String(); got != c.stringified {
			t.Errorf("String() = %q, want %q", got, c.stringified)
		}
		if got, want := e.Error(), "sigv4: "+c.stringified+": m"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	}
	if got := Kind(0).String(); got != "Kind(0)" {
		t.Errorf("Kind(0).String() = %q", got)
	}
}

// TestEchoBounded: values quoted back to the client are bounded and valid
// UTF-8.
func TestEchoBounded(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	got := echo(long)
	if len(got) > maxEcho+len("...") || !strings.HasSuffix(got, "...") {
		t.Fatalf("echo of %d bytes gave %d bytes: %q", len(long), len(got), got)
	}
	if got := echo("a\xffb"); got != "a\uFFFDb" {
		t.Fatalf("echo(invalid UTF-8) = %q", got)
	}
	if got := echo("short"); got != "short" {
		t.Fatalf("echo(short) = %q", got)
	}
}
