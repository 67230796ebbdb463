package awsproto

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Scalar text forms of the AWS protocols (Smithy "timestampFormat" trait;
// botocore serializers). Query and REST uri/querystring values use ISO 8601,
// REST headers use the HTTP date, JSON bodies use epoch seconds.

// IsTimestamp reports whether t is time.Time, the Go form of a timestamp shape.
func IsTimestamp(t reflect.Type) bool { return t == reflect.TypeFor[time.Time]() }

// FormatISO8601 renders t as AWS responses do: UTC, milliseconds, "Z"
// (e.g. 2024-01-02T03:04:05.678Z).
func FormatISO8601(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ParseISO8601 parses an ISO 8601 / RFC 3339 date-time, leniently: fractional
// seconds optional, "Z" or a numeric offset (with or without a colon), or no
// zone at all (read as UTC).
func ParseISO8601(s string) (time.Time, error) {
	// time.Parse accepts a fractional second after the seconds field even
	// when the layout has none.
	for _, layout := range [...]string{
		time.RFC3339,
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05", // no zone: UTC
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("expected an ISO 8601 timestamp")
}

// FormatEpochSeconds renders t as seconds since the epoch with millisecond
// precision and no trailing zeros (e.g. 1700000000.123 or 1700000000).
func FormatEpochSeconds(t time.Time) string {
	ms := t.UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	s := sign + strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	}
	return s
}

// maxEpochSeconds keeps the millisecond conversion exact and in range.
const maxEpochSeconds = 1e12

// ParseEpochSeconds parses seconds since the epoch, possibly fractional;
// precision beyond the millisecond is rounded away.
func ParseEpochSeconds(s string) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxEpochSeconds {
		return time.Time{}, errors.New("expected epoch seconds")
	}
	return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), nil
}

// FormatHTTPDate renders t as an RFC 9110 §5.6.7 IMF-fixdate.
func FormatHTTPDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// ParseTimestamp parses s in the named format, falling back to the other
// text forms so that a lenient client is still understood.
func ParseTimestamp(s, format string) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch format {
	case TimestampEpochSeconds:
		if t, err := ParseEpochSeconds(s); err == nil {
			return t, nil
		}
	case TimestampHTTPDate:
		if t, err := http.ParseTime(s); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := ParseISO8601(s); err == nil {
		return t, nil
	}
	if t, err := ParseEpochSeconds(s); err == nil {
		return t, nil
	}
	if t, err := http.ParseTime(s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, errors.New("expected a timestamp")
}

// FormatTimestamp renders t in the named format.
func FormatTimestamp(t time.Time, format string) string {
	switch format {
	case TimestampEpochSeconds:
		return FormatEpochSeconds(t)
	case TimestampHTTPDate:
		return FormatHTTPDate(t)
	}
	return FormatISO8601(t)
}

// DecodeBase64 decodes a blob leniently: standard or URL-safe alphabet,
// padded or not, ASCII whitespace (line wrapping) ignored.
func DecodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, errors.New("expected base64 data")
	}
	return b, nil
}

// FormatDouble renders f the way AWS XML does: always with a decimal point
// (200.0), and NaN / Infinity / -Infinity for the non-finite values.
func FormatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// ParseDouble parses a double, accepting the Smithy names of non-finite values.
func ParseDouble(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errors.New("expected a number")
	}
	return f, nil
}

// IsScalar reports whether t is a scalar wire type (or a pointer to one):
// string, bool, int64, float64, time.Time or []byte.
func IsScalar(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int64, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.Uint8
	}
	return IsTimestamp(t)
}

// SetText parses text into v, a settable scalar or pointer to one (allocated
// here). tsFormat picks the timestamp form; the others are tried as fallbacks.
// The error says what was expected, for the codec to put in its message.
func SetText(v reflect.Value, text, tsFormat string) error {
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		if err := SetText(p.Elem(), text, tsFormat); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	switch {
	case IsTimestamp(v.Type()):
		t, err := ParseTimestamp(text, tsFormat)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(t))
		return nil
	case v.Kind() == reflect.String:
		v.SetString(text)
		return nil
	case v.Kind() == reflect.Bool:
		switch {
		case strings.EqualFold(text, "true"):
			v.SetBool(true)
		case strings.EqualFold(text, "false"):
			v.SetBool(false)
		default:
			return errors.New("expected true or false")
		}
		return nil
	case v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return errors.New("expected an integer")
		}
		v.SetInt(n)
		return nil
	case v.Kind() == reflect.Float64:
		f, err := ParseDouble(strings.TrimSpace(text))
		if err != nil {
			return err
		}
		v.SetFloat(f)
		return nil
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		b, err := DecodeBase64(text)
		if err != nil {
			return err
		}
		v.SetBytes(b)
		return nil
	}
	return fmt.Errorf("awsproto: %v is not a scalar wire type", v.Type())
}

// FormatText renders scalar v (or the value a non-nil pointer points at) as
// text, timestamps in tsFormat. ok is false for a nil pointer or a non-scalar.
func FormatText(v reflect.Value, tsFormat string) (s string, ok bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	}
	switch {
	case IsTimestamp(v.Type()):
		return FormatTimestamp(v.Interface().(time.Time), tsFormat), true
	case v.Kind() == reflect.String:
		return v.String(), true
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case v.Kind() == reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	case v.Kind() == reflect.Float64:
		return FormatDouble(v.Float()), true
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return base64.StdEncoding.EncodeToString(v.Bytes()), true
	}
	return "", false
}
