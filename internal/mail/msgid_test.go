package mail

import (
	"regexp"
	"sort"
	"testing"
	"time"
)

var messageIDPattern = regexp.MustCompile(`^0100[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-000000$`)

func TestNewMessageID(t *testing.T) {
	now := time.UnixMilli(0x018f2a3b4c5d)
	id := NewMessageID(now)
	if !messageIDPattern.MatchString(id) {
		t.Fatalf("id %q does not match the SES format", id)
	}
	if id[:16] != "0100018f2a3b4c5d" {
		t.Errorf("time prefix = %q", id[:16])
	}
	if NewMessageID(now) == id {
		t.Error("two ids for the same millisecond are equal")
	}
	if got := NewMessageID(time.Unix(-5, 0))[:16]; got != "0100000000000000" {
		t.Errorf("pre-1970 prefix = %q", got)
	}
}

func TestMessageIDsSortByTime(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for _, d := range []time.Duration{0, time.Millisecond, time.Second, time.Hour, 24 * 365 * time.Hour} {
		ids = append(ids, NewMessageID(base.Add(d)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("ids not in time order: %q", ids)
	}
}

func TestMessageIDHeader(t *testing.T) {
	if got := MessageIDHeader("0100-x-000000", "mail.example.net"); got != "<0100-x-000000@mail.example.net>" {
		t.Errorf("MessageIDHeader = %q", got)
	}
}
