package delivery

import (
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/delivery/transport"
)

func TestLaneLimit(t *testing.T) {
	cfg := Config{PerDestination: 20}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		l    lane
		want int
	}{
		{"new: slow start", lane{}, 5},
		{"answered", lane{reached: true}, 20},
		{"failing: probe", lane{failures: 2}, 1},
		{"suspended", lane{failures: 3, suspendedUntil: now.Add(time.Minute)}, 0},
		{"suspension over: probe", lane{failures: 3, suspendedUntil: now.Add(-time.Second)}, 1},
	} {
		if got := c.l.limit(cfg, now); got != c.want {
			t.Errorf("%s: limit %d, want %d", c.name, got, c.want)
		}
	}
	if got := (&lane{}).limit(Config{PerDestination: 2}, now); got != 2 {
		t.Errorf("slow start above the cap: %d", got)
	}
}

func TestSweepForgetsOldFailures(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	w := New(Config{RetryMax: time.Hour}, nil, nil, nil, &transport.Transport{}, func() time.Time { return now }, nil)
	w.lanes = map[string]*lane{
		"old.example":     {key: "old.example", failures: 5, suspendedUntil: now.Add(-2 * time.Hour)},
		"recent.example":  {key: "recent.example", failures: 5, suspendedUntil: now.Add(-time.Minute)},
		"busy.example":    {key: "busy.example", failures: 5, busy: 1},
		"waiting.example": {key: "waiting.example", failures: 1, waiting: []*part{{}}},
	}
	w.sweepLocked(now)
	for key, kept := range map[string]bool{"old.example": false, "recent.example": true, "busy.example": true, "waiting.example": true} {
		if _, ok := w.lanes[key]; ok != kept {
			t.Errorf("%s kept = %v, want %v", key, ok, kept)
		}
	}
	w.lanes["old2.example"] = &lane{failures: 5, suspendedUntil: now.Add(-2 * time.Hour)}
	w.sweepLocked(now.Add(30 * time.Second)) // at most once a minute
	if _, ok := w.lanes["old2.example"]; !ok {
		t.Error("swept again within the minute")
	}
}
