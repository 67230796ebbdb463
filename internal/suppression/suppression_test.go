package suppression_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/suppression"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const acct = account.RootAccountID

func setup(t *testing.T) (*suppression.Service, *store.DB, *clock) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	if _, _, err := account.New(db, false, c.now).Bootstrap(context.Background(), "", ""); err != nil {
		t.Fatal(err)
	}
	return suppression.New(db, c.now, nil), db, c
}

func TestPutGetDelete(t *testing.T) {
	s, _, c := setup(t)
	ctx := context.Background()
	if err := s.Put(ctx, acct, "Alice@Example.COM", suppression.Bounce); err != nil {
		t.Fatal(err)
	}
	e, err := s.Get(ctx, acct, "alice@EXAMPLE.com")
	if err != nil {
		t.Fatal(err)
	}
	if e.Address != "alice@example.com" || e.Reason != suppression.Bounce || !e.LastUpdate.Equal(c.now()) || e.MessageID != "" {
		t.Fatalf("entry = %+v", e)
	}
	// Upsert: a second put changes the reason and the time.
	c.advance(time.Minute)
	if err := s.Put(ctx, acct, "alice@example.com", suppression.Complaint); err != nil {
		t.Fatal(err)
	}
	if e, err = s.Get(ctx, acct, "alice@example.com"); err != nil || e.Reason != suppression.Complaint || !e.LastUpdate.Equal(c.now()) {
		t.Fatalf("after re-put: %+v, %v", e, err)
	}
	// Other accounts do not see it.
	if _, err := s.Get(ctx, "999999999999", "alice@example.com"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("other account: %v", err)
	}
	if err := s.Delete(ctx, acct, "ALICE@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, acct, "alice@example.com"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.Delete(ctx, acct, "alice@example.com"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestPutRejectsBadInput(t *testing.T) {
	s, _, _ := setup(t)
	ctx := context.Background()
	for _, addr := range []string{"", "not-an-address", "Bob <bob@example.com>", "<bob@example.com>", "a@b@c", "bob@"} {
		if err := s.Put(ctx, acct, addr, suppression.Bounce); !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("Put(%q) = %v, want InvalidParameter", addr, err)
		}
	}
	if err := s.Put(ctx, acct, "bob@example.com", "SPAM"); !fault.Is(err, fault.InvalidParameter) {
		t.Errorf("bad reason: %v", err)
	}
	if _, err := suppression.ParseReason("bounce"); err == nil {
		t.Error("lower-case reason accepted")
	}
}

func TestList(t *testing.T) {
	s, _, c := setup(t)
	ctx := context.Background()
	start := c.now()
	// 25 addresses, one minute apart; every third is a complaint.
	for i := range 25 {
		r := suppression.Bounce
		if i%3 == 0 {
			r = suppression.Complaint
		}
		if err := s.Put(ctx, acct, fmt.Sprintf("u%02d@example.com", i), r); err != nil {
			t.Fatal(err)
		}
		c.advance(time.Minute)
	}
	// Page through everything 10 at a time.
	var all []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		es, next, err := s.List(ctx, acct, suppression.Query{After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) > 10 {
			t.Fatalf("page of %d", len(es))
		}
		for _, e := range es {
			all = append(all, e.Address)
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(all) != 25 || !slices.IsSorted(all) || all[0] != "u00@example.com" {
		t.Fatalf("listed %d: %v", len(all), all)
	}
	// A full last page has no next cursor.
	if es, next, err := s.List(ctx, acct, suppression.Query{Limit: 25}); err != nil || len(es) != 25 || next != "" {
		t.Fatalf("exact page: %d, next %q, %v", len(es), next, err)
	}
	// Reason filter.
	es, _, err := s.List(ctx, acct, suppression.Query{Reasons: []suppression.Reason{suppression.Complaint}})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 9 {
		t.Fatalf("complaints = %d", len(es))
	}
	for _, e := range es {
		if e.Reason != suppression.Complaint {
			t.Fatalf("filtered entry %+v", e)
		}
	}
	// Date window: minutes 5 to 9 inclusive.
	es, _, err = s.List(ctx, acct, suppression.Query{Start: start.Add(5 * time.Minute), End: start.Add(9 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 5 || es[0].Address != "u05@example.com" || es[4].Address != "u09@example.com" {
		t.Fatalf("window = %+v", es)
	}
}

func TestSetReasonsAndSuppressed(t *testing.T) {
	_, db, c := setup(t)
	ctx := context.Background()
	accounts := account.New(db, false, c.now)
	var changed []string
	// The hook lets the account cache drop the account at once.
	s := suppression.New(db, c.now, func(id string) {
		changed = append(changed, id)
		accounts = account.New(db, false, c.now)
	})
	reasonsOf := func() []string {
		a, err := accounts.Get(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		return a.SuppressedReasons
	}
	if got := reasonsOf(); !slices.Equal(got, []string{"BOUNCE", "COMPLAINT"}) {
		t.Fatalf("default reasons = %v", got)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Put(ctx, acct, "b@example.com", suppression.Bounce))
	must(s.Put(ctx, acct, "c@example.com", suppression.Complaint))
	check := func(want map[string]suppression.Reason) {
		t.Helper()
		var got map[string]suppression.Reason
		must(db.Write(ctx, func(tx *store.Tx) (err error) {
			got, err = suppression.Suppressed(tx, acct, []string{"B@example.com", "c@example.com", "x@example.com"})
			return err
		}))
		if len(got) != len(want) {
			t.Fatalf("suppressed = %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("suppressed = %v, want %v", got, want)
			}
		}
	}
	check(map[string]suppression.Reason{"B@example.com": suppression.Bounce, "c@example.com": suppression.Complaint})

	must(s.SetReasons(ctx, acct, []suppression.Reason{suppression.Complaint, suppression.Bounce, suppression.Complaint}))
	if got := reasonsOf(); !slices.Equal(got, []string{"BOUNCE", "COMPLAINT"}) {
		t.Fatalf("reasons = %v", got)
	}
	must(s.SetReasons(ctx, acct, []suppression.Reason{suppression.Complaint}))
	if got := reasonsOf(); !slices.Equal(got, []string{"COMPLAINT"}) {
		t.Fatalf("reasons = %v", got)
	}
	check(map[string]suppression.Reason{"c@example.com": suppression.Complaint})
	must(s.SetReasons(ctx, acct, nil))
	if got := reasonsOf(); len(got) != 0 {
		t.Fatalf("reasons = %v", got)
	}
	check(nil)
	if len(changed) != 3 || changed[0] != acct {
		t.Fatalf("changed hook calls = %v", changed)
	}
	if err := s.SetReasons(ctx, acct, []suppression.Reason{"SPAM"}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("bad reason: %v", err)
	}
	if err := s.SetReasons(ctx, "999999999999", nil); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestAutoAdd(t *testing.T) {
	s, db, c := setup(t)
	ctx := context.Background()
	add := func(addr string, r suppression.Reason, msg, fb string) bool {
		t.Helper()
		var added bool
		if err := db.Write(ctx, func(tx *store.Tx) (err error) {
			added, err = suppression.AutoAdd(tx, acct, addr, r, msg, fb, c.now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return added
	}
	if !add("Gone@Example.net", suppression.Bounce, "m1", "f1") {
		t.Fatal("bounce not added")
	}
	e, err := s.Get(ctx, acct, "gone@example.net")
	if err != nil {
		t.Fatal(err)
	}
	if e.Reason != suppression.Bounce || e.MessageID != "m1" || e.FeedbackID != "f1" || !e.LastUpdate.Equal(c.now()) {
		t.Fatalf("entry = %+v", e)
	}
	if err := s.SetReasons(ctx, acct, []suppression.Reason{suppression.Bounce}); err != nil {
		t.Fatal(err)
	}
	if add("angry@example.net", suppression.Complaint, "m2", "f2") {
		t.Fatal("complaint added although the account suppresses only bounces")
	}
	if _, err := s.Get(ctx, acct, "angry@example.net"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("complaint entry: %v", err)
	}
	c.advance(time.Hour)
	if !add("gone@example.net", suppression.Bounce, "m3", "f3") {
		t.Fatal("second bounce not recorded")
	}
	if e, _ := s.Get(ctx, acct, "gone@example.net"); e.MessageID != "m3" || !e.LastUpdate.Equal(c.now()) {
		t.Fatalf("updated entry = %+v", e)
	}
}

// The send path skips the per-address look-ups while an account's list is
// empty; every way an entry arrives or leaves is seen by the next check:
// Put, Delete, AutoAdd earlier in the same write, and a Put through another
// handle on the database file (another process).
func TestSuppressedFollowsListChanges(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	if _, _, err := account.New(db, false, c.now).Bootstrap(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	s := suppression.New(db, c.now, nil)
	addrs := []string{"a@example.com"}
	check := func(step string, want bool) {
		t.Helper()
		var got map[string]suppression.Reason
		if err := db.Write(ctx, func(tx *store.Tx) (err error) {
			got, err = suppression.Suppressed(tx, acct, addrs)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if (got["a@example.com"] != "") != want {
			t.Fatalf("%s: suppressed = %v, want stopped %v", step, got, want)
		}
	}
	check("empty list", false)
	if err := s.Put(ctx, acct, "a@example.com", suppression.Bounce); err != nil {
		t.Fatal(err)
	}
	check("after Put", true)
	if err := s.Delete(ctx, acct, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	check("after Delete", false)

	var got map[string]suppression.Reason
	if err := db.Write(ctx, func(tx *store.Tx) error {
		if _, err := suppression.AutoAdd(tx, acct, "a@example.com", suppression.Bounce, "m1", "f1", c.now()); err != nil {
			return err
		}
		var err error
		got, err = suppression.Suppressed(tx, acct, addrs)
		return err
	}); err != nil || got["a@example.com"] != suppression.Bounce {
		t.Fatalf("in the write that added it: %v, %v", got, err)
	}
	if err := s.Delete(ctx, acct, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	check("after the second Delete", false)

	other, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := suppression.New(other, c.now, nil).Put(ctx, acct, "a@example.com", suppression.Complaint); err != nil {
		t.Fatal(err)
	}
	check("after a Put by another process", true)
}
