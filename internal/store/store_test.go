package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sesame.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// A failing write in a batch undoes only its own changes; concurrent writes
// all commit, and what committed is there after reopening.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx *Tx) error {
				if _, err := tx.Exec("INSERT INTO send_counts(account_id, minute, n) VALUES ('a', ?, 1)", i); err != nil {
					return err
				}
				if i%10 == 0 {
					return errors.New("refused")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 0) != (err != nil) {
			t.Fatalf("write %d: err = %v", i, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var count int
	if err := db2.Read().QueryRow("SELECT count(*) FROM send_counts").Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != n-n/10 {
		t.Fatalf("rows after reopen = %d, want %d", count, n-n/10)
	}
}

func TestWritePanicIsAnError(t *testing.T) {
	db, _ := openTest(t)
	err := db.Write(context.Background(), func(tx *Tx) error { panic("boom") })
	if err == nil {
		t.Fatal("want error from panicking write")
	}
	ran := false
	if err := db.Write(context.Background(), func(tx *Tx) error { tx.AfterCommit(func() { ran = true }); return nil }); err != nil || !ran {
		t.Fatalf("writer unusable after panic: err=%v ran=%v", err, ran)
	}
	db.Close()
	if err := db.Write(context.Background(), func(tx *Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// memoKey is this test's Memo key type.
type memoKey string

// countRows memoises the number of send_counts rows of account a, counting
// the loads in *loads.
func countRows(tx *Tx, a string, loads *int) (int, error) {
	return Memo(tx, memoKey(a), func(tx *Tx) (int, error) {
		*loads++
		var n int
		err := tx.QueryRow("SELECT count(*) FROM send_counts WHERE account_id = ?", a).Scan(&n)
		return n, err
	})
}

// Memo reads once per generation; a write that calls Invalidate makes the
// writes after it — in the same batch or later — read again, and so does a
// failed write that had called it.
func TestMemoFollowsInvalidate(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	loads := 0
	count := func() int {
		t.Helper()
		var n int
		if err := db.Write(ctx, func(tx *Tx) (err error) { n, err = countRows(tx, "a", &loads); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(minute int, fail bool) {
		t.Helper()
		err := db.Write(ctx, func(tx *Tx) error {
			tx.Invalidate()
			if _, err := tx.Exec("INSERT INTO send_counts(account_id, minute, n) VALUES ('a', ?, 1)", minute); err != nil {
				return err
			}
			if _, err := countRows(tx, "a", &loads); err != nil { // memoises the write's own change
				return err
			}
			if fail {
				return errors.New("refused")
			}
			return nil
		})
		if fail != (err != nil) {
			t.Fatalf("insert %d: %v", minute, err)
		}
	}
	if n := count(); n != 0 || loads != 1 {
		t.Fatalf("first read: %d rows, %d loads", n, loads)
	}
	if n := count(); n != 0 || loads != 1 {
		t.Fatalf("second read: %d rows, %d loads; want the memo", n, loads)
	}
	insert(1, false)
	if n := count(); n != 1 {
		t.Fatalf("after an invalidating write: %d rows, want 1", n)
	}
	insert(2, true)
	if n := count(); n != 1 {
		t.Fatalf("after a failed write: %d rows, want 1 (the memo must not keep what was undone)", n)
	}
}

// A commit by another connection to the same file (another process, such as
// `sesame admin`) changes the generation and retires the writer's memo by
// the next write.
func TestGenerationSeesOtherConnections(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	loads := 0
	read := func() int {
		t.Helper()
		var n int
		if err := db.Write(ctx, func(tx *Tx) (err error) { n, err = countRows(tx, "a", &loads); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	read()
	gen := db.Generation()
	if read(); db.Generation() != gen {
		t.Fatal("the generation moved without any change")
	}
	other, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec("INSERT INTO send_counts(account_id, minute, n) VALUES ('a', 1, 1)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := read(); n != 1 {
		t.Fatalf("after another connection's commit: %d rows, want 1", n)
	}
	if db.Generation() == gen {
		t.Fatal("the generation did not move after another connection committed")
	}
}
