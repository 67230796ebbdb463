// Package store owns Sesame's database: the embedded SQLite store (WAL) with
// a single writer that group-commits, and the schema migrations. Domain
// packages describe their writes as functions run inside the writer's
// transaction, so a check and the write it guards are atomic (no
// check-then-act races on quotas or state) and concurrent callers share one
// fsync (DESIGN.md §4, §7: group commit). The fsync is pipelined: a syncer
// goroutine makes each committed batch durable, and only then answers its
// callers, while the writer already runs the next batch (see sync.go).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("store: closed")

// ErrSyncFailed is returned, wrapped with its cause, for the writes a failed
// sync of the write-ahead log covered and for every write after it: the
// store refuses writes until the process is restarted (sync.go says why).
var ErrSyncFailed = errors.New("store: syncing the write-ahead log failed (writes are refused until Sesame is restarted)")

// DB is an open store.
type DB struct {
	path      string
	w         *sql.DB // exactly one connection, owned by the writer goroutine
	r         *sql.DB // readers
	log       *slog.Logger
	reqs      chan *writeReq
	synced    chan *batch          // finished batches, from the writer to the syncer (unbuffered)
	done      chan struct{}        // closed when the syncer has answered the last batch
	conn      *sql.Conn            // w's connection, held by the writer goroutine
	readStmts sync.Map             // query → *sql.Stmt prepared on r
	stmts     map[string]*sql.Stmt // prepared on conn; used only by the writer goroutine
	closed    sync.Once
	mu        sync.RWMutex // guards sending on reqs against Close
	shut      bool

	// gen is the generation (see Generation); dataVersion is the writer
	// connection's PRAGMA data_version when the writer last looked.
	gen         atomic.Uint64
	dataVersion int64
	// memo holds what Memo computed at generation memoGen; used only by
	// the writer goroutine.
	memo    map[any]any
	memoGen uint64

	// sync makes the WAL frames of every transaction committed before it
	// was called durable (syncWAL; a test may replace it before the first
	// Write). walPath is the file syncWAL syncs and wal its descriptor,
	// both used only by the syncer goroutine.
	sync    func() error
	walPath string
	wal     *os.File
	// broken holds ErrSyncFailed with its cause once a sync has failed.
	broken atomic.Pointer[error]
}

// batch is one transaction's requests on their way from the writer to the
// syncer, which answers them.
type batch struct {
	reqs []*writeReq
	errs []error // each request's own outcome
	txs  []*Tx   // each committed write's Tx (for its hooks); nil otherwise
	// committed is set when COMMIT succeeded: the requests are answered
	// only after a sync that started after it.
	committed bool
}

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	errc chan error
}

// Tx is the writer's transaction as one write function sees it. Its
// statements run inside a savepoint: if the function returns an error, only
// its own changes are undone and the rest of the batch still commits.
type Tx struct {
	db          *DB
	after       []func()
	invalidated bool
}

// Exec runs a statement.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

// Query runs a query.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

// QueryRow runs a query returning at most one row.
func (t *Tx) QueryRow(query string, args ...any) *sql.Row {
	st, err := t.stmt(query)
	if err != nil {
		// Let the row report the error: run the query unprepared.
		return t.db.conn.QueryRowContext(context.Background(), query, args...)
	}
	return st.QueryRow(args...)
}

// stmt returns query prepared on the writer's connection. The writer has
// one connection, so each distinct statement is compiled once for the life
// of the store instead of once per use (SQLite's prepare was a third of the
// writer's time per message).
func (t *Tx) stmt(query string) (*sql.Stmt, error) { return t.db.stmt(query) }

func (db *DB) stmt(query string) (*sql.Stmt, error) {
	st, ok := db.stmts[query]
	if !ok {
		var err error
		if st, err = db.conn.PrepareContext(context.Background(), query); err != nil {
			return nil, err
		}
		db.stmts[query] = st
	}
	return st, nil
}

// exec runs a statement of the writer's own (BEGIN, SAVEPOINT, …).
func (db *DB) exec(query string) error {
	st, err := db.stmt(query)
	if err != nil {
		return err
	}
	_, err = st.Exec()
	return err
}

// AfterCommit registers f to run once the write is durable: after the fsync
// that covers its batch, on the syncer goroutine, before the write's caller
// is answered, in the order the writes ran. The change is visible to readers
// from the batch's COMMIT on, a little earlier. f is not run if this write,
// the batch's commit or the sync fails.
func (t *Tx) AfterCommit(f func()) { t.after = append(t.after, f) }

// Generation identifies what this process may have in memory from the
// database. It changes when another connection — `sesame admin` in another
// process, or another DB on the same file — has committed (the writer reads
// SQLite's PRAGMA data_version at the start of each batch), and when a write
// of this process calls Tx.Invalidate: as the write runs, and again once it
// has committed or been undone. A cache entry tagged with the generation
// read before the entry was read from the database may be used for as long
// as Generation still returns that value, with one limit: a commit by
// another process is seen only by the next batch, so a decision made from
// such an entry must be checked again inside the write it leads to (with
// Memo, which is exact there).
func (db *DB) Generation() uint64 { return db.gen.Load() }

// Invalidate declares that this write changes data that caches of this
// process hold (see Generation and Memo): account settings, the suppression
// list. Call it before the change.
func (t *Tx) Invalidate() {
	t.db.gen.Add(1)
	if !t.invalidated {
		t.invalidated = true
		// Readers outside the writer may have read the old row after the
		// bump above; the second bump, once the change is visible to them,
		// retires what they cached. It is visible from the batch's COMMIT
		// on, and the hook runs after the fsync that follows the COMMIT.
		t.AfterCommit(func() { t.db.gen.Add(1) })
	}
}

// Memo returns what load computes for key within the writer's transaction,
// computing it once per generation: a value read in an earlier write (of
// this batch or an earlier one) is reused for as long as no other
// connection has committed and no write has called Invalidate. Inside the
// writer this is exact, since other connections cannot commit while the
// writer's transaction holds the write lock. Keys are compared with ==: use
// a type of the caller's own so that packages cannot collide.
func Memo[T any](t *Tx, key any, load func(*Tx) (T, error)) (T, error) {
	db := t.db
	if g := db.gen.Load(); g != db.memoGen || db.memo == nil {
		db.memo, db.memoGen = map[any]any{}, g
	}
	if v, ok := db.memo[key]; ok {
		return v.(T), nil
	}
	v, err := load(t)
	if err == nil && db.gen.Load() == db.memoGen {
		db.memo[key] = v
	}
	return v, err
}

// Open opens (creating if needed) the SQLite database at path and migrates it.
func Open(path string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// temp_store(MEMORY): the savepoint each write runs in journals to a
	// temporary file otherwise (80 % of the writer's file writes).
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	// Keep the readers open: database/sql keeps 2 idle by default, and
	// reopening a SQLite connection re-reads the schema.
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxLifetime(0)
	db := &DB{path: path, w: w, r: r, log: log, reqs: make(chan *writeReq, 4*maxBatch), synced: make(chan *batch),
		done: make(chan struct{}), stmts: map[string]*sql.Stmt{}}
	if err := db.migrate(); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	if db.conn, err = w.Conn(context.Background()); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	if err := db.pipeline(); err != nil {
		db.conn.Close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	go db.writer()
	go db.syncer()
	return db, nil
}

// Read returns the pool for read-only queries.
func (db *DB) Read() *sql.DB { return db.r }

// Write runs fn in the writer's transaction and returns once the write is
// committed and synced to disk, or fn's error (its changes undone), or an
// error if the batch could not be committed or synced (ErrSyncFailed).
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	if p := db.broken.Load(); p != nil {
		return *p
	}
	req := &writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	db.mu.RLock()
	if db.shut {
		db.mu.RUnlock()
		return ErrClosed
	}
	select {
	case db.reqs <- req:
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	db.mu.RUnlock()
	// Once queued, the write is seen through: returning early on ctx would
	// leave the caller unsure whether it committed.
	return <-req.errc
}

// Close stops the writer after the queued writes, waits until every
// committed batch is synced and answered, and closes the database.
func (db *DB) Close() error {
	var err error
	db.closed.Do(func() {
		db.mu.Lock()
		db.shut = true
		close(db.reqs)
		db.mu.Unlock()
		<-db.done
		for _, st := range db.stmts {
			st.Close()
		}
		db.readStmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
		err = errors.Join(db.conn.Close(), db.w.Close(), db.r.Close())
	})
	return err
}

// writer runs the queued writes in batches, one transaction each, and hands
// every batch, committed or not, to the syncer, which answers its callers in
// the order the batches ran. After a failed sync it commits nothing more.
//
// The hand-over is unbuffered: while the syncer syncs a batch, the writer
// runs and commits the next one, then waits to hand it over, and the
// writes that arrive meanwhile queue up for the batch after it. Running
// further ahead would commit them in small transactions of their own, which
// may answer them one sync sooner but costs more than it saves: each
// transaction writes every B-tree page it changed to the WAL, so small ones
// write the same pages again and again — more WAL, and more checkpoints,
// which the writer's COMMIT runs. With up to 16 batches ahead,
// BenchmarkWrite made 11 times as many transactions (3 writes each instead
// of 32) and ran 18–36 % slower, and BenchmarkAcceptV2 (bench/) 27 %.
func (db *DB) writer() {
	defer close(db.synced)
	for req := range db.reqs {
		reqs := make([]*writeReq, 1, min(maxBatch, 1+len(db.reqs)))
		reqs[0] = req
	fill:
		for len(reqs) < maxBatch {
			select {
			case r, ok := <-db.reqs:
				if !ok {
					break fill
				}
				reqs = append(reqs, r)
			default:
				break fill
			}
		}
		if p := db.broken.Load(); p != nil {
			db.synced <- failed(reqs, *p)
			continue
		}
		db.synced <- db.commit(reqs)
	}
}

// failed is a batch whose requests all fail with err.
func failed(reqs []*writeReq, err error) *batch {
	b := &batch{reqs: reqs, errs: make([]error, len(reqs))}
	for i := range b.errs {
		b.errs[i] = err
	}
	return b
}

// commit runs one batch in one transaction: each request in a savepoint.
// The writer drives the transaction with SQL on its own connection (not
// database/sql's Tx, which would prepare every statement again). With
// synchronous=NORMAL the COMMIT writes the WAL without waiting for the disk;
// the batch it returns is answered by the syncer.
func (db *DB) commit(reqs []*writeReq) *batch {
	if err := db.begin(); err != nil {
		return failed(reqs, err)
	}
	abort := func(cause error, culprit int) *batch {
		db.exec("ROLLBACK")
		db.gen.Add(1) // what Memo read in this batch is undone
		b := failed(reqs, fmt.Errorf("store: batch aborted: %w", cause))
		if culprit >= 0 {
			b.errs[culprit] = cause
		}
		return b
	}
	errs := make([]error, len(reqs))
	txs := make([]*Tx, len(reqs))
	for i, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if err := db.exec("SAVEPOINT w"); err != nil {
			return abort(err, -1)
		}
		t := &Tx{db: db}
		if err := runSafely(r.fn, t); err != nil {
			if rerr := db.exec("ROLLBACK TO w"); rerr != nil {
				return abort(rerr, i) // the transaction is unusable: fail the whole batch
			}
			if t.invalidated {
				db.gen.Add(1) // Memo may hold what the write changed and undid
			}
			errs[i] = err
		} else {
			txs[i] = t
		}
		if err := db.exec("RELEASE w"); err != nil {
			return abort(err, -1)
		}
	}
	if err := db.exec("COMMIT"); err != nil {
		db.log.Error("store: commit failed", "err", err, "batch", len(reqs))
		db.exec("ROLLBACK")
		db.gen.Add(1)
		return failed(reqs, fmt.Errorf("store: commit: %w", err))
	}
	return &batch{reqs: reqs, errs: errs, txs: txs, committed: true}
}

// begin starts the batch's transaction and notes whether another connection
// committed since the last batch. BEGIN IMMEDIATE takes SQLite's write lock,
// so nobody else commits until this transaction ends: the data_version read
// here covers every commit before the batch's writes run.
func (db *DB) begin() error {
	if err := db.exec("BEGIN IMMEDIATE"); err != nil {
		return err
	}
	st, err := db.stmt("PRAGMA data_version")
	if err == nil {
		var v int64
		if err = st.QueryRow().Scan(&v); err == nil && v != db.dataVersion {
			db.dataVersion = v
			db.gen.Add(1)
		}
	}
	if err != nil {
		db.exec("ROLLBACK")
		return err
	}
	return nil
}

// runSafely turns a panic in a write function into an error for its caller
// alone, so one bad request cannot take the writer (and every sender) down.
func runSafely(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return fn(t)
}

func (db *DB) migrate() error {
	var version int
	if err := db.w.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: bad name", f)
		}
		if n <= version {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		tx, err := db.w.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		db.log.Info("store: migrated", "version", n)
	}
	return nil
}

// Millis is the store's time representation: Unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis is the inverse of Millis; zero stays the zero time.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// NullString maps "" to SQL NULL.
func NullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// QueryRow runs a read-only query through a statement prepared once on the
// read pool (database/sql prepares it on each pooled connection the first
// time that connection runs it). For the fixed queries of hot paths; a query
// text built from variable parts would grow the cache without bound.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return db.r.QueryRowContext(ctx, query, args...) // the row reports the error
	}
	return st.QueryRowContext(ctx, args...)
}

func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.readStmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.readStmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}
