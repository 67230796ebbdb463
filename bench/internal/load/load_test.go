package load

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// fake answers after delay; every nth request fails with code.
type fake struct {
	delay time.Duration
	calls *atomic.Int64
	nth   int64
	code  string
	open  *atomic.Int64
}

func (f *fake) Do(ctx context.Context) string {
	n := f.calls.Add(1)
	time.Sleep(f.delay)
	if f.nth > 0 && n%f.nth == 0 {
		return f.code
	}
	return ""
}

func (f *fake) Close() error { f.open.Add(-1); return nil }

func newFake(delay time.Duration, nth int64, code string, calls, open *atomic.Int64) func(context.Context, int) (Client, string, error) {
	return func(context.Context, int) (Client, string, error) {
		open.Add(1)
		return &fake{delay: delay, calls: calls, nth: nth, code: code, open: open}, "", nil
	}
}

func TestCountIsExact(t *testing.T) {
	var calls, open atomic.Int64
	res, err := Run(context.Background(), Config{Concurrency: 8, Count: 500, NewClient: newFake(100*time.Microsecond, 0, "", &calls, &open)})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 500 || res.Failed != 0 || calls.Load() != 500 {
		t.Fatalf("ok %d failed %d calls %d, want 500 measured and sent", res.OK, res.Failed, calls.Load())
	}
	if res.Latency.Count() != 500 || res.Latency.Quantile(0.5) < 100*time.Microsecond {
		t.Errorf("latency n=%d p50=%v", res.Latency.Count(), res.Latency.Quantile(0.5))
	}
	if open.Load() != 0 {
		t.Errorf("%d clients left open", open.Load())
	}
	if res.Rate() <= 0 || res.Elapsed <= 0 {
		t.Errorf("rate %v elapsed %v", res.Rate(), res.Elapsed)
	}
}

func TestWarmupIsNotCounted(t *testing.T) {
	var calls, open atomic.Int64
	res, err := Run(context.Background(), Config{Concurrency: 2, Warmup: 50 * time.Millisecond, Count: 20,
		NewClient: newFake(time.Millisecond, 0, "", &calls, &open)})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 20 || calls.Load() <= 40 || res.WarmupOK != calls.Load()-20 {
		t.Fatalf("ok %d calls %d: want 20 measured after a warm-up of more than 20 requests", res.OK, calls.Load())
	}
}

func TestDurationAndErrors(t *testing.T) {
	var calls, open atomic.Int64
	res, err := Run(context.Background(), Config{Concurrency: 4, Duration: 100 * time.Millisecond,
		NewClient: newFake(time.Millisecond, 5, "Throttling", &calls, &open)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Elapsed < 100*time.Millisecond || res.Elapsed > time.Second {
		t.Errorf("elapsed %v for a 100 ms run", res.Elapsed)
	}
	total := res.OK + res.Failed
	if total != calls.Load() || res.Errors["Throttling"] != res.Failed || res.Failed < total/5-4 || res.Failed > total/5+4 {
		t.Errorf("ok %d failed %d (%v) of %d calls", res.OK, res.Failed, res.Errors, calls.Load())
	}
	if codes := res.ErrorCodes(); len(codes) != 1 || codes[0] != "Throttling" {
		t.Errorf("codes %v", codes)
	}
}

func TestRatePaces(t *testing.T) {
	var calls, open atomic.Int64
	start := time.Now()
	res, err := Run(context.Background(), Config{Concurrency: 4, Count: 50, Rate: 500, NewClient: newFake(0, 0, "", &calls, &open)})
	if err != nil {
		t.Fatal(err)
	}
	// 50 requests at 500/s take about 100 ms.
	if took := time.Since(start); took < 90*time.Millisecond || res.OK != 50 {
		t.Errorf("50 requests at 500/s took %v (ok %d)", took, res.OK)
	}
}

// broken fails with a closed connection once; the worker must reconnect.
type broken struct{ made *atomic.Int64 }

func (b *broken) Do(context.Context) string {
	if b.made.Load() == 1 {
		return "421" + BrokenSuffix
	}
	return ""
}
func (b *broken) Close() error { return nil }

func TestBrokenClientIsReplaced(t *testing.T) {
	var made atomic.Int64
	res, err := Run(context.Background(), Config{Concurrency: 1, Count: 10, NewClient: func(context.Context, int) (Client, string, error) {
		made.Add(1)
		return &broken{made: &made}, "", nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if made.Load() != 2 || res.Errors["421"] != 1 || res.OK != 9 {
		t.Errorf("clients made %d, errors %v, ok %d", made.Load(), res.Errors, res.OK)
	}
}

func TestClientErrorsAreCountedAndRetried(t *testing.T) {
	var tries atomic.Int64
	var calls, open atomic.Int64
	good := newFake(0, 0, "", &calls, &open)
	res, err := Run(context.Background(), Config{Concurrency: 1, Count: 5, NewClient: func(ctx context.Context, i int) (Client, string, error) {
		if tries.Add(1) == 1 {
			return nil, "dial: connection refused", errors.New("refused")
		}
		return good(ctx, i)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors["dial: connection refused"] != 1 || res.OK != 4 {
		t.Errorf("errors %v ok %d", res.Errors, res.OK)
	}
}

func TestCancel(t *testing.T) {
	var calls, open atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, Config{Concurrency: 2, Duration: time.Hour, NewClient: newFake(time.Millisecond, 0, "", &calls, &open)})
	if !errors.Is(err, context.DeadlineExceeded) || res == nil || res.OK == 0 {
		t.Fatalf("res %+v err %v", res, err)
	}
}

func TestConfigRefused(t *testing.T) {
	if _, err := Run(context.Background(), Config{Concurrency: 1, NewClient: newFake(0, 0, "", new(atomic.Int64), new(atomic.Int64))}); err == nil {
		t.Error("no duration or count accepted")
	}
	if _, err := Run(context.Background(), Config{Concurrency: 0, Count: 1}); err == nil {
		t.Error("no concurrency accepted")
	}
}
