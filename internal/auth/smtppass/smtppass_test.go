package smtppass

import (
	"strings"
	"testing"
)

// The test vectors of SES-BEHAVIOR.md §3.3, every row.
func TestVectors(t *testing.T) {
	const example = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	v4 := []struct{ secret, region, want string }{
		{example, "us-east-1", "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"},
		{example, "eu-west-1", "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk"},
		{"SesameTestSecretKey0123456789abcdefABCDEF", "us-west-2", "BHyJUbDU1xxUHwIyZX5Y38PbEBFFTkeQinpRl20heqVs"},
	}
	for _, c := range v4 {
		if got := V4(c.secret, c.region); got != c.want {
			t.Errorf("V4(%q, %q) = %q, want %q", c.secret, c.region, got, c.want)
		}
	}
	if got, want := V2(example), "An60U4ZD3sd4fg+FvXUjayOipTt8LO4rUUmhpdX6ctDy"; got != want {
		t.Errorf("V2 = %q, want %q", got, want)
	}
}

// TestShape: 44 characters, "B" for version 4 and "A" for version 2, and
// version 4 depends on the region.
func TestShape(t *testing.T) {
	for _, secret := range []string{"", "x", strings.Repeat("k", 100)} {
		p4, p2 := V4(secret, "us-east-1"), V2(secret)
		if len(p4) != 44 || p4[0] != 'B' {
			t.Errorf("V4(%q) = %q: want 44 characters starting with B", secret, p4)
		}
		if len(p2) != 44 || p2[0] != 'A' {
			t.Errorf("V2(%q) = %q: want 44 characters starting with A", secret, p2)
		}
		if V4(secret, "us-east-1") == V4(secret, "us-east-2") {
			t.Errorf("V4(%q) does not depend on the region", secret)
		}
	}
}

func TestEqual(t *testing.T) {
	p := V4("secret", "us-east-1")
	cases := []struct {
		a, b string
		want bool
	}{
		{p, p, true},
		{p, V4("secret", "us-east-1"), true},
		{p, V4("secret", "eu-west-1"), false},
		{p, V2("secret"), false},
		{p, p[:43], false},
		{p, p + "=", false},
		{"", "", true},
		{p, "", false},
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
