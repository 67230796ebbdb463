package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The subset of the AWS (botocore) service-model JSON that Sesame's codecs
// understand. Parsing is strict: a trait outside that subset (a "payload",
// "flattened" list, union, document, header prefix on a nested shape, …) is
// an error, so a model update that needs codec work cannot slip through as
// silently wrong wire code.

type model struct {
	Metadata   metadata
	Operations []*operation // sorted by name
	Shapes     map[string]*shape
}

type metadata struct {
	APIVersion   string `json:"apiVersion"`
	Protocol     string `json:"protocol"`
	XMLNamespace string `json:"xmlNamespace"`
	ServiceID    string `json:"serviceId"`
}

type operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input  *shapeRef  `json:"input"`
	Output *shapeRef  `json:"output"`
	Errors []shapeRef `json:"errors"`
}

type shapeRef struct {
	Shape         string `json:"shape"`
	ResultWrapper string `json:"resultWrapper"`
}

type shape struct {
	Name            string
	Type            string       `json:"type"`
	Members         members      `json:"members"`
	Required        []string     `json:"required"`
	Member          *shapeRef    `json:"member"`
	Key             *shapeRef    `json:"key"`
	Value           *shapeRef    `json:"value"`
	Enum            []string     `json:"enum"`
	Min             *json.Number `json:"min"`
	Max             *json.Number `json:"max"`
	Sensitive       bool         `json:"sensitive"`
	TimestampFormat string       `json:"timestampFormat"`
	Error           *struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
		SenderFault    *bool  `json:"senderFault"`
	} `json:"error"`
	Exception bool `json:"exception"`
	Fault     bool `json:"fault"`
}

type member struct {
	Name            string
	Shape           string `json:"shape"`
	Location        string `json:"location"`
	LocationName    string `json:"locationName"`
	TimestampFormat string `json:"timestampFormat"`
}

// members keeps the model's member order, which is the wire order of Query
// error fields and XML/JSON output elements.
type members []member

func (ms *members) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("members: expected an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		var m member
		if err := strictDecode(raw, &m, "shape", "documentation", "location", "locationName",
			"timestampFormat", "deprecated", "deprecatedMessage", "contextParam", "box"); err != nil {
			return fmt.Errorf("member %v: %w", t, err)
		}
		m.Name = t.(string)
		*ms = append(*ms, m)
	}
	return nil
}

// strictDecode decodes an object into v after checking that it uses only the
// allowed keys.
func strictDecode(raw json.RawMessage, v any, allowed ...string) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return err
	}
	for k := range keys {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unsupported model trait %q", k)
		}
	}
	return json.Unmarshal(raw, v)
}

func parseModel(data []byte) (*model, error) {
	var top struct {
		Metadata   metadata                   `json:"metadata"`
		Operations map[string]json.RawMessage `json:"operations"`
		Shapes     map[string]json.RawMessage `json:"shapes"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m := &model{Metadata: top.Metadata, Shapes: map[string]*shape{}}
	switch m.Metadata.Protocol {
	case "query", "rest-json":
	default:
		return nil, fmt.Errorf("model: unsupported protocol %q", m.Metadata.Protocol)
	}
	for name, raw := range top.Shapes {
		s := &shape{Name: name}
		if err := strictDecode(raw, s, "type", "members", "required", "documentation", "member", "key",
			"value", "enum", "min", "max", "pattern", "sensitive", "error", "exception", "fault",
			"deprecated", "deprecatedMessage", "box", "timestampFormat", "retryable"); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		m.Shapes[name] = s
	}
	for name, raw := range top.Operations {
		op := &operation{}
		if err := strictDecode(raw, op, "name", "http", "input", "output", "errors", "documentation",
			"documentationUrl", "idempotent", "deprecated", "deprecatedMessage", "auth", "authtype"); err != nil {
			return nil, fmt.Errorf("operation %s: %w", name, err)
		}
		if op.Name != name {
			return nil, fmt.Errorf("operation %s: name %q", name, op.Name)
		}
		m.Operations = append(m.Operations, op)
	}
	slices.SortFunc(m.Operations, func(a, b *operation) int { return strings.Compare(a.Name, b.Name) })
	return m, m.check()
}

// check rejects what the generated code and the codecs cannot represent.
func (m *model) check() error {
	ref := func(ctx, name string) error {
		if _, ok := m.Shapes[name]; !ok {
			return fmt.Errorf("%s: unknown shape %q", ctx, name)
		}
		return nil
	}
	for _, op := range m.Operations {
		if c := op.HTTP.ResponseCode; c != 0 && c != 200 {
			return fmt.Errorf("operation %s: responseCode %d is not supported", op.Name, c)
		}
		if op.HTTP.Method == "" || op.HTTP.RequestURI == "" {
			return fmt.Errorf("operation %s: missing http binding", op.Name)
		}
		for _, r := range append([]*shapeRef{op.Input, op.Output}, refs(op.Errors)...) {
			if r == nil {
				continue
			}
			if err := ref("operation "+op.Name, r.Shape); err != nil {
				return err
			}
		}
		for _, e := range op.Errors {
			if m.Shapes[e.Shape].Error == nil && !m.Shapes[e.Shape].Exception {
				return fmt.Errorf("operation %s: %s is not an error shape", op.Name, e.Shape)
			}
		}
	}
	for _, s := range m.Shapes {
		ctx := "shape " + s.Name
		switch s.Type {
		case "structure":
			for _, mb := range s.Members {
				if err := ref(ctx, mb.Shape); err != nil {
					return err
				}
				switch mb.Location {
				case "", "uri", "querystring", "header", "headers":
				default:
					return fmt.Errorf("%s.%s: unsupported location %q", ctx, mb.Name, mb.Location)
				}
				if mb.Location == "" && mb.LocationName != "" && m.Metadata.Protocol != "query" {
					return fmt.Errorf("%s.%s: renamed body members are not supported", ctx, mb.Name)
				}
			}
			for _, r := range s.Required {
				if !slices.ContainsFunc(s.Members, func(mb member) bool { return mb.Name == r }) {
					return fmt.Errorf("%s: required member %q does not exist", ctx, r)
				}
			}
		case "list":
			if s.Member == nil {
				return fmt.Errorf("%s: list without member", ctx)
			}
			if err := ref(ctx, s.Member.Shape); err != nil {
				return err
			}
		case "map":
			if s.Key == nil || s.Value == nil {
				return fmt.Errorf("%s: map without key or value", ctx)
			}
			if err := ref(ctx, s.Key.Shape); err != nil {
				return err
			}
			if err := ref(ctx, s.Value.Shape); err != nil {
				return err
			}
			if m.Shapes[s.Key.Shape].Type != "string" {
				return fmt.Errorf("%s: map key must be a string", ctx)
			}
		case "string", "boolean", "integer", "long", "double", "float", "timestamp", "blob":
		default:
			return fmt.Errorf("%s: unsupported type %q", ctx, s.Type)
		}
		for _, v := range s.Enum {
			if v == "" || strings.ContainsAny(v, ",|\"` \t\n") {
				return fmt.Errorf("%s: enum value %q cannot go in a struct tag", ctx, v)
			}
		}
	}
	return nil
}

func refs(rs []shapeRef) []*shapeRef {
	out := make([]*shapeRef, len(rs))
	for i := range rs {
		out[i] = &rs[i]
	}
	return out
}
