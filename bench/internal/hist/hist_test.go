package hist

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		v := r.Uint64N(1 << 40)
		i := index(v)
		if lo, hi := lower(i), upper(i); v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if lo, hi := lower(i), upper(i); lo > 0 && float64(hi-lo)/float64(lo) > 1.0/subCount {
			t.Fatalf("bucket %d [%d, %d] wider than 1/%d", i, lo, hi, subCount)
		}
	}
	for i := 1; i < 2000; i++ {
		if lower(i) != upper(i-1)+1 {
			t.Fatalf("gap between buckets %d and %d", i-1, i)
		}
	}
}

func TestQuantilesMatchSortedSample(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h Histogram
	var vals []time.Duration
	for range 50000 {
		// A long-tailed latency: mostly ~1-5 ms, some up to 200 ms.
		d := time.Duration(r.ExpFloat64() * float64(2*time.Millisecond))
		if r.IntN(100) == 0 {
			d += time.Duration(r.Int64N(int64(200 * time.Millisecond)))
		}
		h.Record(d)
		vals = append(vals, d)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals))+0.999999)-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount+1 {
			t.Errorf("p%g = %v, exact %v", q*100, got, exact)
		}
	}
	if h.Max() != vals[len(vals)-1] || h.Min() != vals[0] || h.Count() != uint64(len(vals)) {
		t.Errorf("max %v min %v n %d, want %v %v %d", h.Max(), h.Min(), h.Count(), vals[len(vals)-1], vals[0], len(vals))
	}
	if h.Quantile(1) != h.Max() {
		t.Errorf("p100 %v != max %v", h.Quantile(1), h.Max())
	}
}

func TestMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{})
	for _, q := range []float64{0.1, 0.5, 0.99} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged p%g %v, want %v", q*100, m.Quantile(q), all.Quantile(q))
		}
	}
	if m.Count() != 1000 || m.Mean() != all.Mean() || m.Min() != 0 || m.Max() != 999*time.Microsecond {
		t.Errorf("merged n=%d mean=%v min=%v max=%v", m.Count(), m.Mean(), m.Min(), m.Max())
	}
}

func TestEmpty(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	h.Record(-time.Second)
	if h.Max() != 0 || h.Count() != 1 {
		t.Fatalf("negative duration: max %v n %d", h.Max(), h.Count())
	}
}
