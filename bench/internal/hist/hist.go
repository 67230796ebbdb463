// Package hist is the load generator's latency histogram: log-linear buckets
// with about 1 % precision (HdrHistogram's idea with 7 bits of mantissa), a
// fixed 8 KB per histogram whatever the run length, so each worker records
// into its own without locks and the totals are merged at the end.
package hist

import (
	"math/bits"
	"time"
)

// subBits is the mantissa width: 128 sub-buckets per power of two, a
// relative error under 1/128.
const subBits = 7

const (
	subCount = 1 << subBits
	// Values below subCount nanoseconds are exact; above, each power of two
	// from 2^subBits to 2^62 has subCount buckets.
	bucketCount = subCount + (63-subBits)*subCount
)

// Histogram counts durations. The zero value is ready to use; it is not safe
// for concurrent use.
type Histogram struct {
	counts [bucketCount]uint32
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

// index maps a non-negative value to its bucket.
func index(v uint64) int {
	if v < subCount {
		return int(v)
	}
	exp := bits.Len64(v) - 1 - subBits // ≥ 0
	mant := int(v>>uint(exp)) - subCount
	return subCount + exp*subCount + mant
}

// lower is the smallest value of bucket i; upper the largest.
func lower(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	exp := (i - subCount) / subCount
	mant := (i - subCount) % subCount
	return uint64(subCount+mant) << uint(exp)
}

func upper(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	exp := (i - subCount) / subCount
	return lower(i) + (uint64(1) << uint(exp)) - 1
}

// Record adds one observation; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := index(uint64(d))
	if i >= bucketCount {
		i = bucketCount - 1
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds o's observations to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest observation (exact).
func (h *Histogram) Max() time.Duration { return h.max }

// Min is the smallest observation (exact).
func (h *Histogram) Min() time.Duration { return h.min }

// Mean is the arithmetic mean (exact).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the value below which a fraction q (0..1) of the
// observations fall: the upper bound of the bucket holding the rank
// ⌈q·n⌉, clamped to the exact min and max, so it never understates a tail.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			v := time.Duration(upper(i))
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}
