// Package ceiling is the durable ceiling: the fastest honest server for the
// same work as SES v2 SendEmail on this machine — a bare net/http handler
// that parses the request body, appends a record to a file, and answers
// with a MessageId only after an fsync covers the record. Concurrent
// requests share one fsync (group commit), as Sesame's store does. Sesame's
// accept rate is judged against this ceiling.
package ceiling

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"sync/atomic"
)

// maxBatch bounds the records one write and fsync cover.
const maxBatch = 1024

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("ceiling: log closed")

// Log is an append-only file with group commit.
type Log struct {
	f      *os.File
	reqs   chan *appendReq
	done   chan struct{}
	mu     sync.RWMutex
	closed bool

	records, syncs atomic.Int64
}

type appendReq struct {
	rec  []byte
	errc chan error
}

// Open creates or appends to the file at path.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	l := &Log{f: f, reqs: make(chan *appendReq, maxBatch), done: make(chan struct{})}
	go l.writer()
	return l, nil
}

// Append writes rec (length-prefixed) and returns once it is on disk.
func (l *Log) Append(ctx context.Context, rec []byte) error {
	r := &appendReq{rec: rec, errc: make(chan error, 1)}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	l.mu.RUnlock()
	return <-r.errc
}

// Stats returns the records written and the fsyncs that covered them.
func (l *Log) Stats() (records, syncs int64) { return l.records.Load(), l.syncs.Load() }

// Close writes what is queued and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.reqs)
	l.mu.Unlock()
	<-l.done
	return l.f.Close()
}

// writer takes whatever requests are waiting, writes them with one write
// and one fsync, and answers them all.
func (l *Log) writer() {
	defer close(l.done)
	batch := make([]*appendReq, 0, maxBatch)
	var buf []byte
	for r := range l.reqs {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		buf = buf[:0]
		for _, r := range batch {
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(r.rec)))
			buf = append(buf, r.rec...)
		}
		_, err := l.f.Write(buf)
		if err == nil {
			err = l.f.Sync()
		}
		l.records.Add(int64(len(batch)))
		l.syncs.Add(1)
		for _, r := range batch {
			r.errc <- err
		}
	}
}
