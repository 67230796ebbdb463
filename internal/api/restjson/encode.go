package restjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/sesamehq/sesame/internal/api/awsproto"
)

// WriteResponse renders out, the output of op, as a 200 application/json
// response: body members as a JSON object in model order ({} when none),
// header-located members as headers. Timestamps are epoch seconds with
// millisecond fraction (a JSON number), blobs base64, absent members (nil,
// "") left out except required lists and maps, written empty. out is a
// pointer to the generated output struct (nil means empty). On error nothing
// is written.
func WriteResponse(w http.ResponseWriter, op awsproto.Operation, out any, requestID string) error {
	body, header, err := MarshalResponse(out)
	if err != nil {
		return fmt.Errorf("restjson: %s output: %w", op.Name, err)
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	writeJSON(w, http.StatusOK, body, requestID)
	return nil
}

// MarshalResponse returns the body and the header-located members of out.
func MarshalResponse(out any) (body []byte, header http.Header, err error) {
	header = http.Header{}
	v := reflect.ValueOf(out)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if !v.IsValid() || v.Kind() == reflect.Pointer {
		return []byte("{}"), header, nil
	}
	if v.Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("%T is not a struct", out)
	}
	var j jsonWriter
	if err := j.structure(v, header); err != nil {
		return nil, nil, err
	}
	return j.b.Bytes(), header, nil
}

type jsonWriter struct{ b bytes.Buffer }

// structure writes struct v as an object. header receives the members bound
// to headers; it is nil below the top level, where every member is body.
func (j *jsonWriter) structure(v reflect.Value, header http.Header) error {
	members, err := awsproto.Members(v.Type())
	if err != nil {
		return err
	}
	j.b.WriteByte('{')
	first := true
	for _, m := range members {
		fv := v.Field(m.Index)
		if header != nil {
			switch m.Location {
			case awsproto.LocHeader:
				writeHeader(header, m, fv)
				continue
			case awsproto.LocHeaders:
				if fv.Kind() == reflect.Map && fv.Type().Elem().Kind() == reflect.String {
					for _, k := range fv.MapKeys() {
						header.Set(m.Name+k.String(), fv.MapIndex(k).String())
					}
				}
				continue
			}
		}
		if skip(m, fv) {
			continue
		}
		if !first {
			j.b.WriteByte(',')
		}
		first = false
		j.b.Write(jsonString(m.Name))
		j.b.WriteByte(':')
		if err := j.value(fv, m.TimestampFormat); err != nil {
			return fmt.Errorf("%s: %w", m.Field, err)
		}
	}
	j.b.WriteByte('}')
	return nil
}

// skip reports whether a member is absent from the output: nil, or an empty
// string; a required list or map is written even when nil.
func skip(m awsproto.Member, v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer:
		return v.IsNil()
	case reflect.Map:
		return v.IsNil() && !m.Required
	case reflect.Slice:
		return v.IsNil() && (!m.Required || v.Type().Elem().Kind() == reflect.Uint8)
	case reflect.String:
		return v.Len() == 0
	}
	return false
}

func writeHeader(h http.Header, m awsproto.Member, v reflect.Value) {
	ts := m.TimestampFormat
	if ts == "" {
		ts = awsproto.TimestampHTTPDate
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8 {
		var parts []string
		for i := range v.Len() {
			if s, ok := awsproto.FormatText(v.Index(i), ts); ok {
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			h.Set(m.Name, strings.Join(parts, ", "))
		}
		return
	}
	if s, ok := awsproto.FormatText(v, ts); ok && s != "" {
		h.Set(m.Name, s)
	}
}

func (j *jsonWriter) value(v reflect.Value, ts string) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			j.b.WriteString("null")
			return nil
		}
		v = v.Elem()
	}
	switch {
	case awsproto.IsTimestamp(v.Type()):
		s, _ := awsproto.FormatText(v, tsOr(ts, awsproto.TimestampEpochSeconds))
		if ts == "" || ts == awsproto.TimestampEpochSeconds {
			j.b.WriteString(s) // a JSON number
		} else {
			j.b.Write(jsonString(s))
		}
		return nil
	case v.Kind() == reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			j.b.Write(jsonString(awsproto.FormatDouble(f))) // Smithy: "NaN", "Infinity"
			return nil
		}
		b, _ := json.Marshal(f) // a finite float always marshals
		j.b.Write(b)
		return nil
	case v.Kind() == reflect.String:
		j.b.Write(jsonString(v.String()))
		return nil
	case awsproto.IsScalar(v.Type()):
		s, _ := awsproto.FormatText(v, ts)
		if v.Kind() == reflect.Slice { // blob: base64 text
			j.b.Write(jsonString(s))
		} else {
			j.b.WriteString(s) // bool, int64
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return j.structure(v, nil)
	case reflect.Slice:
		j.b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				j.b.WriteByte(',')
			}
			if err := j.value(v.Index(i), ts); err != nil {
				return err
			}
		}
		j.b.WriteByte(']')
		return nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("map key %v is not a string", v.Type().Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		j.b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				j.b.WriteByte(',')
			}
			j.b.Write(jsonString(k.String()))
			j.b.WriteByte(':')
			if err := j.value(v.MapIndex(k), ts); err != nil {
				return err
			}
		}
		j.b.WriteByte('}')
		return nil
	}
	return fmt.Errorf("unsupported type %v", v.Type())
}

func tsOr(ts, def string) string {
	if ts == "" {
		return def
	}
	return ts
}
