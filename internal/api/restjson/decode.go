package restjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/sesamehq/sesame/internal/api/awsproto"
)

// Decode binds a request for op to in, a pointer to the generated input
// struct, then validates it against the model (awsproto.Validate):
//
//   - loc=uri members from params, the labels Router.Match returned;
//   - loc=querystring members from r.URL's query: a list takes every value
//     of its repeated key, a map takes every parameter no other member binds;
//     timestamps are ISO 8601;
//   - loc=header members from r.Header (timestamps as HTTP dates, lists
//     comma-separated), loc=headers maps from the headers with their prefix;
//   - every other member from the JSON object in body (read and bounded by
//     the caller): timestamps as epoch seconds (ISO 8601 strings accepted
//     too), blobs base64. An empty body is an empty object; unknown members
//     are ignored; null is absent. A querystring member missing from the
//     query string is also taken from the body, under its member name, for
//     the POST forms of v2wire.RouteAliases.
//
// Errors caused by the request are *apierr.Error, BadRequestException: for
// malformed JSON, a value of the wrong type, or a model violation (in AWS's
// "N validation errors detected: …" words).
func Decode(r *http.Request, body []byte, op awsproto.Operation, params map[string]string, in any) error {
	rv := reflect.ValueOf(in)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("restjson: %s: Decode needs a non-nil pointer to a struct, not %T", op.Name, in)
	}
	v := rv.Elem()
	members, err := awsproto.Members(v.Type())
	if err != nil {
		return err
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return BadRequest("The query string is malformed.")
	}
	lb := lazyBody{raw: body}
	for _, m := range members {
		fv := v.Field(m.Index)
		switch m.Location {
		case awsproto.LocURI:
			if text, ok := params[m.Name]; ok {
				err = setText(fv, m.Name, text, tsOr(m.TimestampFormat, awsproto.TimestampISO8601))
			}
		case awsproto.LocQueryString:
			err = bindQuery(fv, m, members, query)
			// Newer SDKs send some List operations as POST with these
			// members in the body (v2wire.RouteAliases). The model binds no
			// body here, so a body that does not parse is ignored.
			if err == nil && absent(fv) && len(body) > 0 {
				if doc, perr := lb.object(); perr == nil {
					if j, ok := doc[m.Field]; ok {
						err = bindJSON(fv, j, m.Field, m.TimestampFormat)
					}
				}
			}
		case awsproto.LocHeader:
			err = bindHeader(fv, m, r.Header)
		case awsproto.LocHeaders:
			bindHeaderPrefix(fv, m, r.Header)
		default:
			var doc map[string]any
			if doc, err = lb.object(); err == nil {
				if j, ok := doc[m.Name]; ok {
					err = bindJSON(fv, j, m.Name, m.TimestampFormat)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	if vs := awsproto.Validate(in); len(vs) > 0 {
		return BadRequest(awsproto.ValidationMessage(vs))
	}
	return nil
}

// absent reports whether a bound member is still unset.
func absent(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	}
	return false
}

// lazyBody parses the request body on first use only: an operation whose
// model binds no body member never looks at it.
type lazyBody struct {
	raw  []byte
	done bool
	doc  map[string]any
	err  error
}

func (b *lazyBody) object() (map[string]any, error) {
	if !b.done {
		b.doc, b.err = parseBody(b.raw)
		b.done = true
	}
	return b.doc, b.err
}

// parseBody parses the JSON object of a request body; empty means {}.
func parseBody(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, BadRequest("The request body is not valid JSON.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, BadRequest("The request body is not valid JSON.")
	}
	switch d := doc.(type) {
	case map[string]any:
		return d, nil
	case nil:
		return map[string]any{}, nil
	}
	return nil, BadRequest("The request body must be a JSON object.")
}

func setText(v reflect.Value, name, text, ts string) error {
	if err := awsproto.SetText(v, text, ts); err != nil {
		return invalid(name, err)
	}
	return nil
}

// maxQuote bounds how much of a value or path an error message may quote.
const maxQuote = 64

func invalid(path string, err error) error {
	return BadRequest(fmt.Sprintf("Invalid value at '%s': %v.", quote(path), err))
}

// quote bounds a client-chosen path (map keys are part of it) in a message.
func quote(path string) string {
	if len(path) > maxQuote {
		return strings.ToValidUTF8(path[:maxQuote], "") + "..."
	}
	return path
}

func bindQuery(v reflect.Value, m awsproto.Member, members []awsproto.Member, query url.Values) error {
	ts := tsOr(m.TimestampFormat, awsproto.TimestampISO8601)
	t := v.Type()
	switch {
	case t.Kind() == reflect.Map:
		// A querystring map (Smithy @httpQueryParams) takes what no named
		// member binds.
		out := reflect.MakeMap(t)
		for k, vals := range query {
			if len(vals) == 0 || boundQueryName(members, k) {
				continue
			}
			e := reflect.New(t.Elem()).Elem()
			switch {
			case e.Kind() == reflect.String:
				e.SetString(vals[0])
			case e.Kind() == reflect.Slice && e.Type().Elem().Kind() == reflect.String:
				e.Set(reflect.ValueOf(vals).Convert(e.Type()))
			default:
				return fmt.Errorf("restjson: %s: unsupported query map %v", m.Field, t)
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
		if out.Len() > 0 {
			v.Set(out)
		}
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		vals, ok := query[m.Name]
		if !ok {
			return nil
		}
		s := reflect.MakeSlice(t, len(vals), len(vals))
		for i, text := range vals {
			if err := setText(s.Index(i), m.Name, text, ts); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	vals := query[m.Name]
	if len(vals) == 0 || (vals[0] == "" && t.Kind() != reflect.String) {
		return nil
	}
	return setText(v, m.Name, vals[0], ts)
}

func boundQueryName(members []awsproto.Member, name string) bool {
	for _, m := range members {
		if m.Location == awsproto.LocQueryString && m.Name == name {
			return true
		}
	}
	return false
}

func bindHeader(v reflect.Value, m awsproto.Member, h http.Header) error {
	vals := h.Values(m.Name)
	if len(vals) == 0 {
		return nil
	}
	ts := tsOr(m.TimestampFormat, awsproto.TimestampHTTPDate)
	t := v.Type()
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		var items []string
		for _, hv := range vals {
			for item := range strings.SplitSeq(hv, ",") {
				items = append(items, strings.TrimSpace(item))
			}
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, text := range items {
			if err := setText(s.Index(i), m.Name, text, ts); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	return setText(v, m.Name, vals[0], ts)
}

func bindHeaderPrefix(v reflect.Value, m awsproto.Member, h http.Header) {
	t := v.Type()
	if t.Kind() != reflect.Map || t.Elem().Kind() != reflect.String {
		return
	}
	out := reflect.MakeMap(t)
	prefix := strings.ToLower(m.Name)
	for name, vals := range h {
		if len(vals) > 0 && len(name) > len(prefix) && strings.ToLower(name[:len(prefix)]) == prefix {
			out.SetMapIndex(reflect.ValueOf(name[len(prefix):]).Convert(t.Key()), reflect.ValueOf(vals[0]).Convert(t.Elem()))
		}
	}
	if out.Len() > 0 {
		v.Set(out)
	}
}

// bindJSON stores JSON value j (decoded with UseNumber) in v. path names the
// value in errors, e.g. "Content.Simple.Subject.Data".
func bindJSON(v reflect.Value, j any, path, ts string) error {
	if j == nil {
		return nil
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := bindJSON(p.Elem(), j, path, ts); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	switch {
	case awsproto.IsTimestamp(t):
		var text string
		switch x := j.(type) {
		case json.Number:
			text = x.String()
		case string:
			text = x
		default:
			return mismatch(path, "a timestamp")
		}
		return setText(v, path, text, tsOr(ts, awsproto.TimestampEpochSeconds))
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		s, ok := j.(string)
		if !ok {
			return mismatch(path, "a base64 string")
		}
		return setText(v, path, s, ts)
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := j.(string)
		if !ok {
			return mismatch(path, "a string")
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := j.(bool)
		if !ok {
			return mismatch(path, "a boolean")
		}
		v.SetBool(b)
	case reflect.Int64:
		n, ok := j.(json.Number)
		if !ok {
			return mismatch(path, "an integer")
		}
		i, err := jsonInt(n)
		if err != nil {
			return invalid(path, err)
		}
		v.SetInt(i)
	case reflect.Float64:
		var text string
		switch x := j.(type) {
		case json.Number:
			text = x.String()
		case string: // "NaN", "Infinity", "-Infinity"
			text = x
		default:
			return mismatch(path, "a number")
		}
		f, err := awsproto.ParseDouble(text)
		if err != nil {
			return invalid(path, err)
		}
		v.SetFloat(f)
	case reflect.Struct:
		obj, ok := j.(map[string]any)
		if !ok {
			return mismatch(path, "an object")
		}
		members, err := awsproto.Members(t)
		if err != nil {
			return err
		}
		for _, m := range members {
			if mj, ok := obj[m.Name]; ok {
				if err := bindJSON(v.Field(m.Index), mj, path+"."+m.Name, m.TimestampFormat); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		arr, ok := j.([]any)
		if !ok {
			return mismatch(path, "a list")
		}
		s := reflect.MakeSlice(t, 0, len(arr))
		for i, ej := range arr {
			if ej == nil {
				continue // SES lists are not sparse
			}
			e := reflect.New(t.Elem()).Elem()
			if err := bindJSON(e, ej, path+"."+strconv.Itoa(i+1), ts); err != nil {
				return err
			}
			s = reflect.Append(s, e)
		}
		v.Set(s)
	case reflect.Map:
		obj, ok := j.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			return mismatch(path, "a map")
		}
		out := reflect.MakeMapWithSize(t, len(obj))
		for k, ej := range obj {
			if ej == nil {
				continue
			}
			e := reflect.New(t.Elem()).Elem()
			if err := bindJSON(e, ej, path+"."+k, ts); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
		v.Set(out)
	default:
		return fmt.Errorf("restjson: %s: unsupported type %v", path, t)
	}
	return nil
}

// jsonInt accepts an integral JSON number, also in the 1.0 or 1e3 forms.
func jsonInt(n json.Number) (int64, error) {
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
		return 0, errors.New("expected an integer")
	}
	return int64(f), nil
}

func mismatch(path, want string) error {
	return BadRequest(fmt.Sprintf("Invalid value at '%s': expected %s.", quote(path), want))
}
