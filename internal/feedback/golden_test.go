package feedback

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden parses every testdata/<dir>/*.eml with parse and compares the
// result, as indented JSON, with the .json file beside it (STYLE.md §10).
// Each message is also parsed with CRLF line ends, as it arrives over
// SMTP, and must read the same.
func golden[T any](t *testing.T, dir string, parse func([]byte) (T, error)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata in %s: %v", dir, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			msg, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parse(msg)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			js := marshal(t, got)

			crlf := bytes.ReplaceAll(msg, []byte("\n"), []byte("\r\n"))
			got2, err := parse(crlf)
			if err != nil {
				t.Fatalf("parse with CRLF: %v", err)
			}
			if js2 := marshal(t, got2); !bytes.Equal(js, js2) {
				t.Errorf("CRLF line ends read differently:\n%s\nvs LF:\n%s", js2, js)
			}

			want := strings.TrimSuffix(file, ".eml") + ".json"
			if *update {
				if err := os.WriteFile(want, js, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(js, exp) {
				t.Errorf("%s differs from the parse:\n%s", want, js)
			}
		})
	}
}

func TestDSNGolden(t *testing.T) { golden(t, "dsn", ParseDSN) }

func TestARFGolden(t *testing.T) { golden(t, "arf", ParseARF) }

// marshal is v as indented JSON, with <, > and & as they are.
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
