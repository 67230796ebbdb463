// Package store owns Sesame's database: the embedded SQLite store (WAL,
// synchronous=FULL) with a single writer that group-commits, and the schema
// migrations. Domain packages describe their writes as functions run inside
// the writer's transaction, so a check and the write it guards are atomic
// (no check-then-act races on quotas or state) and concurrent callers share
// one fsync (DESIGN.md §4, §7: group commit).
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
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("store: closed")

// DB is an open store.
type DB struct {
	path   string
	w      *sql.DB // exactly one connection, owned by the writer goroutine
	r      *sql.DB // readers
	log    *slog.Logger
	reqs   chan *writeReq
	done   chan struct{}
	closed sync.Once
	mu     sync.RWMutex // guards sending on reqs against Close
	shut   bool
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
	tx    *sql.Tx
	after []func()
}

// Exec runs a statement.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) { return t.tx.Exec(query, args...) }

// Query runs a query.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) { return t.tx.Query(query, args...) }

// QueryRow runs a query returning at most one row.
func (t *Tx) QueryRow(query string, args ...any) *sql.Row { return t.tx.QueryRow(query, args...) }

// AfterCommit registers f to run once the write is durable. It is not run if
// this write or the batch's commit fails.
func (t *Tx) AfterCommit(f func()) { t.after = append(t.after, f) }

// Open opens (creating if needed) the SQLite database at path and migrates it.
func Open(path string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
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
	r.SetMaxOpenConns(8)
	db := &DB{path: path, w: w, r: r, log: log, reqs: make(chan *writeReq, 4*maxBatch), done: make(chan struct{})}
	if err := db.migrate(); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	go db.writer()
	return db, nil
}

// Read returns the pool for read-only queries.
func (db *DB) Read() *sql.DB { return db.r }

// Write runs fn in the writer's transaction and returns once the write is
// committed and synced to disk, or fn's error (its changes undone).
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
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

// Close stops the writer after the queued writes and closes the database.
func (db *DB) Close() error {
	var err error
	db.closed.Do(func() {
		db.mu.Lock()
		db.shut = true
		close(db.reqs)
		db.mu.Unlock()
		<-db.done
		err = errors.Join(db.w.Close(), db.r.Close())
	})
	return err
}

func (db *DB) writer() {
	defer close(db.done)
	batch := make([]*writeReq, 0, maxBatch)
	for req := range db.reqs {
		batch = append(batch[:0], req)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-db.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		db.commit(batch)
	}
}

// commit runs one batch in one transaction: each request in a savepoint.
func (db *DB) commit(batch []*writeReq) {
	tx, err := db.w.Begin()
	if err != nil {
		for _, r := range batch {
			r.errc <- err
		}
		return
	}
	errs := make([]error, len(batch))
	txs := make([]*Tx, len(batch))
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			errs[i] = err
			continue
		}
		t := &Tx{tx: tx}
		err := runSafely(r.fn, t)
		if err != nil {
			if _, rerr := tx.Exec("ROLLBACK TO w"); rerr != nil {
				// The transaction is unusable: fail the whole batch.
				tx.Rollback()
				for j, r := range batch {
					if j == i {
						r.errc <- err
					} else {
						r.errc <- fmt.Errorf("store: batch aborted: %w", rerr)
					}
				}
				return
			}
			errs[i] = err
		}
		if _, err := tx.Exec("RELEASE w"); err != nil && errs[i] == nil {
			errs[i] = err
		}
		if errs[i] == nil {
			txs[i] = t
		}
	}
	if err := tx.Commit(); err != nil {
		db.log.Error("store: commit failed", "err", err, "batch", len(batch))
		for _, r := range batch {
			r.errc <- fmt.Errorf("store: commit: %w", err)
		}
		return
	}
	for i, r := range batch {
		if t := txs[i]; t != nil {
			for _, f := range t.after {
				f()
			}
		}
		r.errc <- errs[i]
	}
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
