package mail

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// seqBoundary returns a deterministic boundary generator for golden files.
func seqBoundary() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("=_boundary%d", n)
	}
}

var testDate = time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("CEST", 2*3600))

func baseSimple() Simple {
	return Simple{
		From:      "sender@example.com",
		To:        []string{"to@example.com"},
		Subject:   Content{Data: "Hello"},
		MessageID: MessageIDHeader("0100018f2a3b4c5d-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d-000000", "mail.example.net"),
		Date:      testDate,
	}
}

func buildCases() map[string]Simple {
	cases := map[string]Simple{}

	s := baseSimple()
	s.Text = Content{Data: "Hello, world.\nSecond line.\n"}
	cases["text"] = s

	s = baseSimple()
	s.HTML = Content{Data: "<p>Hello, <b>world</b>.</p>"}
	cases["html"] = s

	s = baseSimple()
	s.Cc = []string{"Carol <cc@example.com>", `"Doe, Dan" <dan@example.com>`}
	s.ReplyTo = []string{"replies@example.com"}
	s.Text = Content{Data: "Plain part"}
	s.HTML = Content{Data: "<p>HTML part</p>"}
	cases["alternative"] = s

	s = baseSimple()
	s.From = `"Jöhn Dœ" <john@example.com>`
	s.To = []string{"Zoë Ünïcode <zoe@example.com>", "=?UTF-8?B?5bGx55Sw?= <yamada@example.jp>"}
	s.Subject = Content{Data: "Grüße aus Köln – ein Betreff mit Umlauten, der lang genug ist, um gefaltet zu werden", Charset: "UTF-8"}
	s.Text = Content{Data: "Grüße!\r\nDas ist ein Text mit Umlauten: äöü ÄÖÜ ß.\r\n"}
	s.HTML = Content{Data: "<p>日本語のテキストです。これは本文です。</p>"}
	cases["utf8"] = s

	s = baseSimple()
	s.Subject = Content{Data: "Café", Charset: "ISO-8859-1"}
	s.Text = Content{Data: "Crème brûlée", Charset: "iso-8859-1"}
	cases["latin1"] = s

	s = baseSimple()
	s.Text = Content{Data: "See attached."}
	s.HTML = Content{Data: `<p>See attached.<img src="cid:logo@example.com"></p>`}
	s.Attachments = []Attachment{
		{Data: []byte("%PDF-1.4\n\x00\x01\x02binary"), FileName: "report.pdf"},
		{Data: []byte("\x89PNG\r\n\x1a\n"), FileName: "logo.png", Disposition: DispositionInline, ContentID: "logo@example.com"},
		{Data: []byte("name,qty\nwidget,2\n"), FileName: "Übersicht 2024.csv", ContentType: "text/csv; charset=utf-8", TransferEncoding: EncodingQuotedPrintable, Description: "Bestandsübersicht"},
		{Data: []byte("just ascii\n"), FileName: "notes.txt", TransferEncoding: EncodingSevenBit},
	}
	cases["attachments"] = s

	s = baseSimple()
	s.Text = Content{Data: "Unsubscribe below."}
	s.Headers = []Header{
		{Name: "List-Unsubscribe", Value: "<https://example.com/u?id=1>, <mailto:u@example.com>"},
		{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		{Name: "X-Campaign", Value: "spring-2024"},
	}
	cases["headers"] = s

	s = baseSimple()
	s.Text = Content{Data: strings.Repeat("A long line without any break at all. ", 40)}
	cases["longline"] = s
	return cases
}

func TestBuildGolden(t *testing.T) {
	for name, s := range buildCases() {
		t.Run(name, func(t *testing.T) {
			got, err := Builder{Boundary: seqBoundary()}.Build(s)
			if err != nil {
				t.Fatal(err)
			}
			checkWireForm(t, got)
			path := filepath.Join("testdata", "build", name+".eml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update after checking):\n%s", path, got)
			}
		})
	}
}

// checkWireForm asserts what every message Sesame sends must satisfy: CRLF
// line endings only, no line over 998 octets, 7-bit only, no Bcc.
func checkWireForm(t *testing.T, msg []byte) {
	t.Helper()
	if !bytes.Equal(normalizeCRLF(msg), msg) {
		t.Error("message has bare CR or LF")
	}
	for i, line := range bytes.Split(msg, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d has %d octets", i+1, len(line))
		}
		for _, c := range line {
			if c >= 0x80 || c == 0 {
				t.Fatalf("line %d has octet %#x: %q", i+1, c, line)
			}
		}
	}
	h, err := ParseHeader(msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range h {
		if strings.EqualFold(f.Name, "Bcc") {
			t.Error("Bcc header written")
		}
	}
}

// TestBuildRoundTrip parses built messages back with go-message, an
// independent MIME implementation, and checks what a mail client would see.
func TestBuildRoundTrip(t *testing.T) {
	cases := buildCases()

	t.Run("utf8", func(t *testing.T) {
		s := cases["utf8"]
		msg := mustBuild(t, s)
		h := mailHeader(t, msg)
		subject, err := h.Subject()
		if err != nil || subject != s.Subject.Data {
			t.Errorf("subject = %q, %v; want %q", subject, err, s.Subject.Data)
		}
		from, err := h.AddressList("From")
		if err != nil || len(from) != 1 || from[0].Name != "Jöhn Dœ" || from[0].Address != "john@example.com" {
			t.Errorf("From = %v, %v", from, err)
		}
		to, err := h.AddressList("To")
		if err != nil || len(to) != 2 || to[0].Name != "Zoë Ünïcode" || to[1].Name != "山田" {
			t.Errorf("To = %v, %v", to, err)
		}
		if ct, _, _ := h.ContentType(); ct != "multipart/alternative" {
			t.Errorf("top content type %q", ct)
		}
		compareParts(t, readParts(t, msg), []wantPart{
			{"text/plain", "UTF-8", "", s.Text.Data},
			{"text/html", "UTF-8", "", s.HTML.Data},
		})
	})

	t.Run("latin1", func(t *testing.T) {
		msg := mustBuild(t, cases["latin1"])
		raw := mailHeader(t, msg).Get("Subject")
		if !strings.HasPrefix(raw, "=?ISO-8859-1?") {
			t.Errorf("Subject %q not in ISO-8859-1", raw)
		}
		if s, err := new(mime.WordDecoder).DecodeHeader(raw); err != nil || s != "Café" {
			t.Errorf("subject decodes to %q, %v", s, err)
		}
		compareParts(t, readParts(t, msg), []wantPart{
			{"text/plain", "ISO-8859-1", "", "Cr\xe8me br\xfbl\xe9e"},
		})
	})

	t.Run("attachments", func(t *testing.T) {
		s := cases["attachments"]
		msg := mustBuild(t, s)
		if ct, _, _ := mailHeader(t, msg).ContentType(); ct != "multipart/mixed" {
			t.Errorf("top content type %q", ct)
		}
		compareParts(t, readParts(t, msg), []wantPart{
			{"text/plain", "UTF-8", "", s.Text.Data},
			{"text/html", "UTF-8", "", s.HTML.Data},
			{"image/png", "", "logo.png", string(s.Attachments[1].Data)},
			{"application/pdf", "", "report.pdf", string(s.Attachments[0].Data)},
			{"text/csv", "utf-8", "Übersicht 2024.csv", strings.ReplaceAll(string(s.Attachments[2].Data), "\n", "\r\n")},
			{"text/plain", "", "notes.txt", "just ascii\r\n"},
		})
		if !bytes.Contains(msg, []byte("Content-Type: multipart/related; type=\"text/html\";")) {
			t.Error("inline attachment not in multipart/related")
		}
	})

	t.Run("long filename", func(t *testing.T) {
		s := baseSimple()
		s.Text = Content{Data: "x"}
		name := strings.Repeat("ä", 200) + ".pdf"
		s.Attachments = []Attachment{{Data: []byte("data"), FileName: name}}
		msg := mustBuild(t, s)
		checkWireForm(t, msg)
		parts := readParts(t, msg)
		if len(parts) != 2 || parts[1].filename != name || parts[1].body != "data" {
			t.Errorf("parts = %+v", parts)
		}
	})

	t.Run("long subject without spaces", func(t *testing.T) {
		s := baseSimple()
		s.Subject.Data = strings.Repeat("x", 2000)
		s.Text = Content{Data: "x"}
		msg := mustBuild(t, s)
		checkWireForm(t, msg)
		if got, _ := mailHeader(t, msg).Subject(); got != s.Subject.Data {
			t.Errorf("subject = %q", got)
		}
	})

	t.Run("names needing quotes survive", func(t *testing.T) {
		for _, name := range []string{"Doe, John", `Quote "q" Back\slash`, "Émile, Zola (author)", "=?not?= encoded"} {
			s := baseSimple()
			s.From = Address{Name: name, Addr: "a@example.com"}.String()
			s.Text = Content{Data: "x"}
			from, err := mailHeader(t, mustBuild(t, s)).AddressList("From")
			if err != nil || len(from) != 1 || from[0].Name != name {
				t.Errorf("%q: From = %v, %v", name, from, err)
			}
		}
	})
}

func mustBuild(t *testing.T, s Simple) []byte {
	t.Helper()
	msg, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func mailHeader(t *testing.T, msg []byte) *gomail.Header {
	t.Helper()
	e, err := message.Read(bytes.NewReader(msg))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatal(err)
	}
	return &gomail.Header{Header: e.Header}
}

type wantPart struct {
	mediaType, charset, filename, body string
}

// readParts returns the leaf parts in order, as go-message decodes them:
// transfer encoding removed, UTF-8 text as is, other charsets left raw.
func readParts(t *testing.T, msg []byte) []wantPart {
	t.Helper()
	e, err := message.Read(bytes.NewReader(msg))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatal(err)
	}
	var out []wantPart
	err = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil && !message.IsUnknownCharset(err) {
			return err
		}
		if part.MultipartReader() != nil {
			return nil
		}
		ct, params, err := part.Header.ContentType()
		if err != nil {
			return err
		}
		_, dparams, _ := part.Header.ContentDisposition()
		body, err := io.ReadAll(part.Body)
		if err != nil {
			return err
		}
		out = append(out, wantPart{ct, params["charset"], dparams["filename"], string(body)})
		if len(out) > 100 {
			return errors.New("too many parts")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareParts(t *testing.T, got, want []wantPart) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d parts, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("part %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Simple)
		reason string
	}{
		{"missing domain", func(s *Simple) { s.To = []string{"nobody"} }, "Missing final '@domain'"},
		{"bad from", func(s *Simple) { s.From = "John <john@exa mple.com>" }, ""},
		{"non-ascii address", func(s *Simple) { s.Cc = []string{"jöhn@example.com"} }, "Local address contains illegal character"},
		{"illegal filename", func(s *Simple) {
			s.Attachments = []Attachment{{Data: []byte("MZ"), FileName: "setup.EXE"}}
		}, "Illegal filename 'setup.EXE'."},
		{"illegal filename trailing dot", func(s *Simple) {
			s.Attachments = []Attachment{{Data: []byte("MZ"), FileName: "run.bat."}}
		}, "Illegal filename 'run.bat.'."},
		{"reserved custom header", func(s *Simple) {
			s.Headers = []Header{{Name: "Subject", Value: "x"}}
		}, "Header 'Subject' is set by SES and cannot be a custom header."},
		{"duplicate custom header", func(s *Simple) {
			s.Headers = []Header{{Name: "List-Id", Value: "a"}, {Name: "list-id", Value: "b"}}
		}, "Duplicate header 'List-Id'."},
		{"header injection", func(s *Simple) {
			s.Headers = []Header{{Name: "X-A", Value: "a\r\nBcc: victim@example.com"}}
		}, "Invalid value for header 'X-A'."},
		{"bad header name", func(s *Simple) {
			s.Headers = []Header{{Name: "X A", Value: "a"}}
		}, "Invalid header name 'X A'."},
		{"seven bit with 8-bit data", func(s *Simple) {
			s.Attachments = []Attachment{{Data: []byte("caf\xc3\xa9"), FileName: "a.txt", TransferEncoding: EncodingSevenBit}}
		}, "Attachment 'a.txt' is not 7-bit data with lines of at most 998 characters."},
		{"content id injection", func(s *Simple) {
			s.Attachments = []Attachment{{Data: []byte("x"), FileName: "a.png", ContentID: "a\r\nb"}}
		}, "Invalid content ID 'a\r\nb'."},
		{"bad content type", func(s *Simple) {
			s.Attachments = []Attachment{{Data: []byte("x"), FileName: "a.bin", ContentType: "not a type"}}
		}, "Invalid content type 'not a type' for attachment 'a.bin'."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSimple()
			s.Text = Content{Data: "x"}
			tt.modify(&s)
			_, err := Build(s)
			if err == nil {
				t.Fatal("no error")
			}
			var ce *ContentError
			var ae *AddressError
			if !errors.As(err, &ce) && !errors.As(err, &ae) {
				t.Fatalf("error %T %v is neither ContentError nor AddressError", err, err)
			}
			if tt.reason != "" && err.Error() != tt.reason {
				t.Errorf("error = %q, want %q", err, tt.reason)
			}
		})
	}
}

func TestBuildNeverWritesBccOrNonASCII(t *testing.T) {
	for name, s := range buildCases() {
		msg, err := Build(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkWireForm(t, msg)
	}
}

// onlyCRLF agrees with its definition (no CR without an LF after it, no LF
// without a CR before it) on every string of up to 7 bytes over "a", CR, LF.
func TestOnlyCRLF(t *testing.T) {
	naive := func(msg []byte) bool {
		for i, c := range msg {
			if c == '\n' && (i == 0 || msg[i-1] != '\r') || c == '\r' && (i+1 == len(msg) || msg[i+1] != '\n') {
				return false
			}
		}
		return true
	}
	alphabet := []byte{'a', '\r', '\n'}
	var walk func(msg []byte)
	walk = func(msg []byte) {
		if got, want := onlyCRLF(msg), naive(msg); got != want {
			t.Fatalf("onlyCRLF(%q) = %v, want %v", msg, got, want)
		}
		if len(msg) == 7 {
			return
		}
		for _, c := range alphabet {
			walk(append(msg, c))
		}
	}
	walk(nil)
}
