package stack

import "testing"

// MXAddr is Sesame's inbound MX, where remote MTAs send DSNs and feedback
// reports (SESAME_MX_ADDR).
func (s *Stack) MXAddr(t testing.TB) string {
	t.Helper()
	addr := s.App.MXAddr()
	if addr == "" {
		t.Fatal("stack: the app serves no MX listener")
	}
	return addr
}
