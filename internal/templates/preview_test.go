package templates

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPreviewGolden: the TestRenderTemplate MIME for a template with both
// bodies, one with text only, and one needing encoded-words and
// quoted-printable. -update rewrites testdata/preview.
func TestPreviewGolden(t *testing.T) {
	for name, r := range map[string]Rendered{
		"alternative": {Subject: "Greetings, Jane!", Text: "Dear Jane,\nYour favorite animal is the tiger.", HTML: "<h1>Hello Jane,</h1><p>Your favorite animal is the tiger.</p>"},
		"text_only":   {Subject: "Plain", Text: "Only text.\n"},
		"utf8":        {Subject: "Grüße, Jörg", HTML: "<p>Schöne Grüße & <b>mehr</b></p>"},
	} {
		t.Run(name, func(t *testing.T) {
			got := Preview(r)
			path := filepath.Join("testdata", "preview", name+".eml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("preview %s:\n%s\nwant:\n%s", name, got, want)
			}
		})
	}
}
