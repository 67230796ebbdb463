package restjson

import (
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/api/awsproto"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

func v2Router(t *testing.T) *Router {
	t.Helper()
	r, err := NewRouter(append(v2wire.Operations(), v2wire.RouteAliases()...))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var labelRE = regexp.MustCompile(`\{([^}]+)\}`)

// TestRouterEveryOperation routes a request built from each template (labels
// filled with a value that needs escaping) back to its operation.
func TestRouterEveryOperation(t *testing.T) {
	r := v2Router(t)
	const value = "user+tag@example.com/x y"
	for _, op := range append(v2wire.Operations(), v2wire.RouteAliases()...) {
		path := labelRE.ReplaceAllStringFunc(op.RequestURI, func(string) string { return url.PathEscape(value) })
		for _, p := range []string{path, strings.TrimSuffix(path, "/"), strings.TrimSuffix(path, "/") + "/"} {
			got, params, ok := r.Match(op.Method, p)
			if !ok || got.Name != op.Name || got.RequestURI != op.RequestURI {
				t.Errorf("%s %s: matched %v %s", op.Method, p, ok, got.Name)
				continue
			}
			for _, m := range labelRE.FindAllStringSubmatch(op.RequestURI, -1) {
				if params[m[1]] != value {
					t.Errorf("%s: label %s = %q", op.Name, m[1], params[m[1]])
				}
			}
		}
	}
}

func TestRouterMisses(t *testing.T) {
	r := v2Router(t)
	if _, _, ok := r.Match("GET", "/v2/email/nope"); ok {
		t.Error("unknown path matched")
	}
	if _, _, ok := r.Match("GET", "/v2/email/identities/%zz"); ok {
		t.Error("bad escape matched")
	}
	// An empty label does not match: /identities/ is the list route.
	if op, _, ok := r.Match("GET", "/v2/email/identities/"); !ok || op.Name != "ListEmailIdentities" {
		t.Errorf("GET /v2/email/identities/: %v %s", ok, op.Name)
	}
	if _, _, ok := r.Match("PATCH", "/v2/email/identities/example.com"); ok {
		t.Error("wrong method matched")
	}
	if got := r.Methods("/v2/email/identities/example.com"); !reflect.DeepEqual(got, []string{"DELETE", "GET"}) {
		t.Errorf("methods %v", got)
	}
	if got := r.Methods("/v2/email/nope"); len(got) != 0 {
		t.Errorf("methods of unknown path %v", got)
	}
}

func TestRouterSpecificityAndGreedy(t *testing.T) {
	r, err := NewRouter([]awsproto.Operation{
		{Name: "ByLabel", Method: "GET", RequestURI: "/things/{Id}/parts"},
		{Name: "Literal", Method: "GET", RequestURI: "/things/special/parts"},
		{Name: "Greedy", Method: "GET", RequestURI: "/files/{Key+}"},
		{Name: "Deep", Method: "GET", RequestURI: "/files/{Dir}/meta"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/things/special/parts": "Literal",
		"/things/other/parts":   "ByLabel",
		"/files/a/b%2Fc/d":      "Greedy",
		"/files/a/meta":         "Deep",
		"/files/a":              "Greedy",
	} {
		op, params, ok := r.Match("GET", path)
		if !ok || op.Name != want {
			t.Errorf("%s: %v %s, want %s", path, ok, op.Name, want)
		}
		if want == "Greedy" && path == "/files/a/b%2Fc/d" && params["Key"] != "a/b/c/d" {
			t.Errorf("greedy label %q", params["Key"])
		}
	}
	for name, ops := range map[string][]awsproto.Operation{
		"query":     {{Name: "Q", Method: "GET", RequestURI: "/x?list"}},
		"greedy":    {{Name: "G", Method: "GET", RequestURI: "/x/{A+}/y"}},
		"label":     {{Name: "L", Method: "GET", RequestURI: "/x/{A"}},
		"literal":   {{Name: "L", Method: "GET", RequestURI: "/x/a{b}"}},
		"duplicate": {{Name: "A", Method: "GET", RequestURI: "/x/{A}"}, {Name: "B", Method: "GET", RequestURI: "/x/{B}/"}},
	} {
		if _, err := NewRouter(ops); err == nil {
			t.Errorf("%s: NewRouter accepted %v", name, ops)
		}
	}
}
