package tracking

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestRewriteLinks(t *testing.T) {
	s := testSigner(t)
	tests := []struct {
		file  string
		links []Link
	}{
		{"html-only.eml", []Link{
			{URL: "https://example.com/path?q=1&r=2#frag"},
			{URL: "http://example.com/Upper"},
			{URL: "https://example.com/unquoted"},
			{URL: "https://example.com/tagged", Tags: []Tag{{"campaign", "spring"}, {"variant", "b-2"}}},
			{URL: "https://例え.jp/ページ?名前=値"},
			{URL: "https://example.com/spaced"},
		}},
		{"alternative.eml", []Link{{URL: "https://example.com/html"}}},
		{"mixed-attachment.eml", []Link{{URL: "https://example.com/report"}}},
		{"quoted-printable.eml", []Link{
			{URL: "https://example.com/very/long/path/that/is/split/over/two/lines?x=1"},
			{URL: "https://example.com/qp", Tags: []Tag{{"campaign", "qp"}}},
		}},
		{"base64.eml", []Link{{URL: "https://example.com/b64?x=1&y=%C3%A9"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			msg, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			res := s.Rewrite(msg, testOptions)
			if res.Links != len(tt.links) || res.Pixels != 1 {
				t.Errorf("Links, Pixels = %d, %d; want %d, 1", res.Links, res.Pixels, len(tt.links))
			}
			html := decodedHTML(t, res.Data)
			var got []Link
			opens := 0
			for _, tok := range tokensIn(t, s, html) {
				if tok.MessageID != testOptions.MessageID {
					t.Errorf("token for message %q", tok.MessageID)
				}
				switch tok.Kind {
				case KindClick:
					got = append(got, tok.Link)
				case KindOpen:
					opens++
				}
			}
			if !slices.EqualFunc(got, tt.links, func(a, b Link) bool { return a.URL == b.URL && slices.Equal(a.Tags, b.Tags) }) {
				t.Errorf("links\n got %q\nwant %q", got, tt.links)
			}
			if opens != 1 {
				t.Errorf("%d pixels in the HTML", opens)
			}
			if strings.Contains(html, "ses:no-track") || strings.Contains(html, "ses:tags") {
				t.Errorf("ses: attributes left in the HTML")
			}
		})
	}
}

// decodedHTML is the decoded text of every HTML part that is not an attachment.
func decodedHTML(t *testing.T, msg []byte) string {
	t.Helper()
	ls, err := leaves(msg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range ls {
		if l.contentType != "text/html" || strings.HasPrefix(l.header.Get("Content-Disposition"), "attachment") {
			continue
		}
		d, ok := decodeBody(l.raw, l.header.Get("Content-Transfer-Encoding"))
		if !ok {
			t.Fatalf("undecodable part")
		}
		b.Write(d)
	}
	return b.String()
}

func TestRewriteNoTrackingIsIdentical(t *testing.T) {
	s := testSigner(t)
	msg, err := os.ReadFile("testdata/mixed-attachment.eml")
	if err != nil {
		t.Fatal(err)
	}
	res := s.Rewrite(msg, Options{MessageID: "m", BaseURL: "https://x.example"})
	if !bytes.Equal(res.Data, msg) || res.Links != 0 || res.Pixels != 0 {
		t.Errorf("message changed without tracking")
	}
	text := []byte("From: a@example.com\r\nContent-Type: text/plain\r\n\r\nhttps://example.com/ <a href=\"https://example.com/\">\r\n")
	if res := s.Rewrite(text, testOptions); !bytes.Equal(res.Data, text) {
		t.Errorf("text message changed: %q", res.Data)
	}
	signed := []byte("Content-Type: multipart/signed; boundary=s; protocol=\"application/pkcs7-signature\"\r\n\r\n--s\r\nContent-Type: text/html\r\n\r\n<a href=\"https://example.com/\">x</a>\r\n--s--\r\n")
	if res := s.Rewrite(signed, testOptions); !bytes.Equal(res.Data, signed) {
		t.Errorf("signed message changed: %q", res.Data)
	}
}

func TestRewriteOpenOnlyClickOnly(t *testing.T) {
	s := testSigner(t)
	msg := []byte("Content-Type: text/html\r\n\r\n<html><BODY><a href=\"https://example.com/\">x</a></body ></html>\r\n")
	open := s.Rewrite(msg, Options{MessageID: "m", BaseURL: "http://127.0.0.1:1", Open: true})
	if open.Links != 0 || open.Pixels != 1 {
		t.Fatalf("open only: %+v", open)
	}
	html := decodedHTML(t, open.Data)
	if !strings.Contains(html, `<a href="https://example.com/">`) || !strings.Contains(html, `1px;"></body >`) {
		t.Errorf("open only: %s", html)
	}
	click := s.Rewrite(msg, Options{MessageID: "m", BaseURL: "http://127.0.0.1:1/", Click: true})
	if click.Links != 1 || click.Pixels != 0 {
		t.Fatalf("click only: %+v", click)
	}
	if html := decodedHTML(t, click.Data); !strings.Contains(html, `<a href="http://127.0.0.1:1/t/click/`) || strings.Contains(html, "<img") {
		t.Errorf("click only: %s", html)
	}
}

func TestRewriteCustomDomain(t *testing.T) {
	s := testSigner(t)
	msg := []byte("Content-Type: text/html\r\n\r\n<a href=\"http://example.com/a\">a</a><a href=\"https://example.com/b\">b</a>")
	tests := []struct {
		policy          string
		open, httpA, sB string
	}{
		{HTTPSOptional, "http://track.example.org/t/open/", "http://track.example.org/t/click/", "https://track.example.org/t/click/"},
		{"", "http://track.example.org/t/open/", "http://track.example.org/t/click/", "https://track.example.org/t/click/"},
		{HTTPSRequireOpenOnly, "https://track.example.org/t/open/", "http://track.example.org/t/click/", "https://track.example.org/t/click/"},
		{HTTPSRequire, "https://track.example.org/t/open/", "https://track.example.org/t/click/", "https://track.example.org/t/click/"},
	}
	for _, tt := range tests {
		res := s.Rewrite(msg, Options{MessageID: "m", BaseURL: "http://127.0.0.1:1", Domain: "track.example.org", HTTPSPolicy: tt.policy, Open: true, Click: true})
		html := decodedHTML(t, res.Data)
		ia, ib, io := strings.Index(html, tt.httpA), strings.LastIndex(html, tt.sB), strings.Index(html, tt.open)
		if ia < 0 || ib < 0 || io < 0 || ia >= ib || ib >= io {
			t.Errorf("policy %q: %s", tt.policy, html)
		}
	}
}

func TestRewriteKeepsOtherPartsByteIdentical(t *testing.T) {
	s := testSigner(t)
	msg, err := os.ReadFile("testdata/mixed-attachment.eml")
	if err != nil {
		t.Fatal(err)
	}
	msg = bytes.ReplaceAll(msg, []byte("\n"), []byte("\r\n"))
	out := s.Rewrite(msg, testOptions).Data
	// Everything from the attached HTML page to the end: the attachments.
	i := bytes.Index(msg, []byte("--mixed-1\r\nContent-Type: text/html; name="))
	if i < 0 || !bytes.HasSuffix(out, msg[i:]) {
		t.Errorf("attachments changed")
	}
	// And everything before the rewritten part.
	j := bytes.Index(msg, []byte("Content-Type: text/html; charset=us-ascii"))
	if !bytes.Equal(out[:j], msg[:j]) {
		t.Errorf("the start of the message changed")
	}
}
