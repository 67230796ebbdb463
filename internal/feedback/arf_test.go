package feedback

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parseARFFile(t *testing.T, name string) *Report {
	t.Helper()
	r, err := ParseARF(readTestdata(t, filepath.Join("arf", name)))
	if err != nil {
		t.Fatalf("ParseARF(%s): %v", name, err)
	}
	return r
}

func TestParseARFRFC5965Example(t *testing.T) {
	r := parseARFFile(t, "rfc5965-b2.eml")
	if r.FeedbackType != TypeAbuse || r.UserAgent != "SomeGenerator/1.0" || r.Version != "1" {
		t.Errorf("type, agent, version = %q, %q, %q", r.FeedbackType, r.UserAgent, r.Version)
	}
	if r.OriginalMailFrom != "somespammer@example.net" || len(r.OriginalRcptTo) != 1 || r.OriginalRcptTo[0] != "user@example.com" {
		t.Errorf("envelope = %q → %q", r.OriginalMailFrom, r.OriginalRcptTo)
	}
	// "Thu, 8 Mar 2005 14:00:00 EDT": EDT is four hours behind UTC.
	if want := time.Date(2005, 3, 8, 18, 0, 0, 0, time.UTC); !r.ArrivalDate.Equal(want) {
		t.Errorf("ArrivalDate = %v, want %v", r.ArrivalDate, want)
	}
	if r.SourceIP != "192.0.2.1" || r.ReportingMTA.String() != "dns; mail.example.com" {
		t.Errorf("source %q, reporting MTA %q", r.SourceIP, r.ReportingMTA)
	}
	if len(r.ReportedURI) != 2 || len(r.ReportedDomain) != 1 || r.ReportedDomain[0] != "example.net" {
		t.Errorf("reported URIs %q, domains %q", r.ReportedURI, r.ReportedDomain)
	}
	if len(r.AuthenticationResults) != 1 || !strings.Contains(r.AuthenticationResults[0], "spf=fail") {
		t.Errorf("Authentication-Results = %q (must be unfolded)", r.AuthenticationResults)
	}
	// The example's Message-ID has no angle brackets.
	if r.OriginalMessageID != "8787KJKJ3K4J3K4J3K4J3.mail@example.net" {
		t.Errorf("OriginalMessageID = %q", r.OriginalMessageID)
	}
}

func TestParseARFProviders(t *testing.T) {
	yahoo := parseARFFile(t, "yahoo.eml")
	if yahoo.UserAgent != "Yahoo!-Mail-Feedback/2.0" || yahoo.OriginalMessageID != sesameID+"@sesame.test" {
		t.Errorf("yahoo: %+v", yahoo)
	}
	if len(yahoo.OriginalRcptTo) != 1 || yahoo.OriginalRcptTo[0] != "Reader@yahoo.com" {
		t.Errorf("yahoo Original-Rcpt-To = %q", yahoo.OriginalRcptTo)
	}
	if want := time.Date(2024, 6, 11, 9, 20, 0, 0, time.UTC); !yahoo.ArrivalDate.Equal(want) {
		t.Errorf("yahoo Received-Date read as %v, want %v", yahoo.ArrivalDate, want)
	}

	aol := parseARFFile(t, "aol.eml")
	if aol.OriginalRcptTo != nil {
		t.Errorf("aol redacts the recipient, got %q", aol.OriginalRcptTo)
	}
	if aol.UserAgent != "AOL SComp" || aol.OriginalMessageID != sesameID+"@sesame.test" || aol.SourceIP != "198.51.100.7" {
		t.Errorf("aol: %+v", aol)
	}

	fwd := parseARFFile(t, "forwarded.eml")
	if fwd.FeedbackType != TypeFraud || fwd.OriginalMessageID != sesameID+"@sesame.test" {
		t.Errorf("report nested in multipart/mixed: %+v", fwd)
	}
}

// arf builds a minimal feedback report around its fields.
func arf(fields string) string {
	return "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\n" + fields + "\r\n--b--\r\n"
}

func TestParseARFTolerance(t *testing.T) {
	r, err := ParseARF([]byte(arf("Feedback-Type: Not-Spam (user said so)\r\n\r\nUser-Agent: Split/1.0\r\nOriginal-Rcpt-To: a@example.com\r\nOriginal-Rcpt-To: <B@example.com>\r\nArrival-Date: yesterday\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	if r.FeedbackType != TypeNotSpam {
		t.Errorf("FeedbackType = %q", r.FeedbackType)
	}
	if r.UserAgent != "Split/1.0" {
		t.Errorf("a stray blank line lost the fields after it: %+v", r)
	}
	if len(r.OriginalRcptTo) != 2 || r.OriginalRcptTo[1] != "B@example.com" {
		t.Errorf("OriginalRcptTo = %q", r.OriginalRcptTo)
	}
	if !r.ArrivalDate.IsZero() || r.OriginalHeaders != nil {
		t.Errorf("unreadable date %v, headers %v: want zero, nil", r.ArrivalDate, r.OriginalHeaders)
	}
}

func TestParseARFNotAReport(t *testing.T) {
	for name, msg := range map[string]string{
		"DSN":         string(readTestdata(t, "dsn/postfix.eml")),
		"human reply": "From: reader@example.com\r\nSubject: Re: News\r\n\r\nStop sending me this.\r\n",
	} {
		if _, err := ParseARF([]byte(msg)); !errors.Is(err, ErrNotReport) {
			t.Errorf("%s: ParseARF: %v, want ErrNotReport", name, err)
		}
	}
}

func TestParseARFMalformed(t *testing.T) {
	for name, msg := range map[string]string{
		"no Feedback-Type": arf("User-Agent: X/1\r\nVersion: 1\r\n"),
		"no report part":   "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nspam!\r\n--b--\r\n",
		"empty report":     arf(""),
	} {
		if r, err := ParseARF([]byte(msg)); err == nil || errors.Is(err, ErrNotReport) {
			t.Errorf("%s: ParseARF = %+v, %v; want a malformed-report error", name, r, err)
		}
	}
}

func TestMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"<a@b>":                  "a@b",
		"  <a@b> (comment)":      "a@b",
		"(c) <a@b>":              "a@b",
		"a@b":                    "a@b",
		"<a@b":                   "a@b",
		"":                       "",
		"<>":                     "",
		"<x@y> <second@ignored>": "x@y",
	} {
		if got := MessageID(in); got != want {
			t.Errorf("MessageID(%q) = %q, want %q", in, got, want)
		}
	}
}
