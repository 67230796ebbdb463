package awsquery

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/sesamehq/sesame/internal/api/awsproto"
)

// WriteResponse renders out, the output of op, as the 200 text/xml
// <OpResponse> document (SES-BEHAVIOR.md §1.2):
//
//	<OpResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">
//	  <OpResult>…members…</OpResult>
//	  <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
//	</OpResponse>
//
// An output without members gives <OpResult/>; an operation whose model has
// no output shape gets no Result element at all. out is a pointer to the
// generated output struct (nil means empty). On error nothing is written.
func WriteResponse(w http.ResponseWriter, op awsproto.Operation, out any, requestID string) error {
	body, err := MarshalResponse(op, out, requestID)
	if err != nil {
		return err
	}
	writeXML(w, http.StatusOK, body, requestID)
	return nil
}

// MarshalResponse returns the document WriteResponse sends.
func MarshalResponse(op awsproto.Operation, out any, requestID string) ([]byte, error) {
	var x xmlWriter
	x.openNS(op.Name + "Response")
	if op.HasOutput() {
		wrapper := op.ResultWrapper
		if wrapper == "" {
			wrapper = op.Name + "Result"
		}
		v := reflect.ValueOf(out)
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		switch {
		case !v.IsValid() || v.Kind() == reflect.Pointer: // nil: empty output
			x.empty(wrapper)
		case v.Kind() == reflect.Struct:
			if err := x.container(wrapper, func() error { return x.structure(v) }); err != nil {
				return nil, fmt.Errorf("awsquery: %s output: %w", op.Name, err)
			}
		default:
			return nil, fmt.Errorf("awsquery: %s output: %T is not a struct", op.Name, out)
		}
	}
	x.open("ResponseMetadata")
	x.leaf("RequestId", requestID)
	x.close("ResponseMetadata")
	x.close(op.Name + "Response")
	return x.bytes(), nil
}

// container writes <name>…</name> around fill, or <name/> if fill wrote nothing.
func (x *xmlWriter) container(name string, fill func() error) error {
	start := x.mark()
	x.open(name)
	inner := x.mark()
	if err := fill(); err != nil {
		return err
	}
	if x.mark() == inner {
		x.collapse(start, name)
		return nil
	}
	x.close(name)
	return nil
}

// structure writes the members of struct v in model order. Absent members
// (nil, "") are left out, except that a required list or map is always
// written, empty if need be, as AWS does.
func (x *xmlWriter) structure(v reflect.Value) error {
	members, err := awsproto.Members(v.Type())
	if err != nil {
		return err
	}
	for _, m := range members {
		fv := v.Field(m.Index)
		switch fv.Kind() {
		case reflect.Pointer, reflect.Map:
			if fv.IsNil() && !(m.Required && fv.Kind() == reflect.Map) {
				continue
			}
		case reflect.Slice:
			if fv.IsNil() && !(m.Required && fv.Type().Elem().Kind() != reflect.Uint8) {
				continue
			}
		case reflect.String:
			if fv.Len() == 0 {
				continue
			}
		}
		if err := x.value(m.Name, fv); err != nil {
			return fmt.Errorf("%s: %w", m.Field, err)
		}
	}
	return nil
}

// value writes one element: a scalar leaf, a structure, a list of <member>
// elements or a map of <entry><key/><value/></entry> elements.
func (x *xmlWriter) value(name string, v reflect.Value) error {
	if s, ok := awsproto.FormatText(v, awsproto.TimestampISO8601); ok {
		x.leaf(name, s)
		return nil
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		return x.container(name, func() error { return x.structure(v) })
	case reflect.Slice:
		return x.container(name, func() error {
			for i := range v.Len() {
				if err := x.value("member", v.Index(i)); err != nil {
					return err
				}
			}
			return nil
		})
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("map key %v is not a string", v.Type().Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		return x.container(name, func() error {
			for _, k := range keys {
				x.open("entry")
				x.leaf("key", k.String())
				if err := x.value("value", v.MapIndex(k)); err != nil {
					return err
				}
				x.close("entry")
			}
			return nil
		})
	}
	return fmt.Errorf("unsupported type %v", v.Type())
}
