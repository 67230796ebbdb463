// Package load runs a closed-loop load test: a fixed number of workers, each
// with its own client (its own HTTP connection or SMTP session), sending one
// request after another for a warm-up and then for a measured duration or
// count. Each worker records latencies into its own histogram; the totals
// are merged once at the end, so the generator itself stays cheap.
package load

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesamehq/sesame/bench/internal/hist"
)

// Client sends one request at a time for one worker.
type Client interface {
	// Do sends one request and returns "" when it succeeded, else a short
	// code naming the failure (an SES error code, an SMTP reply code, a
	// network error class) for the error table.
	Do(ctx context.Context) (code string)
	Close() error
}

// Config is one run.
type Config struct {
	Concurrency int
	// Warmup runs before measuring; its requests are not counted.
	Warmup time.Duration
	// Duration bounds the measured phase; Count bounds its requests. At
	// least one must be set; the run stops at whichever comes first.
	Duration time.Duration
	Count    int64
	// Rate, when positive, paces all workers together to about this many
	// requests per second (an open-loop target); zero sends as fast as
	// the responses allow.
	Rate float64
	// NewClient makes worker i's client. A worker whose client cannot be
	// made retries after a pause, counting the failure under its code.
	NewClient func(ctx context.Context, worker int) (Client, string, error)
}

// Result is a finished run.
type Result struct {
	Concurrency int
	Start       time.Time // start of the measured phase
	Elapsed     time.Duration
	OK          int64
	Failed      int64
	WarmupOK    int64 // successful requests during the warm-up, not in OK
	Errors      map[string]int64
	Latency     hist.Histogram // of successful requests
}

// Rate is successful requests per second over the measured phase.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// ErrorCodes returns the error codes, most frequent first.
func (r *Result) ErrorCodes() []string {
	codes := make([]string, 0, len(r.Errors))
	for c := range r.Errors {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if r.Errors[codes[i]] != r.Errors[codes[j]] {
			return r.Errors[codes[i]] > r.Errors[codes[j]]
		}
		return codes[i] < codes[j]
	})
	return codes
}

type worker struct {
	lat    hist.Histogram
	warm   int64
	ok     int64
	failed int64
	errs   map[string]int64
	last   time.Time // completion of the last measured request
}

// Run runs the test until it is done or ctx ends (then the partial result is
// returned with ctx's error).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Concurrency <= 0 || cfg.NewClient == nil {
		return nil, errors.New("load: need a concurrency and a client constructor")
	}
	if cfg.Duration <= 0 && cfg.Count <= 0 {
		return nil, errors.New("load: need a duration or a count")
	}
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	var measureUntil time.Time
	if cfg.Duration > 0 {
		measureUntil = measureFrom.Add(cfg.Duration)
	}
	var tickets atomic.Int64 // measured requests handed out (Count mode)
	var paced atomic.Int64   // pacing slots handed out (Rate mode)
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / cfg.Rate)
	}

	workers := make([]*worker, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{errs: map[string]int64{}}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c Client
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for ctx.Err() == nil {
				if interval > 0 {
					slot := start.Add(time.Duration(paced.Add(1)-1) * interval)
					if d := time.Until(slot); d > 0 {
						t := time.NewTimer(d)
						select {
						case <-ctx.Done():
							t.Stop()
							return
						case <-t.C:
						}
					}
				}
				now := time.Now()
				measured := !now.Before(measureFrom)
				if measured && !measureUntil.IsZero() && !now.Before(measureUntil) {
					return
				}
				if measured && cfg.Count > 0 && tickets.Add(1) > cfg.Count {
					return
				}
				if c == nil {
					nc, code, err := cfg.NewClient(ctx, i)
					if err != nil {
						if ctx.Err() != nil {
							return
						}
						if measured {
							w.failed++
							w.errs[code]++
						}
						pause(ctx, 100*time.Millisecond)
						continue
					}
					c = nc
					now = time.Now() // connection set-up is not request latency
				}
				code := c.Do(ctx)
				end := time.Now()
				if code != "" && ctx.Err() != nil {
					return // interrupted, not failed
				}
				if isBroken(code) {
					c.Close()
					c = nil
				}
				if !measured {
					if code == "" {
						w.warm++
					}
					continue
				}
				w.last = end
				if code == "" {
					w.ok++
					w.lat.Record(end.Sub(now))
				} else {
					w.failed++
					w.errs[trimBroken(code)]++
				}
			}
		}()
	}
	wg.Wait()

	res := &Result{Concurrency: cfg.Concurrency, Start: measureFrom, Errors: map[string]int64{}}
	var last time.Time
	for _, w := range workers {
		res.Latency.Merge(&w.lat)
		res.OK += w.ok
		res.WarmupOK += w.warm
		res.Failed += w.failed
		for c, n := range w.errs {
			res.Errors[c] += n
		}
		if w.last.After(last) {
			last = w.last
		}
	}
	if !last.IsZero() {
		res.Elapsed = last.Sub(measureFrom)
	}
	return res, ctx.Err()
}

// A client returns a code ending in BrokenSuffix when its connection can no
// longer be used: the worker closes it and makes a new client.
const BrokenSuffix = " (connection closed)"

func isBroken(code string) bool {
	return len(code) > len(BrokenSuffix) && code[len(code)-len(BrokenSuffix):] == BrokenSuffix
}

func trimBroken(code string) string {
	if isBroken(code) {
		return code[:len(code)-len(BrokenSuffix)]
	}
	return code
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
