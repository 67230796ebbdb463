package awsproto

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// TagKey is the struct tag the generator writes on every wire-shape field:
//
//	aws:"Name[,option...]"
//
// Name is the member's wire name: its locationName for uri, querystring and
// header members, otherwise the member name (the Query parameter segment, the
// XML element, the JSON key). Options:
//
//	loc=uri|querystring|header|headers  member location (absent: body)
//	req                                 member is in the shape's "required" list
//	sens                                value is "sensitive": never echoed in errors
//	ts=iso8601|unixTimestamp|rfc822     explicit timestampFormat
//	min=N max=N enum=A|B|…              the target shape's constraints
//	emin= emax= eenum=                  constraints of a list's member / a map's value
//	kmin= kmax= kenum=                  constraints of a map's key
//
// min/max bound a string's length in characters, a blob's length in bytes, a
// list's or map's size, or a number's value, as the model's min/max do.
const TagKey = "aws"

// Location is where a REST member travels (model member "location").
type Location string

// Member locations; LocBody is the zero value.
const (
	LocBody        Location = ""
	LocURI         Location = "uri"
	LocQueryString Location = "querystring"
	LocHeader      Location = "header"
	LocHeaders     Location = "headers" // prefix map: Name is the header prefix
)

// Timestamp formats named by the model's timestampFormat trait.
const (
	TimestampISO8601      = "iso8601"
	TimestampEpochSeconds = "unixTimestamp"
	TimestampHTTPDate     = "rfc822"
)

// Constraints are a shape's validation traits (model enum, min, max).
type Constraints struct {
	Enum           []string
	Min, Max       int64
	HasMin, HasMax bool
}

// Empty reports whether c constrains nothing.
func (c Constraints) Empty() bool { return len(c.Enum) == 0 && !c.HasMin && !c.HasMax }

// Member is one tagged field of a generated wire struct.
type Member struct {
	// Index is the field's index in its struct; Field its Go name.
	Index int
	Field string
	// Name is the wire name (see TagKey).
	Name            string
	Location        Location
	Required        bool
	Sensitive       bool
	TimestampFormat string
	// Constraints bound the member's own value; Elem those of each list
	// element or map value; Key those of each map key.
	Constraints
	Elem Constraints
	Key  Constraints
}

// Members returns the tagged fields of struct type t in declaration order,
// which is the model's member order. Untagged fields are skipped.
func Members(t reflect.Type) ([]Member, error) {
	if ms, ok := membersCache.Load(t); ok {
		return ms.([]Member), nil
	}
	ms, err := members(t)
	if err != nil {
		return nil, err
	}
	membersCache.Store(t, ms)
	return ms, nil
}

// membersCache memoises Members: shapes are fixed at compile time, and the
// walk ran on every request (8 % of a send's CPU). Like encoding/json's type
// cache it is the one piece of package state here, and it only ever holds
// what the types already say. Callers must not modify the returned slice.
var membersCache sync.Map // reflect.Type → []Member

func members(t reflect.Type) ([]Member, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("awsproto: %v is not a struct", t)
	}
	var out []Member
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup(TagKey)
		if !ok || !f.IsExported() {
			continue
		}
		m, err := ParseTag(tag)
		if err != nil {
			return nil, fmt.Errorf("awsproto: %v.%s: %w", t, f.Name, err)
		}
		m.Index, m.Field = i, f.Name
		out = append(out, m)
	}
	return out, nil
}

// ParseTag parses the value of an `aws` struct tag.
func ParseTag(tag string) (Member, error) {
	parts := strings.Split(tag, ",")
	m := Member{Name: parts[0]}
	if m.Name == "" {
		return m, fmt.Errorf("empty wire name in tag %q", tag)
	}
	for _, p := range parts[1:] {
		key, val, hasVal := strings.Cut(p, "=")
		var err error
		switch key {
		case "req":
			m.Required = true
		case "sens":
			m.Sensitive = true
		case "loc":
			switch l := Location(val); l {
			case LocURI, LocQueryString, LocHeader, LocHeaders:
				m.Location = l
			default:
				err = fmt.Errorf("unknown location %q", val)
			}
		case "ts":
			switch val {
			case TimestampISO8601, TimestampEpochSeconds, TimestampHTTPDate:
				m.TimestampFormat = val
			default:
				err = fmt.Errorf("unknown timestamp format %q", val)
			}
		default:
			c := &m.Constraints
			switch key {
			case "emin", "emax", "eenum":
				c, key = &m.Elem, key[1:]
			case "kmin", "kmax", "kenum":
				c, key = &m.Key, key[1:]
			}
			err = c.set(key, val, hasVal)
		}
		if err != nil {
			return m, fmt.Errorf("tag %q: %w", tag, err)
		}
	}
	return m, nil
}

func (c *Constraints) set(key, val string, hasVal bool) error {
	if !hasVal {
		return fmt.Errorf("option %q needs a value", key)
	}
	switch key {
	case "enum":
		c.Enum = strings.Split(val, "|")
		return nil
	case "min", "max":
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return fmt.Errorf("bad %s %q", key, val)
		}
		if key == "min" {
			c.Min, c.HasMin = n, true
		} else {
			c.Max, c.HasMax = n, true
		}
		return nil
	}
	return fmt.Errorf("unknown option %q", key)
}
