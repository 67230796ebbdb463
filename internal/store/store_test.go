package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openTest(t testing.TB) (*DB, string) {
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

// gate replaces a DB's sync for a test: each sync reports itself on entered
// and returns the next value sent on step (nil once step is closed).
type gate struct {
	entered chan struct{}
	step    chan error
	once    sync.Once
	synced  atomic.Int32 // syncs that have returned
}

// newGate installs a gate on db. It must be called before db's first Write.
// The gate opens for good at the end of the test, so that Close can drain.
func newGate(t testing.TB, db *DB) *gate {
	g := &gate{entered: make(chan struct{}, 64), step: make(chan error)}
	db.sync = func() error {
		select {
		case g.entered <- struct{}{}:
		default:
		}
		err := <-g.step
		g.synced.Add(1)
		return err
	}
	t.Cleanup(g.open)
	return g
}

// open lets every sync through from now on.
func (g *gate) open() { g.once.Do(func() { close(g.step) }) }

// insertRow is a write adding the send_counts row of minute, with hook run
// after commit.
func insertRow(minute int, hook func()) func(*Tx) error {
	return func(tx *Tx) error {
		if hook != nil {
			tx.AfterCommit(hook)
		}
		_, err := tx.Exec("INSERT INTO send_counts(account_id, minute, n) VALUES ('a', ?, 1)", minute)
		return err
	}
}

// waitVisible waits until the read pool sees the send_counts row of minute.
func waitVisible(t *testing.T, db *DB, minute int) {
	t.Helper()
	for range 5000 {
		var n int
		if err := db.Read().QueryRow("SELECT count(*) FROM send_counts WHERE minute = ?", minute).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the row of minute %d never became visible to readers", minute)
}

// A Write returns only after the sync covering its batch, and while that
// sync waits the writer commits the next batch (readers see it) without
// answering it or running its hooks; hooks run in batch order.
func TestWriteWaitsForSync(t *testing.T) {
	db, _ := openTest(t)
	g := newGate(t, db)
	ctx := context.Background()
	var mu sync.Mutex
	var hooks []string
	hook := func(name string) func() {
		return func() { mu.Lock(); hooks = append(hooks, name); mu.Unlock() }
	}

	aDone := make(chan int32, 1) // syncs completed when A's Write returned
	go func() {
		if err := db.Write(ctx, insertRow(1, hook("a"))); err != nil {
			t.Error(err)
		}
		aDone <- g.synced.Load()
	}()
	<-g.entered // A committed; its sync is held

	aHookedBeforeB := make(chan bool, 1)
	bDone := make(chan int32, 1)
	go func() {
		err := db.Write(ctx, func(tx *Tx) error {
			mu.Lock()
			aHookedBeforeB <- len(hooks) > 0
			mu.Unlock()
			return insertRow(2, hook("b"))(tx)
		})
		if err != nil {
			t.Error(err)
		}
		bDone <- g.synced.Load()
	}()
	select {
	case hooked := <-aHookedBeforeB:
		if hooked {
			t.Fatal("A's hooks ran before its sync completed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the writer ran nothing while a sync was held")
	}
	waitVisible(t, db, 2) // B committed while A's sync is held
	select {
	case <-aDone:
		t.Fatal("A's Write returned before its sync completed")
	case <-bDone:
		t.Fatal("B's Write returned before any sync completed")
	default:
	}

	g.open()
	if n := <-aDone; n < 1 {
		t.Fatalf("A's Write returned after %d syncs", n)
	}
	// B committed after A's sync started: only a later sync covers it.
	if n := <-bDone; n < 2 {
		t.Fatalf("B's Write returned after %d syncs, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(hooks, []string{"a", "b"}) {
		t.Fatalf("hooks ran as %v, want [a b]", hooks)
	}
}

// A failed sync fails the writes it covered and those of the batch
// committed while it ran, runs none of their hooks, and the store refuses
// every later write without syncing again.
func TestSyncFailureBreaksStore(t *testing.T) {
	db, _ := openTest(t)
	g := newGate(t, db)
	ctx := context.Background()
	var hooked atomic.Bool
	hook := func() { hooked.Store(true) }
	aErr := make(chan error, 1)
	go func() { aErr <- db.Write(ctx, insertRow(1, hook)) }()
	<-g.entered
	bErr := make(chan error, 1)
	go func() { bErr <- db.Write(ctx, insertRow(2, hook)) }()
	waitVisible(t, db, 2)
	g.step <- errors.New("injected: input/output error")
	g.open() // a second sync, if the store tried one, would succeed
	for name, c := range map[string]chan error{"A": aErr, "B": bErr} {
		if err := <-c; !errors.Is(err, ErrSyncFailed) {
			t.Errorf("%s: err = %v, want ErrSyncFailed", name, err)
		}
	}
	if hooked.Load() {
		t.Error("a hook ran after a failed sync")
	}
	err := db.Write(ctx, func(tx *Tx) error {
		t.Error("a write ran after a failed sync")
		return nil
	})
	if !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("write after a failed sync: %v, want ErrSyncFailed", err)
	}
	if n := g.synced.Load(); n != 1 {
		t.Fatalf("%d syncs, want 1: a failed sync must not be retried", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// Close waits until every committed batch is synced and answered — the one
// being synced and the one committed behind it — and what was answered is
// there after reopening.
func TestCloseDrains(t *testing.T) {
	db, path := openTest(t)
	g := newGate(t, db)
	ctx := context.Background()
	const n = 8
	var hooks atomic.Int32
	errs := make(chan error, n+1)
	write := func(minute int, before func()) {
		errs <- db.Write(ctx, func(tx *Tx) error {
			before()
			return insertRow(minute, func() { hooks.Add(1) })(tx)
		})
	}
	// The first write holds the writer until the n others are queued, so
	// that they make the second batch.
	running, proceed := make(chan struct{}), make(chan struct{})
	go write(0, func() { close(running); <-proceed })
	<-running
	for i := 1; i <= n; i++ {
		go write(i, func() {})
	}
	for i := 0; len(db.reqs) < n; i++ {
		if i == 5000 {
			t.Fatal("the writes were never queued")
		}
		time.Sleep(time.Millisecond)
	}
	close(proceed)
	<-g.entered // the first batch committed and its sync is held
	for i := 1; i <= n; i++ {
		waitVisible(t, db, i) // the second batch committed behind it
	}
	type result struct {
		err   error
		hooks int32
	}
	closed := make(chan result, 1)
	go func() {
		err := db.Close()
		closed <- result{err, hooks.Load()}
	}()
	// Wait until Close has begun (it refuses new writes).
	for i := 0; ; i++ {
		db.mu.RLock()
		shut := db.shut
		db.mu.RUnlock()
		if shut {
			break
		}
		if i == 5000 {
			t.Fatal("Close never began")
		}
		time.Sleep(time.Millisecond)
	}
	// Close must not return while a sync is held. Nothing signals that it
	// will not, so give a Close that does not drain time to show itself;
	// with one that does, this only delays the test.
	held := func(which string) {
		t.Helper()
		select {
		case r := <-closed:
			t.Fatalf("Close returned (%v) while the %s sync was held", r.err, which)
		case <-time.After(200 * time.Millisecond):
		}
	}
	held("first")
	g.step <- nil // the first sync returns; the second batch's is held
	<-g.entered
	held("second")
	g.open()
	if r := <-closed; r.err != nil || r.hooks != n+1 {
		t.Fatalf("Close returned %v with %d of %d writes answered", r.err, r.hooks, n+1)
	}
	for range n + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
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
	if count != n+1 {
		t.Fatalf("rows after reopen = %d, want %d", count, n+1)
	}
}

// Only the writer's connection leaves syncing to the syncer; the readers
// keep synchronous=FULL.
func TestSynchronousLevels(t *testing.T) {
	db, _ := openTest(t)
	var w, r int
	if err := db.Write(context.Background(), func(tx *Tx) error {
		return tx.QueryRow("PRAGMA synchronous").Scan(&w)
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Read().QueryRow("PRAGMA synchronous").Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != 1 || r != 2 {
		t.Fatalf("synchronous: writer %d, readers %d; want 1 (NORMAL) and 2 (FULL)", w, r)
	}
}

// syncWAL opens the WAL on first use and again once it has been replaced.
func TestSyncWALReopensReplacedFile(t *testing.T) {
	dir := t.TempDir()
	db := &DB{walPath: filepath.Join(dir, "s.db-wal")}
	if err := db.syncWAL(); err == nil {
		t.Fatal("syncWAL succeeded with no WAL file")
	}
	if err := os.WriteFile(db.walPath, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.syncWAL(); err != nil {
		t.Fatal(err)
	}
	first := db.wal
	if err := db.syncWAL(); err != nil || db.wal != first {
		t.Fatalf("second sync: err %v, reopened %v", err, db.wal != first)
	}
	next := filepath.Join(dir, "next")
	if err := os.WriteFile(next, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, db.walPath); err != nil {
		t.Fatal(err)
	}
	if err := db.syncWAL(); err != nil {
		t.Fatal(err)
	}
	defer db.wal.Close()
	open, err := db.wal.Stat()
	if err != nil {
		t.Fatal(err)
	}
	now, err := os.Stat(db.walPath)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(open, now) {
		t.Fatal("syncWAL kept syncing the replaced file")
	}
}

// BenchmarkWrite is the store alone under the load the accept path puts on
// it: 64 goroutines each writing one event row with a message-sized
// payload under a random message id, so that the index takes inserts all
// over as it does with real message ids.
func BenchmarkWrite(b *testing.B) {
	db, _ := openTest(b)
	payload := strings.Repeat("x", 1500)
	var seq atomic.Int64
	b.SetParallelism(max(1, 64/max(1, runtime.GOMAXPROCS(0))))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("%016x", rand.Uint64()) + strconv.FormatInt(seq.Add(1), 10)
			if err := db.Write(context.Background(), func(tx *Tx) error {
				_, err := tx.Exec("INSERT INTO events(account_id, message_id, type, at, payload) VALUES ('a', ?, 'Send', 0, ?)", id, payload)
				return err
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}
