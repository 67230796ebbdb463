package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
)

var acceptTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

const testMsgID = "<0100018f2a3b4c5d-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d-000000@mail.example.net>"

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func mustPrepare(t *testing.T, raw []byte) *Prepared {
	t.Helper()
	p, err := PrepareRaw(raw, RawOptions{MessageID: testMsgID, Date: acceptTime})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func headerValues(t *testing.T, msg []byte, name string) []string {
	t.Helper()
	h, err := ParseHeader(msg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

func TestPrepareRawRewritesHeaders(t *testing.T) {
	raw := crlf(`From: "Sender" <sender@example.com>
To: a@example.com, "B, Bee" <b@example.com>
Cc: c@example.com
Bcc: hidden@example.com, other-hidden@example.com
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and
 more
Message-ID: <customer-id@client.example>
Date: Mon, 1 Jan 2024 00:00:00 +0100
Return-Path: <feedback@example.com>
X-SES-CONFIGURATION-SET: my-set
X-SES-MESSAGE-TAGS: campaign=spring, tier=gold
X-SES-SOURCE-ARN: arn:aws:ses:us-east-1:123456789012:identity/example.com
X-SES-FROM-ARN: arn:aws:ses:us-east-1:123456789012:identity/from.example.com
X-SES-RETURN-PATH-ARN: arn:aws:ses:us-east-1:123456789012:identity/rp.example.com
x-ses-list-management-options: news; topic=weekly
X-Keep: yes

Body line 1
Body line 2
`)
	p := mustPrepare(t, raw)

	if got := headerValues(t, p.Data, "Message-ID"); len(got) != 1 || got[0] != testMsgID {
		t.Errorf("Message-ID = %q", got)
	}
	if got := headerValues(t, p.Data, "Date"); len(got) != 1 || got[0] != "Wed, 01 May 2024 12:00:00 +0000" {
		t.Errorf("Date = %q", got)
	}
	if got := headerValues(t, p.Data, "MIME-Version"); len(got) != 1 || got[0] != "1.0" {
		t.Errorf("MIME-Version = %q", got)
	}
	for _, gone := range []string{"Bcc", "Return-Path", "X-SES-CONFIGURATION-SET", "X-SES-MESSAGE-TAGS",
		"X-SES-SOURCE-ARN", "X-SES-FROM-ARN", "X-SES-RETURN-PATH-ARN", "X-SES-LIST-MANAGEMENT-OPTIONS"} {
		if got := headerValues(t, p.Data, gone); got != nil {
			t.Errorf("%s still in Data: %q", gone, got)
		}
	}
	if got := headerValues(t, p.Data, "X-Keep"); len(got) != 1 {
		t.Errorf("X-Keep lost")
	}
	// The folded Subject is passed through as written.
	if !bytes.Contains(p.Data, crlf("Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and\n more\n")) {
		t.Error("Subject not passed through with its folding")
	}
	if !bytes.HasSuffix(p.Data, crlf("\nBody line 1\nBody line 2\n")) {
		t.Errorf("body changed:\n%s", p.Data)
	}

	wantAddr := func(name string, got []Address, want ...Address) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
			return
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	wantAddr("From", p.From, Address{"Sender", "sender@example.com"})
	wantAddr("To", p.To, Address{"", "a@example.com"}, Address{"B, Bee", "b@example.com"})
	wantAddr("Cc", p.Cc, Address{"", "c@example.com"})
	wantAddr("Bcc", p.Bcc, Address{"", "hidden@example.com"}, Address{"", "other-hidden@example.com"})
	wantAddr("ReturnPath", p.ReturnPath, Address{"", "feedback@example.com"})
	if p.Subject != "Grüße and more" {
		t.Errorf("Subject = %q", p.Subject)
	}
	if p.SESConfigurationSet != "my-set" {
		t.Errorf("configuration set = %q", p.SESConfigurationSet)
	}
	if len(p.SESMessageTags) != 2 || p.SESMessageTags[0] != (Tag{"campaign", "spring"}) || p.SESMessageTags[1] != (Tag{"tier", "gold"}) {
		t.Errorf("tags = %v", p.SESMessageTags)
	}
	if p.SESSourceArn != "arn:aws:ses:us-east-1:123456789012:identity/example.com" ||
		p.SESFromArn != "arn:aws:ses:us-east-1:123456789012:identity/from.example.com" ||
		p.SESReturnPathArn != "arn:aws:ses:us-east-1:123456789012:identity/rp.example.com" {
		t.Errorf("ARNs = %q %q %q", p.SESSourceArn, p.SESFromArn, p.SESReturnPathArn)
	}
	lm, err := ParseListManagementOptions(p.SESListManagement)
	if err != nil || lm != (ListManagementOptions{"news", "weekly"}) {
		t.Errorf("list management = %+v, %v", lm, err)
	}

	// Header keeps the message as submitted, for events.
	if len(p.Header) != 15 || p.Header[3] != (Header{"Bcc", "hidden@example.com, other-hidden@example.com"}) ||
		p.Header[4] != (Header{"Subject", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and more"}) {
		t.Errorf("Header = %q", p.Header)
	}
	c := p.CommonHeaders()
	if c.MessageID != "<customer-id@client.example>" || c.Date != "Mon, 1 Jan 2024 00:00:00 +0100" ||
		c.Subject != "Grüße and more" || c.ReturnPath != "feedback@example.com" ||
		strings.Join(c.To, "|") != `a@example.com|"B, Bee" <b@example.com>` ||
		strings.Join(c.Bcc, "|") != "hidden@example.com|other-hidden@example.com" ||
		strings.Join(c.From, "|") != "Sender <sender@example.com>" {
		t.Errorf("CommonHeaders = %+v", c)
	}
}

func TestPrepareRawAddsMissingHeaders(t *testing.T) {
	p := mustPrepare(t, crlf("From: a@example.com\nTo: b@example.com\nSubject: hi\n\nbody\n"))
	want := crlf("From: a@example.com\nTo: b@example.com\nSubject: hi\n" +
		"Message-ID: " + testMsgID + "\nDate: Wed, 01 May 2024 12:00:00 +0000\nMIME-Version: 1.0\n\nbody\n")
	if !bytes.Equal(p.Data, want) {
		t.Errorf("Data =\n%q\nwant\n%q", p.Data, want)
	}
	c := p.CommonHeaders()
	if c.MessageID != testMsgID || c.Date != "Wed, 01 May 2024 12:00:00 +0000" {
		t.Errorf("CommonHeaders fall back to written values: %+v", c)
	}
}

func TestPrepareRawKeepsHeadersWithoutOptions(t *testing.T) {
	raw := crlf("Message-ID: <x@y>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMIME-Version: 1.0\n\nb")
	p, err := PrepareRaw(raw, RawOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Data, raw) {
		t.Errorf("Data = %q, want unchanged", p.Data)
	}
}

func TestPrepareRawLFOnlyAndHeadersOnly(t *testing.T) {
	p := mustPrepare(t, []byte("From: a@example.com\nSubject: folded\n\tsubject\n\nline1\nline2"))
	if !bytes.Equal(normalizeCRLF(p.Data), p.Data) {
		t.Errorf("Data has bare LF: %q", p.Data)
	}
	if p.Subject != "folded\tsubject" {
		t.Errorf("Subject = %q", p.Subject)
	}
	if !bytes.HasSuffix(p.Data, []byte("\r\n\r\nline1\r\nline2")) {
		t.Errorf("Data = %q", p.Data)
	}

	// No empty line: the message is all header, the body empty.
	p = mustPrepare(t, []byte("From: a@example.com\nSubject: no body"))
	if !bytes.HasSuffix(p.Data, []byte("MIME-Version: 1.0\r\n\r\n")) || p.Subject != "no body" {
		t.Errorf("Data = %q", p.Data)
	}
}

// TestPrepareRawAttachmentBytesIdentical checks the body, attachments
// included, leaves PrepareRaw byte for byte.
func TestPrepareRawAttachmentBytesIdentical(t *testing.T) {
	s := baseSimple()
	s.Text = Content{Data: "see attachment"}
	payload := make([]byte, 5000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	s.Attachments = []Attachment{{Data: payload, FileName: "data.bin"}}
	built := mustBuild(t, s)
	p := mustPrepare(t, built)

	_, inBody, _, _ := splitMessage(built)
	_, outBody, _, _ := splitMessage(p.Data)
	if !bytes.Equal(inBody, outBody) {
		t.Fatal("body changed")
	}
	e, err := message.Read(bytes.NewReader(p.Data))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	_ = e.Walk(func(_ []int, part *message.Entity, _ error) error {
		if _, params, _ := part.Header.ContentDisposition(); params["filename"] == "data.bin" {
			got, _ = io.ReadAll(part.Body)
		}
		return nil
	})
	if !bytes.Equal(got, payload) {
		t.Errorf("attachment decoded to %d bytes, differs from the %d sent", len(got), len(payload))
	}
}

func TestPrepareRawErrors(t *testing.T) {
	exe := base64.StdEncoding.EncodeToString([]byte("MZ\x90\x00"))
	tests := []struct {
		name, raw, reason string
	}{
		{"duplicate subject", "Subject: a\nsubject: b\n\nx", "Duplicate header 'Subject'."},
		{"duplicate message-id", "Message-Id: <a@b>\nMessage-ID: <c@d>\n\nx", "Duplicate header 'Message-ID'."},
		{"duplicate dkim", "DKIM-Signature: a\nDKIM-Signature: b\n\nx", "Duplicate header 'DKIM-Signature'."},
		{"top-level attachment", "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"virus.exe\"\n\n" + exe, "Illegal filename 'virus.exe'."},
		{"name parameter", "Content-Type: application/x-msdownload; name=setup.msi\n\n" + exe, "Illegal filename 'setup.msi'."},
		{"nested multipart", "Content-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: text/plain\n\nhi\n--outer\nContent-Type: multipart/mixed; boundary=inner\n\n--inner\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"Run.BAT\"\n\n" + exe + "\n--inner--\n--outer--\n", "Illegal filename 'Run.BAT'."},
		{"rfc 2231 name", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Disposition: attachment; filename*=utf-8''%C3%BCber.js\n\nx\n--b--\n", "Illegal filename 'über.js'."},
		{"rfc 2047 name", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream; name=\"=?UTF-8?B?w7xiZXIudmJz?=\"\n\nx\n--b--\n", "Illegal filename 'über.vbs'."},
		{"attached message", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: application/octet-stream; name=\"a.scr\"\n\nx\n--b--\n", "Illegal filename 'a.scr'."},
		{"malformed parameters", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Disposition: attachment; filename=a.cmd; filename=b.txt\n\nx\n--b--\n", "Illegal filename 'a.cmd'."},
		{"long line", "Subject: x\n\n" + strings.Repeat("a", 999) + "\n", "Message has a line longer than 1000 characters."},
		{"continuation first", " folded: x\n\nbody", reasonContinuation},
		{"no colon", "From a@example.com Mon Jan 1\nSubject: x\n\nbody", reasonHeaderLine},
		{"empty", "\r\n \r\n", "Message is empty."},
		{"bad tags", "X-SES-MESSAGE-TAGS: novalue\n\nx", "Invalid X-SES-MESSAGE-TAGS header: expected 'name1=value1, name2=value2'."},
		{"bad to", "To: nobody\n\nx", "Missing final '@domain'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PrepareRaw([]byte(tt.raw), RawOptions{MessageID: testMsgID, Date: acceptTime})
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.reason {
				t.Errorf("error = %q, want %q", err, tt.reason)
			}
			var ce *ContentError
			var ae *AddressError
			if !errors.As(err, &ce) && !errors.As(err, &ae) {
				t.Errorf("error type %T", err)
			}
		})
	}
}

func TestPrepareRawAccepts(t *testing.T) {
	for name, raw := range map[string]string{
		"line of 998":           "Subject: x\n\n" + strings.Repeat("a", 998) + "\n",
		"allowed attachment":    "Content-Type: application/pdf; name=\"report.pdf\"\n\nx",
		"exe in body text only": "Subject: x\n\nrun setup.exe please",
		"repeatable headers":    "Received: a\nReceived: b\nTo: a@example.com\nTo: b@example.com\n\nx",
		"group and null path":   "To: undisclosed-recipients:;\nReturn-Path: <>\n\nx",
		"broken multipart":      "Content-Type: multipart/mixed; boundary=b\n\n--b\nno end",
		"obsolete space colon":  "Subject : spaced\n\nx",
	} {
		t.Run(name, func(t *testing.T) {
			mustPrepare(t, []byte(raw))
		})
	}
}
