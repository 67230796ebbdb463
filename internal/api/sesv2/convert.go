package sesv2

import "time"

// Small conversions between domain values and the generated shapes, whose
// optional scalars are pointers.

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// timePtr is t for a timestamp member, nil (absent) for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
