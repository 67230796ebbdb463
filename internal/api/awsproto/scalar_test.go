package awsproto

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestISO8601(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("x", 3600))
	if got := FormatISO8601(ts); got != "2024-01-02T02:04:05.678Z" {
		t.Errorf("FormatISO8601 = %s", got)
	}
	want := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, s := range []string{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z", "2024-01-02T04:04:05+01:00", "2024-01-02T04:04:05+0100", "2024-01-02T03:04:05"} {
		got, err := ParseISO8601(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseISO8601(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseISO8601("yesterday"); err == nil {
		t.Error("ParseISO8601 accepted nonsense")
	}
}

func TestEpochSeconds(t *testing.T) {
	for _, tc := range []struct {
		t time.Time
		s string
	}{
		{time.UnixMilli(1700000000123), "1700000000.123"},
		{time.UnixMilli(1700000000100), "1700000000.1"},
		{time.Unix(1700000000, 0), "1700000000"},
		{time.UnixMilli(-1500), "-1.5"},
		{time.UnixMilli(0), "0"},
	} {
		if got := FormatEpochSeconds(tc.t); got != tc.s {
			t.Errorf("FormatEpochSeconds(%v) = %s, want %s", tc.t, got, tc.s)
		}
		back, err := ParseEpochSeconds(tc.s)
		if err != nil || !back.Equal(tc.t) {
			t.Errorf("ParseEpochSeconds(%s) = %v, %v", tc.s, back, err)
		}
	}
	for _, bad := range []string{"NaN", "1e300", "x", ""} {
		if _, err := ParseEpochSeconds(bad); err == nil {
			t.Errorf("ParseEpochSeconds(%q) accepted", bad)
		}
	}
}

func TestParseTimestampFallbacks(t *testing.T) {
	want := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	for _, tc := range []struct{ s, format string }{
		{"1700000000", TimestampEpochSeconds},
		{"2023-11-14T22:13:20Z", TimestampEpochSeconds},
		{"Tue, 14 Nov 2023 22:13:20 GMT", TimestampHTTPDate},
		{"1700000000", TimestampISO8601},
		{"Tue, 14 Nov 2023 22:13:20 GMT", ""},
	} {
		got, err := ParseTimestamp(tc.s, tc.format)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTimestamp(%q, %q) = %v, %v", tc.s, tc.format, got, err)
		}
	}
	if got := FormatTimestamp(want, TimestampHTTPDate); got != "Tue, 14 Nov 2023 22:13:20 GMT" {
		t.Errorf("http date %s", got)
	}
	if got := FormatTimestamp(want, ""); got != "2023-11-14T22:13:20.000Z" {
		t.Errorf("default %s", got)
	}
}

func TestDecodeBase64Lenient(t *testing.T) {
	want := []byte{0xfb, 0xff, 0xbf, 'a'}
	for _, s := range []string{"+/+/YQ==", "+/+/YQ", "-_-_YQ==", "-_-_YQ", "+/+/\r\nYQ=="} {
		got, err := DecodeBase64(s)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeBase64(%q) = %v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"a", "@@@@", "+/-_"} {
		if _, err := DecodeBase64(bad); err == nil {
			t.Errorf("DecodeBase64(%q) accepted", bad)
		}
	}
}

func TestDoubles(t *testing.T) {
	for f, s := range map[float64]string{200: "200.0", 1.5: "1.5", 0: "0.0", -3: "-3.0", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity"} {
		if got := FormatDouble(f); got != s {
			t.Errorf("FormatDouble(%v) = %s", f, got)
		}
		if back, err := ParseDouble(s); err != nil || back != f {
			t.Errorf("ParseDouble(%s) = %v, %v", s, back, err)
		}
	}
	if got := FormatDouble(math.NaN()); got != "NaN" {
		t.Errorf("NaN: %s", got)
	}
	if f, err := ParseDouble("NaN"); err != nil || !math.IsNaN(f) {
		t.Errorf("ParseDouble(NaN) = %v, %v", f, err)
	}
	if _, err := ParseDouble("1e999"); err == nil {
		t.Error("overflow accepted")
	}
}

func TestSetAndFormatText(t *testing.T) {
	var s struct {
		S  string
		B  *bool
		I  *int64
		F  *float64
		T  *time.Time
		Bl []byte
	}
	v := reflect.ValueOf(&s).Elem()
	for i, text := range []string{"hi", "TRUE", "-42", "2.5", "2024-01-02T03:04:05Z", "aGk="} {
		if err := SetText(v.Field(i), text, ""); err != nil {
			t.Fatalf("field %d: %v", i, err)
		}
	}
	if s.S != "hi" || !*s.B || *s.I != -42 || *s.F != 2.5 || s.T.Year() != 2024 || string(s.Bl) != "hi" {
		t.Errorf("%+v", s)
	}
	for i, want := range []string{"hi", "true", "-42", "2.5", "2024-01-02T03:04:05.000Z", "aGk="} {
		if got, ok := FormatText(v.Field(i), ""); !ok || got != want {
			t.Errorf("field %d: %q %v", i, got, ok)
		}
	}
	for i, bad := range []string{"", "yes", "1.5", "x", "never", "!"} {
		if i == 0 {
			continue // any string is a string
		}
		if err := SetText(v.Field(i), bad, ""); err == nil {
			t.Errorf("field %d accepted %q", i, bad)
		}
	}
	var nilPtr *bool
	if _, ok := FormatText(reflect.ValueOf(nilPtr), ""); ok {
		t.Error("nil pointer formatted")
	}
	var notScalar struct{ M map[string]string }
	if err := SetText(reflect.ValueOf(&notScalar).Elem().Field(0), "x", ""); err == nil {
		t.Error("map accepted as scalar")
	}
}
