// Package metrics keeps Sesame's counters and serves them at GET /metrics in
// the Prometheus text exposition format (version 0.0.4, "Exposition
// formats" in the Prometheus documentation). It stands in for CloudWatch:
// SES publishes an event destination's events to CloudWatch as metrics with
// the destination's dimensions (SES-BEHAVIOR §9); Sesame counts them here
// with the dimensions as labels.
//
// Counter families may carry different label names per series, because
// each CloudWatch destination chooses its own dimensions; the text format
// allows that. Only counters exist: nothing else is needed yet.
package metrics

import (
	"bufio"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Registry holds counter families. It is safe for concurrent use; its zero
// value is not: use New.
type Registry struct {
	mu       sync.Mutex
	families map[string]*Counter
}

// New returns an empty registry.
func New() *Registry { return &Registry{families: map[string]*Counter{}} }

// Counter is a family of monotonically increasing counters sharing a name,
// one per distinct label set.
type Counter struct {
	name, help string
	mu         sync.Mutex
	series     map[string]*series // canonical label string → series
}

type series struct {
	labels []label // sorted by name
	value  float64
}

type label struct{ name, value string }

// Counter returns the family called name, creating it with help the first
// time. name should match [a-zA-Z_:][a-zA-Z0-9_:]*; an invalid one is
// sanitised with LabelName's rules.
func (r *Registry) Counter(name, help string) *Counter {
	name = sanitize(name, true)
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.families[name]
	if !ok {
		c = &Counter{name: name, help: help, series: map[string]*series{}}
		r.families[name] = c
	}
	return c
}

// Add adds delta (ignored unless positive and finite) to the series with
// labels. Label names are sanitised with LabelName; empty values are kept.
func (c *Counter) Add(labels map[string]string, delta float64) {
	if !(delta > 0) || math.IsInf(delta, 0) {
		return
	}
	ls := make([]label, 0, len(labels))
	for n, v := range labels {
		ls = append(ls, label{LabelName(n), v})
	}
	slices.SortFunc(ls, func(a, b label) int { return strings.Compare(a.name, b.name) })
	ls = slices.CompactFunc(ls, func(a, b label) bool { return a.name == b.name })
	var key strings.Builder
	for _, l := range ls {
		key.WriteString(l.name)
		key.WriteByte(0)
		key.WriteString(l.value)
		key.WriteByte(0)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.series[key.String()]
	if !ok {
		s = &series{labels: ls}
		c.series[key.String()] = s
	}
	s.value += delta
}

// Inc adds one.
func (c *Counter) Inc(labels map[string]string) { c.Add(labels, 1) }

// Value returns the series' current value (0 when it has never been added to).
func (c *Counter) Value(labels map[string]string) float64 {
	want := make(map[string]string, len(labels))
	for n, v := range labels {
		want[LabelName(n)] = v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.series {
		if len(s.labels) != len(want) {
			continue
		}
		match := true
		for _, l := range s.labels {
			if v, ok := want[l.name]; !ok || v != l.value {
				match = false
				break
			}
		}
		if match {
			return s.value
		}
	}
	return 0
}

// LabelName makes s a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*):
// other characters become '_' and a leading digit gets a '_' before it.
// CloudWatch dimension names allow ':' and '-' (e.g. ses:from-domain), which
// labels do not.
func LabelName(s string) string { return sanitize(s, false) }

func sanitize(s string, metric bool) string {
	var b strings.Builder
	for i, r := range s {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (metric && r == ':') || (i > 0 && r >= '0' && r <= '9')
		switch {
		case ok:
			b.WriteRune(r)
		case i == 0 && r >= '0' && r <= '9':
			b.WriteByte('_')
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// ContentType is the text exposition format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteTo writes every family in the text exposition format, families and
// series in a stable order.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	fams := make([]*Counter, 0, len(r.families))
	for _, c := range r.families {
		fams = append(fams, c)
	}
	r.mu.Unlock()
	slices.SortFunc(fams, func(a, b *Counter) int { return strings.Compare(a.name, b.name) })
	cw := &countingWriter{w: w}
	bw := bufio.NewWriter(cw)
	for _, c := range fams {
		c.write(bw)
	}
	err := bw.Flush()
	return cw.n, err
}

func (c *Counter) write(w *bufio.Writer) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.series))
	for k := range c.series {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	type sample struct {
		labels []label
		value  float64
	}
	samples := make([]sample, len(keys))
	for i, k := range keys {
		samples[i] = sample{c.series[k].labels, c.series[k].value}
	}
	c.mu.Unlock()

	w.WriteString("# HELP " + c.name + " " + escapeHelp(c.help) + "\n")
	w.WriteString("# TYPE " + c.name + " counter\n")
	for _, s := range samples {
		w.WriteString(c.name)
		if len(s.labels) > 0 {
			w.WriteByte('{')
			for i, l := range s.labels {
				if i > 0 {
					w.WriteByte(',')
				}
				w.WriteString(l.name + `="` + escapeValue(l.value) + `"`)
			}
			w.WriteByte('}')
		}
		w.WriteString(" " + strconv.FormatFloat(s.value, 'g', -1, 64) + "\n")
	}
}

// Label values escape backslash, double quote and line feed; HELP text
// backslash and line feed (text format 0.0.4).
var (
	valueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeValue(s string) string { return valueEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

// ServeHTTP answers GET /metrics.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", ContentType)
	r.WriteTo(w)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
