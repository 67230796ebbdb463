package restjson

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sesamehq/sesame/internal/api/awsproto"
)

// Router maps a request's method and path to an operation of the table it
// was built from, binding the {Label} and greedy {Label+} segments of the
// model's requestUri templates (SES-BEHAVIOR.md §1.3).
type Router struct {
	routes []route
}

type route struct {
	op   awsproto.Operation
	segs []segment
}

type segment struct {
	lit    string // literal segment, when label == ""
	label  string
	greedy bool // {Label+}: the rest of the path, slashes included
}

// NewRouter builds a router from an operation table. It rejects templates it
// cannot serve: a query part (none in the SES v2 model), a malformed label, a
// greedy label before the end, or two operations on the same route.
func NewRouter(ops []awsproto.Operation) (*Router, error) {
	r := &Router{}
	for _, op := range ops {
		if strings.Contains(op.RequestURI, "?") {
			return nil, fmt.Errorf("restjson: %s: query-qualified requestUri %q is not supported", op.Name, op.RequestURI)
		}
		rt := route{op: op}
		parts := splitPath(op.RequestURI)
		for i, p := range parts {
			if !strings.HasPrefix(p, "{") {
				if strings.ContainsAny(p, "{}") {
					return nil, fmt.Errorf("restjson: %s: bad segment %q", op.Name, p)
				}
				rt.segs = append(rt.segs, segment{lit: p})
				continue
			}
			label, ok := strings.CutSuffix(strings.TrimPrefix(p, "{"), "}")
			if !ok || label == "" || strings.ContainsAny(label, "{}") {
				return nil, fmt.Errorf("restjson: %s: bad label %q", op.Name, p)
			}
			label, greedy := strings.CutSuffix(label, "+")
			if greedy && i != len(parts)-1 {
				return nil, fmt.Errorf("restjson: %s: greedy label %q is not last", op.Name, p)
			}
			rt.segs = append(rt.segs, segment{label: label, greedy: greedy})
		}
		for _, other := range r.routes {
			if other.op.Method == op.Method && sameShape(other.segs, rt.segs) {
				return nil, fmt.Errorf("restjson: %s and %s share route %s %s", other.op.Name, op.Name, op.Method, op.RequestURI)
			}
		}
		r.routes = append(r.routes, rt)
	}
	return r, nil
}

func sameShape(a, b []segment) bool {
	return slices.EqualFunc(a, b, func(x, y segment) bool {
		return x.lit == y.lit && (x.label == "") == (y.label == "") && x.greedy == y.greedy
	})
}

// splitPath splits a path into segments, ignoring a trailing slash so that
// "/v2/email/insights/{MessageId}/" and its slash-less form match each other.
func splitPath(p string) []string {
	p = strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Match returns the operation for method and path, and the percent-decoded
// values of its labels ("a%40b.com" → "a@b.com"). Pass the escaped path
// (r.URL.EscapedPath()) so that an encoded "/" stays inside its label. When
// several templates match, the most specific wins: at the first segment where
// they differ, a literal beats a label and a label beats a greedy label.
func (r *Router) Match(method, path string) (op awsproto.Operation, params map[string]string, ok bool) {
	parts := splitPath(path)
	var best *route
	for i := range r.routes {
		rt := &r.routes[i]
		if rt.op.Method != method {
			continue
		}
		p, matched := rt.bind(parts)
		if matched && (best == nil || moreSpecific(rt.segs, best.segs)) {
			best, params = rt, p
		}
	}
	if best == nil {
		return awsproto.Operation{}, nil, false
	}
	return best.op, params, true
}

// Methods returns the methods with a route for path, sorted; empty if no
// route has that path. It lets a server answer 405 rather than 404.
func (r *Router) Methods(path string) []string {
	parts := splitPath(path)
	var out []string
	for i := range r.routes {
		if _, ok := r.routes[i].bind(parts); ok && !slices.Contains(out, r.routes[i].op.Method) {
			out = append(out, r.routes[i].op.Method)
		}
	}
	slices.Sort(out)
	return out
}

func (rt *route) bind(parts []string) (params map[string]string, ok bool) {
	set := func(label, value string) {
		if params == nil {
			params = make(map[string]string, 2)
		}
		params[label] = value
	}
	for i, s := range rt.segs {
		if s.greedy {
			if i >= len(parts) {
				return nil, false
			}
			v, err := url.PathUnescape(strings.Join(parts[i:], "/"))
			if err != nil || v == "" {
				return nil, false
			}
			set(s.label, v)
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		if s.label == "" {
			if parts[i] != s.lit {
				return nil, false
			}
			continue
		}
		v, err := url.PathUnescape(parts[i])
		if err != nil || v == "" {
			return nil, false
		}
		set(s.label, v)
	}
	return params, len(parts) == len(rt.segs)
}

func rank(s segment) int {
	switch {
	case s.label == "":
		return 2
	case !s.greedy:
		return 1
	}
	return 0
}

func moreSpecific(a, b []segment) bool {
	for i := range min(len(a), len(b)) {
		if ra, rb := rank(a[i]), rank(b[i]); ra != rb {
			return ra > rb
		}
	}
	return len(a) > len(b)
}
