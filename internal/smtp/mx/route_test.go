package mx

import "testing"

func TestIsMessageID(t *testing.T) {
	for s, want := range map[string]bool{
		msgID: true,
		"0100018ffa1b2c3d-5f0e8a4e-3c2b-4d1a-9e8f-7a6b5c4d3e2f-000001": false, // SES's suffix is fixed
		"0100018FFA1B2C3D-5f0e8a4e-3c2b-4d1a-9e8f-7a6b5c4d3e2f-000000": false, // callers lower-case first
		"0100018ffa1b2c3d-5f0e8a4e-3c2b-4d1a-9e8f-7a6b5c4d3e2-000000":  false,
		"0100018ffa1b2c3d_5f0e8a4e-3c2b-4d1a-9e8f-7a6b5c4d3e2f-000000": false,
		"0100018ffa1b2c3g-5f0e8a4e-3c2b-4d1a-9e8f-7a6b5c4d3e2f-000000": false,
		"complaints": false,
		"":           false,
	} {
		if got := isMessageID(s); got != want {
			t.Errorf("isMessageID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSplitAddress(t *testing.T) {
	for _, c := range []struct{ in, local, domain string }{
		{"a@b.example", "a", "b.example"},
		{`"a@b"@c.example`, `"a@b"`, "c.example"},
		{"a@b.example.", "a", "b.example"}, // a trailing root dot is the same domain
	} {
		l, d, ok := splitAddress(c.in)
		if !ok || l != c.local || d != c.domain {
			t.Errorf("splitAddress(%q) = %q, %q, %v", c.in, l, d, ok)
		}
	}
	for _, in := range []string{"", "nobody", "@b.example", "a@"} {
		if _, _, ok := splitAddress(in); ok {
			t.Errorf("splitAddress(%q) ok", in)
		}
	}
}
