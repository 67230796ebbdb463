package tracking

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestRewriteGolden rewrites every testdata/*.eml, sent with CRLF line ends
// as it is queued, and compares the result with the .golden file beside it
// (STYLE.md §10; shown with LF line ends). The same message with bare LF
// line ends must give the same result with LF line ends.
func TestRewriteGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	s := testSigner(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			lf, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
			res := s.Rewrite(crlf, testOptions)
			if bytes.Contains(bytes.ReplaceAll(res.Data, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("output has a bare LF")
			}
			got := bytes.ReplaceAll(res.Data, []byte("\r\n"), []byte("\n"))
			if lfRes := s.Rewrite(lf, testOptions); !bytes.Equal(lfRes.Data, got) {
				t.Errorf("LF input rewritten differently:\n%s", lfRes.Data)
			}
			want := strings.TrimSuffix(file, ".eml") + ".golden"
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, exp) {
				t.Errorf("%s differs from the rewrite:\n%s", want, got)
			}
			checkStructure(t, crlf, res.Data)
		})
	}
}

// checkStructure asserts that the rewritten message parses into the same
// parts, that every part other than a rewritten HTML one is byte-identical,
// and that rewritten parts are quoted-printable.
func checkStructure(t *testing.T, in, out []byte) {
	t.Helper()
	a, err := leaves(in)
	if err != nil {
		t.Fatalf("input does not parse: %v", err)
	}
	b, err := leaves(out)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d parts became %d", len(a), len(b))
	}
	for i := range a {
		if a[i].contentType != b[i].contentType {
			t.Errorf("part %d: %s became %s", i, a[i].contentType, b[i].contentType)
		}
		if bytes.Equal(a[i].raw, b[i].raw) {
			continue
		}
		if a[i].contentType != "text/html" {
			t.Errorf("part %d (%s) changed", i, a[i].contentType)
		}
		if cte := b[i].header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("part %d: rewritten with Content-Transfer-Encoding %q", i, cte)
		}
	}
}
