package awsquery

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/sesamehq/sesame/internal/api/awsproto"
)

// Decode binds Query parameters to in, a pointer to a generated input
// struct, then validates it against the model (awsproto.Validate). The
// flattening rules (SES-BEHAVIOR.md §1.2):
//
//	Parent.Child=v                          structure member
//	Name.member.N=v, Name.member.N.Child=v  list element, N from 1; the list
//	                                        ends at the first missing N
//	Name=                                   an empty list
//	Name.entry.N.key=k, Name.entry.N.value=v  map entry
//
// Scalars: booleans true/false, decimal integers, doubles, ISO 8601
// timestamps, base64 blobs (standard or URL-safe, padded or not). Unknown
// parameters are ignored, as AWS ignores them. An empty value of a
// non-string member counts as absent.
//
// Errors caused by the request are *apierr.Error: MissingParameter for an
// absent required member (named by its Query path), InvalidParameterValue
// for a value that does not parse or breaks a constraint.
func Decode(form url.Values, in any) error {
	rv := reflect.ValueOf(in)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("awsquery: Decode needs a non-nil pointer to a struct, not %T", in)
	}
	d := decoder{form: form, parents: make(map[string]bool)}
	for k := range form {
		d.addParents(k)
	}
	if err := d.structure(rv.Elem(), ""); err != nil {
		return err
	}
	return ValidationError(awsproto.Validate(in))
}

// ValidationError maps model violations to the Query error SES answers with:
// MissingParameter for the first absent required member, otherwise
// InvalidParameterValue with AWS's "N validation errors detected: …" text.
// It returns nil for no violations.
func ValidationError(vs []awsproto.Violation) error {
	if len(vs) == 0 {
		return nil
	}
	for _, v := range vs {
		if v.Missing {
			return MissingParameter(v.QueryPath())
		}
	}
	return InvalidParameterValue(awsproto.ValidationMessage(vs))
}

// maxDepth bounds how many dotted segments of a parameter name are indexed;
// no SES shape nests deeper, and it keeps a hostile key from costing more
// than a few map entries.
const maxDepth = 16

type decoder struct {
	form url.Values
	// parents holds every proper dotted prefix of every parameter name, so
	// that "is anything under X set?" is one lookup.
	parents map[string]bool
}

func (d *decoder) addParents(key string) {
	n := 0
	for i := range len(key) {
		if key[i] != '.' {
			continue
		}
		if n++; n > maxDepth {
			return
		}
		d.parents[key[:i]] = true
	}
}

// has reports whether name, or anything under it, is set.
func (d *decoder) has(name string) bool {
	_, ok := d.form[name]
	return ok || d.parents[name]
}

func (d *decoder) structure(v reflect.Value, prefix string) error {
	members, err := awsproto.Members(v.Type())
	if err != nil {
		return err
	}
	for _, m := range members {
		name := m.Name
		if prefix != "" {
			name = prefix + "." + m.Name
		}
		if err := d.value(v.Field(m.Index), name, m.TimestampFormat); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) value(v reflect.Value, name, ts string) error {
	t := v.Type()
	switch {
	case awsproto.IsScalar(t):
		vals := d.form[name]
		if len(vals) == 0 || (vals[0] == "" && t.Kind() != reflect.String) {
			return nil
		}
		if err := awsproto.SetText(v, vals[0], ts); err != nil {
			return invalidValue(name, vals[0], err)
		}
		return nil
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		if !d.parents[name] {
			return nil
		}
		p := reflect.New(t.Elem())
		if err := d.structure(p.Elem(), name); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case t.Kind() == reflect.Struct:
		return d.structure(v, name)
	case t.Kind() == reflect.Slice:
		return d.list(v, name, ts)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		return d.mapping(v, name, ts)
	}
	return fmt.Errorf("awsquery: %s: unsupported type %v", name, t)
}

func (d *decoder) list(v reflect.Value, name, ts string) error {
	s := reflect.MakeSlice(v.Type(), 0, 0)
	// Each round needs a parameter of its own, so the loop ends within
	// len(form) rounds.
	for n := 1; ; n++ {
		el := name + ".member." + strconv.Itoa(n)
		if !d.has(el) {
			break
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if err := d.value(e, el, ts); err != nil {
			return err
		}
		s = reflect.Append(s, e)
	}
	if s.Len() == 0 {
		if _, ok := d.form[name]; !ok {
			return nil // absent, as opposed to "Name=" (empty)
		}
	}
	v.Set(s)
	return nil
}

func (d *decoder) mapping(v reflect.Value, name, ts string) error {
	m := reflect.MakeMap(v.Type())
	for n := 1; ; n++ {
		entry := name + ".entry." + strconv.Itoa(n)
		if !d.has(entry) {
			break
		}
		keys := d.form[entry+".key"]
		if len(keys) == 0 {
			return InvalidParameterValue(fmt.Sprintf("The parameter %s.key is missing.", entry))
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if err := d.value(e, entry+".value", ts); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(keys[0]).Convert(v.Type().Key()), e)
	}
	if m.Len() == 0 {
		if _, ok := d.form[name]; !ok {
			return nil
		}
	}
	v.Set(m)
	return nil
}

// maxQuote bounds how much of a bad value an error message quotes.
const maxQuote = 64

func invalidValue(name, text string, err error) error {
	if len(text) > maxQuote {
		text = strings.ToValidUTF8(text[:maxQuote], "") + "..."
	}
	return InvalidParameterValue(fmt.Sprintf("Invalid value '%s' for parameter %s: %v.", text, name, err))
}
