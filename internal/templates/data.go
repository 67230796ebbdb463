package templates

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// maxDataDepth bounds the nesting of TemplateData, so decoding and rendering
// recurse a bounded number of times whatever the caller sends.
const maxDataDepth = 100

// Data is a send's rendering data (TemplateData): a JSON object. Its
// members keep the order they were given in, which is the order #each walks
// an object in, as in Handlebars.
//
// Values are nil (JSON null), bool, json.Number (numbers keep their JSON
// text), string, []any and *object.
type Data struct{ root *object }

// object is a JSON object with its keys in document order.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(key string) (any, bool) {
	v, ok := o.vals[key]
	return v, ok
}

func (o *object) set(key string, v any) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

func newObject(n int) *object { return &object{vals: make(map[string]any, n)} }

// ParseData parses TemplateData. It must be a JSON object of at most
// MaxDataSize bytes; the empty string is the empty object (v2 makes
// TemplateData optional). A member given twice keeps its first place and its
// last value, as JSON.parse does.
func ParseData(s string) (*Data, error) {
	if len(s) > MaxDataSize {
		return nil, invalidData("Template data exceeds the maximum length of %d.", MaxDataSize)
	}
	if strings.TrimSpace(s) == "" {
		return &Data{root: newObject(0)}, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, invalidData("Template data is not valid JSON: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidData("Template data is not valid JSON: unexpected data after the object.")
	}
	root, ok := v.(*object)
	if !ok {
		return nil, invalidData("Template data must be a JSON object.")
	}
	return &Data{root: root}, nil
}

var errTooDeep = errors.New("nested too deeply")

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDataDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject(0)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.set(key, v)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return o, nil
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return list, nil
		}
		return nil, errors.New("unexpected " + t.String())
	case string, json.Number, bool, nil:
		return t, nil
	}
	return nil, errors.New("unexpected token")
}

// describeJSONError words a decoding error for the caller without Go
// type names.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return se.Error() + "."
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of data."
	}
	return err.Error() + "."
}

// Merge returns d with over's top-level members replacing d's (SES-BEHAVIOR
// §12: a bulk destination's ReplacementTemplateData over the
// DefaultTemplateData, shallow). Neither d nor over changes.
func (d *Data) Merge(over *Data) *Data {
	if over == nil || len(over.root.keys) == 0 {
		return d
	}
	m := newObject(len(d.root.keys) + len(over.root.keys))
	for _, k := range d.root.keys {
		m.set(k, d.root.vals[k])
	}
	for _, k := range over.root.keys {
		m.set(k, over.root.vals[k])
	}
	return &Data{root: m}
}
