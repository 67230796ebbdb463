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
