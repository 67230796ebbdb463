package templates

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// A golden case is one file of sections, each introduced by a line
// "-- name --": "template" (rendered as the text part; subject "s"),
// "data" (the TemplateData), and "want" — the rendering, or
// "error <kind>: <message>". A section's last line break is not part of it.
type goldenCase struct {
	names    []string
	sections map[string]string
}

func readCase(t *testing.T, path string) goldenCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := goldenCase{sections: map[string]string{}}
	var cur string
	var body strings.Builder
	flush := func() {
		if cur != "" {
			c.sections[cur] = strings.TrimSuffix(body.String(), "\n")
			c.names = append(c.names, cur)
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "-- "); ok && strings.HasSuffix(name, " --") {
			flush()
			cur = strings.TrimSuffix(name, " --")
			continue
		}
		body.WriteString(line)
	}
	flush()
	return c
}

func (c goldenCase) write(path string) error {
	var b strings.Builder
	for _, n := range c.names {
		b.WriteString("-- " + n + " --\n" + c.sections[n] + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func kindName(k ErrorKind) string {
	switch k {
	case InvalidTemplate:
		return "InvalidTemplate"
	case InvalidData:
		return "InvalidData"
	case MissingAttribute:
		return "MissingAttribute"
	case RenderFailed:
		return "RenderFailed"
	}
	return "?"
}

// renderText compiles src as a template's text part and renders it.
func renderText(src, data string) (string, error) {
	c, err := Compile(&Template{Name: "T", Subject: "s", Text: src})
	if err != nil {
		return "", err
	}
	d, err := ParseData(data)
	if err != nil {
		return "", err
	}
	r, err := c.Render(d)
	return r.Text, err
}

func outcome(got string, err error) string {
	if err == nil {
		return got
	}
	var e *Error
	if errors.As(err, &e) {
		return "error " + kindName(e.Kind) + ": " + e.Message
	}
	return "error: " + err.Error()
}

// TestRenderGolden renders every case under testdata/render; -update
// rewrites their "want" sections.
func TestRenderGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/render/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			c := readCase(t, f)
			got := outcome(renderText(c.sections["template"], c.sections["data"]))
			if *update {
				if _, ok := c.sections["want"]; !ok {
					c.names = append(c.names, "want")
				}
				c.sections["want"] = got
				if err := c.write(f); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := c.sections["want"]
			if !ok {
				t.Fatalf("%s has no want section (run with -update)", f)
			}
			if got != want {
				t.Errorf("rendering %s:\n got: %q\nwant: %q", f, got, want)
			}
		})
	}
}
