package tracking

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRewrite checks that Rewrite never panics, that a message without
// tracking is returned as it is, and that a message the standard library
// can read is still readable after the rewrite, with the same parts.
func FuzzRewrite(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
			f.Add(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
		}
	}
	f.Add([]byte("Content-Type: text/html\n\n<a href=\"https://x\" ses:tags=\"a:b;\" ses:no-track <a href='"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n--b--\n"))
	f.Add([]byte("Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n!!!\n"))
	s := testSigner(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if res := s.Rewrite(msg, Options{MessageID: "m"}); !bytes.Equal(res.Data, msg) {
			t.Fatal("changed without tracking")
		}
		res := s.Rewrite(msg, testOptions)
		before, err := leaves(msg)
		if err != nil {
			return
		}
		after, err := leaves(res.Data)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%q", err, res.Data)
		}
		if len(after) != len(before) {
			t.Fatalf("%d parts became %d\n%q", len(before), len(after), res.Data)
		}
	})
}

// FuzzRewriteHTML checks the HTML scanner: no panic, an edit that changes
// nothing copies the document, and every link it tracks gives a valid token.
func FuzzRewriteHTML(f *testing.F) {
	f.Add([]byte(`<a href="https://x.example/?a&amp;b" ses:tags="a:b;">x</a></body>`))
	f.Add([]byte(`<!-- <a href="https://x"> --><script><a href="https://y"></script><a href=https://z>`))
	f.Add([]byte(`<a href='https://x' ses:no-track/><a href`))
	s := testSigner(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		if out, st := rewriteHTML(doc, htmlEdit{}); st.links != 0 || st.pixels != 0 || (st.attrs == 0 && !bytes.Equal(out, doc)) {
			t.Fatalf("no-op edit changed the document: %q", out)
		}
		var made []string
		out, st := rewriteHTML(doc, htmlEdit{click: func(l Link, _ string) (string, bool) {
			tok := s.ClickToken("m", l)
			made = append(made, tok)
			return "https://t.example" + ClickPath + tok, true
		}, pixel: []byte("<img>")})
		if st.links != len(made) || st.pixels != 1 || !bytes.Contains(out, []byte("<img>")) {
			t.Fatalf("stats %+v for %d links", st, len(made))
		}
		for _, tok := range made {
			if !bytes.Contains(out, []byte(tok)) {
				t.Fatalf("token missing from the output")
			}
			if _, err := s.Parse(tok); err != nil {
				t.Fatal(err)
			}
		}
	})
}
