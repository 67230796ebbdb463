package metrics_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/metrics"
)

func TestExposition(t *testing.T) {
	r := metrics.New()
	c := r.Counter("sesame_test_total", "Things.\nCounted \\ here.")
	c.Inc(map[string]string{"b": "x", "a": `quo"te` + "\n" + `back\slash`})
	c.Add(map[string]string{"a": `quo"te` + "\n" + `back\slash`, "b": "x"}, 2)
	c.Inc(map[string]string{"ses:from-domain": "example.com", "9lives": "cat"})
	c.Add(nil, 0.5)
	c.Add(nil, -1) // counters never go down
	if r.Counter("sesame_test_total", "other help") != c {
		t.Error("Counter made a second family for one name")
	}
	r.Counter("aaa_total", "First.")

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if ct := w.Header().Get("Content-Type"); ct != metrics.ContentType {
		t.Errorf("Content-Type %q", ct)
	}
	want := `# HELP aaa_total First.
# TYPE aaa_total counter
# HELP sesame_test_total Things.\nCounted \\ here.
# TYPE sesame_test_total counter
sesame_test_total 0.5
sesame_test_total{_9lives="cat",ses_from_domain="example.com"} 1
sesame_test_total{a="quo\"te\nback\\slash",b="x"} 3
`
	if got := w.Body.String(); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	if v := c.Value(map[string]string{"b": "x", "a": `quo"te` + "\n" + `back\slash`}); v != 3 {
		t.Errorf("Value = %v, want 3", v)
	}
	if v := c.Value(map[string]string{"b": "x"}); v != 0 {
		t.Errorf("Value of an unknown series = %v", v)
	}
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{"campaign": "campaign", "ses:from-domain": "ses_from_domain", "1st": "_1st", "": "_", "X-Team": "X_Team", "é": "_"} {
		if got := metrics.LabelName(in); got != want {
			t.Errorf("LabelName(%q) = %q, want %q", in, got, want)
		}
	}
	if strings.ContainsAny(metrics.LabelName("a b\"c"), " \"") {
		t.Error("LabelName kept invalid characters")
	}
}
