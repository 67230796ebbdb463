package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Pipelined durability.
//
// The writer's connection runs with PRAGMA synchronous = NORMAL: in WAL
// mode its COMMIT appends the transaction's frames to the WAL with write(2)
// and returns without waiting for the disk
// (https://sqlite.org/pragma.html#pragma_synchronous). The writer hands
// the committed batch to the syncer goroutine and starts the next batch at
// once; the syncer fdatasyncs the WAL file and only then runs the batch's
// AfterCommit hooks and answers its callers, batch after batch in the order
// they committed. The disk's flush time (1–3 ms) overlaps the writer's next
// batch instead of idling it, and that batch gathers the writes that
// arrived during the flush, to share the next one (group commit). A batch
// is never answered before a sync that started after its COMMIT returned
// has completed; the writer runs at most one batch ahead (DB.writer says
// why).
//
// Why what a caller is told is committed survives a power loss:
//
//   - Its frames, the commit frame last, were written to the WAL before
//     the sync started, so they are on disk when the sync returns; recovery
//     replays the WAL up to its last valid commit frame, and since each
//     frame's checksum chains from the one before, no later transaction
//     can survive without the earlier ones (https://sqlite.org/fileformat2.html#walformat).
//   - A checkpoint run by a COMMIT (the automatic one at 1000 pages, or the
//     one when the last connection closes) copies frames into the database
//     file only after syncing the WAL, and syncs the database file before
//     recording the frames as copied (https://sqlite.org/wal.html, "the WAL
//     file is synchronized before each checkpoint and the database file is
//     synchronized after each completed checkpoint" at NORMAL).
//   - SQLite restarts the WAL from its first frame, overwriting frames the
//     syncer may not have synced yet, only once every frame has been
//     checkpointed into the database file, that is after the database file
//     was synced; it syncs the new WAL header before writing frames after
//     it. SQLite deletes the WAL only when the last connection closes, after
//     a complete checkpoint: the syncer then opens the new file (syncWAL).
//
// A process crash (SIGKILL, a panic) loses nothing committed, synced or not:
// write(2) has put the frames in the kernel's page cache, which outlives the
// process and is what the next open reads.
//
// Readers (the read pool, other processes) see a batch from its COMMIT on,
// before its sync: a delivery worker may send a message whose sync then
// fails or never happens because the power went. Its caller was not given
// the MessageId, so it sends again: delivery is at least once, as SES's is.
// Nothing a caller was told is lost.
//
// If a sync fails, the callers of the batch it covered, and of any batch
// committed behind it, get the error (they were never told success), and
// the store refuses every later write with ErrSyncFailed: after a failed fsync Linux may have dropped the dirty pages
// and marked them clean, so a second fsync can succeed without the data ever
// reaching the disk (PostgreSQL's "fsyncgate", 2018). Only a restart, which
// recovers from what the disk holds, makes the store trustworthy again. The
// batches committed but not synced stay visible to readers until then and
// may or may not survive the restart; none was acknowledged.
//
// Only the writer's connection runs at NORMAL: migrations (run by Open on
// the same connection before it switches) and the readers keep FULL, and
// every process that opens the file through Open, `sesame admin` included,
// writes through this pipeline.

// pipeline switches the writer's connection to synchronous=NORMAL and finds
// the WAL file the syncer syncs: SQLite's own name for the database (it
// resolves symbolic links) plus "-wal". If the database is not in WAL mode
// (the file system refused it), the connection stays at FULL, every COMMIT
// is durable when it returns, and the sync has nothing to do.
func (db *DB) pipeline() error {
	ctx := context.Background()
	var mode string
	if err := db.conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		db.log.Warn("store: not in WAL mode; every commit waits for the disk", "journal_mode", mode)
		db.sync = func() error { return nil }
		return nil
	}
	var file string
	if err := db.conn.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		return err
	}
	if file == "" {
		return errors.New("no file name for the main database")
	}
	if _, err := db.conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return err
	}
	db.walPath = file + "-wal"
	db.sync = db.syncWAL
	return nil
}

// syncer answers the batches the writer hands it, in order: a committed
// batch after a sync that started after its COMMIT returned. It ends,
// closing done, once the writer has stopped and every batch is answered.
func (db *DB) syncer() {
	defer close(db.done)
	defer func() {
		if db.wal != nil {
			db.wal.Close()
		}
	}()
	for b := range db.synced {
		var err error
		if b.committed {
			err = db.syncOnce()
		}
		db.answer(b, err)
	}
}

// answer runs the hooks of b's writes and answers their callers, in the
// order they ran; serr is the sync's error, which the writes that
// succeeded get instead.
func (db *DB) answer(b *batch, serr error) {
	for i, r := range b.reqs {
		err := b.errs[i]
		if b.committed && err == nil {
			if serr != nil {
				err = serr
			} else if t := b.txs[i]; t != nil {
				for _, f := range t.after {
					f()
				}
			}
		}
		r.errc <- err
	}
}

// syncOnce runs the sync unless one has failed before. A failure breaks the
// store for good: see "Pipelined durability" above for why it is not
// retried.
func (db *DB) syncOnce() error {
	if p := db.broken.Load(); p != nil {
		return *p
	}
	err := db.sync()
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%w: %w", ErrSyncFailed, err)
	db.broken.Store(&err)
	// The failed batches' Invalidate hooks will not run, yet readers see
	// their changes: retire what caches hold.
	db.gen.Add(1)
	db.log.Error("store: syncing the write-ahead log failed; refusing writes until restart", "err", err, "wal", db.walPath)
	return err
}

// syncWAL makes the WAL's written frames durable. The file is opened on
// first use (SQLite creates it when the database is first used in WAL mode)
// and again if SQLite has replaced it since: it deletes the WAL when the
// last connection to the database closes, after checkpointing all of it
// into the synced database file, so nothing in the old file needs syncing.
// An fsync or fdatasync through any descriptor of a file flushes all of its
// dirty pages, whoever wrote them.
func (db *DB) syncWAL() error {
	if db.wal != nil {
		open, err1 := db.wal.Stat()
		now, err2 := os.Stat(db.walPath)
		if err1 != nil || err2 != nil || !os.SameFile(open, now) {
			db.wal.Close()
			db.wal = nil
		}
	}
	if db.wal == nil {
		f, err := os.Open(db.walPath)
		if err != nil {
			return err
		}
		db.wal = f
	}
	return datasync(db.wal)
}
