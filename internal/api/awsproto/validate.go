package awsproto

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validation in the words of AWS's Coral frameworks, which answer a bad input
// with e.g.
//
//	1 validation error detected: Value 'x' at 'deliveryOptions.tlsPolicy' failed
//	to satisfy constraint: Member must satisfy enum value set: [Require, Optional]
//
// and join several with "; " after "N validation errors detected: ". Paths
// are lower-camel member names; a list element is "<list>.<n>.member".

// PathElem is one step from the input root to a violating value.
type PathElem struct {
	// Member is the model member name (the Go field name); "" for a list
	// element or map entry.
	Member string
	// Index is a list element's 1-based position; 0 otherwise.
	Index int
	// Key is a map entry's key, when IsKey.
	Key   string
	IsKey bool
}

// Violation is one failed constraint.
type Violation struct {
	Path []PathElem
	// Missing is set when a required member is absent.
	Missing bool
	// Value is the offending value as text; HasValue is false when the value
	// is absent or sensitive (AWS then writes "Value at '…'").
	Value    string
	HasValue bool
	// Constraint is AWS's phrase, e.g. "Member must not be null".
	Constraint string
}

// CoralPath renders the path as AWS validation messages do:
// "destination.toAddresses.1.member".
func (v Violation) CoralPath() string {
	var b strings.Builder
	for i, p := range v.Path {
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case p.Member != "":
			r, n := utf8.DecodeRuneInString(p.Member)
			b.WriteString(strings.ToLower(string(r)))
			b.WriteString(p.Member[n:])
		case p.IsKey:
			b.WriteString(p.Key)
		default:
			b.WriteString(strconv.Itoa(p.Index))
			b.WriteString(".member")
		}
	}
	return b.String()
}

// QueryPath renders the path as a Query parameter name:
// "Destination.ToAddresses.member.1".
func (v Violation) QueryPath() string {
	var b strings.Builder
	for i, p := range v.Path {
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case p.Member != "":
			b.WriteString(p.Member)
		case p.IsKey:
			b.WriteString(p.Key)
		default:
			b.WriteString("member.")
			b.WriteString(strconv.Itoa(p.Index))
		}
	}
	return b.String()
}

// Message is the violation as one clause of an AWS validation message.
func (v Violation) Message() string {
	switch {
	case v.Missing:
		return fmt.Sprintf("Value null at '%s' failed to satisfy constraint: %s", v.CoralPath(), v.Constraint)
	case !v.HasValue:
		return fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", v.CoralPath(), v.Constraint)
	}
	return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", v.Value, v.CoralPath(), v.Constraint)
}

// ValidationMessage joins violations the way AWS does:
// "2 validation errors detected: …; …". It returns "" for none.
func ValidationMessage(vs []Violation) string {
	if len(vs) == 0 {
		return ""
	}
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Message()
	}
	noun := "errors"
	if len(vs) == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(vs), noun, strings.Join(msgs, "; "))
}

// Validate checks a decoded input (pointer to a generated struct) against the
// model constraints carried in its `aws` tags: required members, enum value
// sets, string/blob/list/map lengths and numeric ranges, recursively, in
// member order. A string member holding "" counts as absent: the Go shapes
// cannot tell an empty string from a missing one.
func Validate(in any) []Violation {
	v := reflect.ValueOf(in)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var w validator
	w.structure(v, make([]PathElem, 0, 8))
	return w.out
}

// maxEcho bounds how much of an offending value is quoted back.
const maxEcho = 256

// validator collects violations. The path it is given grows and shrinks as
// it walks the input (each step appends to it in place), so a violation
// takes a copy: a valid input costs no allocation per member.
type validator struct{ out []Violation }

func (w *validator) add(path []PathElem, v reflect.Value, sensitive bool, constraint string) {
	vi := Violation{Path: slices.Clone(path), Constraint: constraint}
	if !sensitive {
		vi.Value, vi.HasValue = echo(v)
	}
	w.out = append(w.out, vi)
}

func (w *validator) structure(v reflect.Value, path []PathElem) {
	members, err := Members(v.Type())
	if err != nil {
		// Generated shapes always carry valid tags (tested in the wire packages).
		return
	}
	for _, m := range members {
		p := append(path, PathElem{Member: m.Field})
		fv := v.Field(m.Index)
		if absent(fv) {
			if m.Required {
				w.out = append(w.out, Violation{Path: slices.Clone(p), Missing: true, Constraint: "Member must not be null"})
			}
			continue
		}
		w.value(fv, p, m.Constraints, m.Elem, m.Key, m.Sensitive)
	}
}

// value checks one present value against c; elem and key constrain the
// elements of a list or the values and keys of a map.
func (w *validator) value(v reflect.Value, path []PathElem, c, elem, key Constraints, sens bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if len(c.Enum) > 0 && !slices.Contains(c.Enum, s) {
			w.add(path, v, sens, "Member must satisfy enum value set: ["+strings.Join(c.Enum, ", ")+"]")
		}
		w.length(v, path, c, int64(utf8.RuneCountInString(s)), sens)
	case reflect.Int64:
		w.rangeCheck(v, path, c, float64(v.Int()), sens)
	case reflect.Float64:
		w.rangeCheck(v, path, c, v.Float(), sens)
	case reflect.Slice:
		w.length(v, path, c, int64(v.Len()), sens)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // blob
		}
		for i := range v.Len() {
			ep := append(path, PathElem{Index: i + 1})
			w.element(v.Index(i), ep, elem, sens)
		}
	case reflect.Map:
		w.length(v, path, c, int64(v.Len()), sens)
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			if !key.Empty() {
				var kv validator
				kv.value(k, path, key, Constraints{}, Constraints{}, sens)
				for _, x := range kv.out {
					x.Constraint = "Map keys must satisfy constraint: [" + x.Constraint + "]"
					w.out = append(w.out, x)
				}
			}
			ep := append(path, PathElem{Key: k.String(), IsKey: true})
			w.element(v.MapIndex(k), ep, elem, sens)
		}
	case reflect.Struct:
		if !IsTimestamp(v.Type()) {
			w.structure(v, path)
		}
	}
}

// element checks a list element or map value.
func (w *validator) element(v reflect.Value, path []PathElem, c Constraints, sens bool) {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && !IsTimestamp(t) {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		w.structure(v, path)
		return
	}
	w.value(v, path, c, Constraints{}, Constraints{}, sens)
}

func (w *validator) length(v reflect.Value, path []PathElem, c Constraints, n int64, sens bool) {
	if c.HasMin && n < c.Min {
		w.add(path, v, sens, fmt.Sprintf("Member must have length greater than or equal to %d", c.Min))
	}
	if c.HasMax && n > c.Max {
		w.add(path, v, sens, fmt.Sprintf("Member must have length less than or equal to %d", c.Max))
	}
}

func (w *validator) rangeCheck(v reflect.Value, path []PathElem, c Constraints, n float64, sens bool) {
	if c.HasMin && n < float64(c.Min) {
		w.add(path, v, sens, fmt.Sprintf("Member must have value greater than or equal to %d", c.Min))
	}
	if c.HasMax && n > float64(c.Max) {
		w.add(path, v, sens, fmt.Sprintf("Member must have value less than or equal to %d", c.Max))
	}
}

// absent reports whether a member holds no value on the wire.
func absent(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	}
	return false
}

// echo renders a value as AWS quotes it back (Java toString style: lists as
// "[a, b]", maps as "{k=v}"), truncated to maxEcho bytes. Structures are not
// echoed.
func echo(v reflect.Value) (string, bool) {
	var b strings.Builder
	if !echoTo(&b, v) {
		return "", false
	}
	s := b.String()
	if len(s) > maxEcho {
		cut := maxEcho
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s, true
}

func echoTo(b *strings.Builder, v reflect.Value) bool {
	if b.Len() > maxEcho {
		return true // the rest is cut anyway
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			b.WriteString("null")
			return true
		}
		v = v.Elem()
	}
	if s, ok := FormatText(v, TimestampISO8601); ok {
		b.WriteString(s)
		return true
	}
	switch v.Kind() {
	case reflect.Slice:
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			if !echoTo(b, v.Index(i)) {
				return false
			}
		}
		b.WriteByte(']')
		return true
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k.String())
			b.WriteByte('=')
			if !echoTo(b, v.MapIndex(k)) {
				return false
			}
		}
		b.WriteByte('}')
		return true
	}
	return false
}
