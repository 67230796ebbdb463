package simulator

import (
	"strings"
	"testing"
)

func TestOutcome(t *testing.T) {
	cases := []struct {
		addr string
		want Kind
	}{
		{"success@simulator.amazonses.com", Success},
		{"bounce@simulator.amazonses.com", Bounce},
		{"ooto@simulator.amazonses.com", OutOfOffice},
		{"complaint@simulator.amazonses.com", Complaint},
		{"suppressionlist@simulator.amazonses.com", SuppressionList},
		// Labels (VERP testing) behave like the bare address.
		{"bounce+run-42@simulator.amazonses.com", Bounce},
		{"complaint+a+b@simulator.amazonses.com", Complaint},
		{"success+x@simulator.amazonses.com", Success},
		{"suppressionlist+@simulator.amazonses.com", SuppressionList},
		// Case-insensitive throughout.
		{"BOUNCE@Simulator.AmazonSES.com", Bounce},
		{"Ooto+Label@SIMULATOR.AMAZONSES.COM", OutOfOffice},
		// Unlisted local parts are accepted as success.
		{"nobody@simulator.amazonses.com", Success},
		{"bounces@simulator.amazonses.com", Success},
		{"+bounce@simulator.amazonses.com", Success},
		// Not the simulator.
		{"bounce@amazonses.com", None},
		{"bounce@simulator.amazonses.com.example", None},
		{"bounce@xsimulator.amazonses.com", None},
		{"bounce@simulator.amazonses.com.", None},
		{"simulator.amazonses.com", None},
		{"", None},
		{"bounce@example.com", None},
	}
	for _, c := range cases {
		if got := Outcome(c.addr); got != c.want {
			t.Errorf("Outcome(%q) = %v, want %v", c.addr, got, c.want)
		}
		if Is(c.addr) != (c.want != None) {
			t.Errorf("Is(%q) = %v", c.addr, Is(c.addr))
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{None: "none", Success: "success", Bounce: "bounce", OutOfOffice: "ooto",
		Complaint: "complaint", SuppressionList: "suppressionlist", Kind(99): "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

func FuzzOutcome(f *testing.F) {
	for _, s := range []string{"bounce+x@simulator.amazonses.com", "a@b", "@", "+@simulator.amazonses.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		k := Outcome(addr)
		if k > SuppressionList {
			t.Fatalf("Outcome(%q) = %d", addr, k)
		}
		i := strings.LastIndexByte(addr, '@')
		if want := i >= 0 && strings.EqualFold(addr[i+1:], Domain); (k != None) != want {
			t.Fatalf("Outcome(%q) = %v", addr, k)
		}
	})
}
