package feedback

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sesameID = "0100018ffa1b2c3d-5f0e8a4e-3c2b-4d1a-9e8f-7a6b5c4d3e2f-000000"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseDSNFile(t *testing.T, name string) *DSN {
	t.Helper()
	d, err := ParseDSN(readTestdata(t, filepath.Join("dsn", name)))
	if err != nil {
		t.Fatalf("ParseDSN(%s): %v", name, err)
	}
	return d
}

func TestParseDSNPostfix(t *testing.T) {
	d := parseDSNFile(t, "postfix.eml")
	if got := d.ReportingMTA.String(); got != "dns; mx1.example.net" {
		t.Errorf("ReportingMTA = %q", got)
	}
	if want := time.Date(2024, 6, 11, 9, 15, 1, 0, time.UTC); !d.ArrivalDate.Equal(want) {
		t.Errorf("ArrivalDate = %v, want %v", d.ArrivalDate, want)
	}
	if d.OriginalMessageID != sesameID+"@sesame.test" {
		t.Errorf("OriginalMessageID = %q", d.OriginalMessageID)
	}
	if len(d.Recipients) != 1 {
		t.Fatalf("%d recipients, want 1", len(d.Recipients))
	}
	r := d.Recipients[0]
	if r.Action != ActionFailed || r.Status != "5.1.1" {
		t.Errorf("Action, Status = %q, %q", r.Action, r.Status)
	}
	if got, want := r.DiagnosticCode.String(), "smtp; 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table"; got != want {
		t.Errorf("DiagnosticCode = %q, want %q (unfolded)", got, want)
	}
	if got := r.Addresses(); len(got) != 2 || got[0] != "nobody@example.net" || got[1] != "Nobody@Example.net" {
		t.Errorf("Addresses = %q", got)
	}
	if typ, sub := r.Classify(); typ != Permanent || sub != SubNoEmail {
		t.Errorf("Classify = %s/%s, want Permanent/NoEmail", typ, sub)
	}
}

func TestParseDSNDelayedAndFailed(t *testing.T) {
	d := parseDSNFile(t, "postfix-delayed.eml")
	if len(d.Recipients) != 2 {
		t.Fatalf("%d recipients, want 2", len(d.Recipients))
	}
	slow, full := d.Recipients[0], d.Recipients[1]
	if slow.Action != ActionDelayed || slow.Status != "4.4.1" || slow.WillRetryUntil.IsZero() {
		t.Errorf("delayed recipient = %+v", slow)
	}
	if slow.DiagnosticCode.Type != "x-postfix" {
		t.Errorf("diagnostic type = %q, want x-postfix", slow.DiagnosticCode.Type)
	}
	if typ, sub := full.Classify(); full.Action != ActionFailed || typ != Transient || sub != SubMailboxFull {
		t.Errorf("full mailbox: action %q, class %s/%s", full.Action, typ, sub)
	}
	// The returned headers came as text/rfc822-headers.
	if d.OriginalMessageID != sesameID+"@sesame.test" || len(d.OriginalHeaders) != 6 {
		t.Errorf("original: id %q, %d headers", d.OriginalMessageID, len(d.OriginalHeaders))
	}
}

func TestParseDSNEximGenericStatus(t *testing.T) {
	d := parseDSNFile(t, "exim.eml")
	if len(d.Recipients) != 2 {
		t.Fatalf("%d recipients, want 2", len(d.Recipients))
	}
	// Exim reports 5.0.0; the remote server's own code decides the class.
	want := []struct{ addr, typ, sub string }{
		{"quota@example.org", Transient, SubMailboxFull},
		{"gone@example.org", Permanent, SubNoEmail},
	}
	for i, w := range want {
		r := d.Recipients[i]
		typ, sub := r.Classify()
		if r.FinalRecipient.Value != w.addr || r.Status != "5.0.0" || typ != w.typ || sub != w.sub {
			t.Errorf("recipient %d: %s status %s → %s/%s, want %s → %s/%s", i, r.FinalRecipient.Value, r.Status, typ, sub, w.addr, w.typ, w.sub)
		}
	}
	if d.ArrivalDate != (time.Time{}) {
		t.Errorf("ArrivalDate = %v, want none", d.ArrivalDate)
	}
}

func TestParseDSNGmail(t *testing.T) {
	d := parseDSNFile(t, "gmail.eml")
	r := d.Recipients[0]
	// Comment and trailing dot of the MTA name dropped.
	if got := r.RemoteMTA.String(); got != "dns; gmail-smtp-in.l.google.com" {
		t.Errorf("RemoteMTA = %q", got)
	}
	if !strings.HasPrefix(r.DiagnosticCode.Value, "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking") {
		t.Errorf("DiagnosticCode = %q", r.DiagnosticCode.Value)
	}
	if want := time.Date(2024, 6, 11, 9, 17, 6, 0, time.UTC); !r.LastAttemptDate.Equal(want) {
		t.Errorf("LastAttemptDate = %v, want %v", r.LastAttemptDate, want)
	}
	if d.OriginalMessageID != sesameID+"@sesame.test" {
		t.Errorf("OriginalMessageID = %q", d.OriginalMessageID)
	}
}

// dsn builds a minimal DSN around a delivery-status body and extra parts.
func dsn(status string, extra ...string) string {
	s := "From: MAILER-DAEMON@mx.example.net\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n" + status + "\r\n"
	for _, p := range extra {
		s += "--b\r\n" + p + "\r\n"
	}
	return s + "--b--\r\n"
}

func TestParseDSNTolerance(t *testing.T) {
	t.Run("no per-message group, odd lines, comments, no Action", func(t *testing.T) {
		d, err := ParseDSN([]byte(dsn("\r\n\r\nFinal-Recipient: RFC822; <Bob@Example.com> (the user)\r\nthis line is junk\r\n" +
			"Status: 5.1.1 (bad mailbox)\r\n   \r\nFinal-Recipient: rfc822; carol@example.com\r\nAction: Delayed\r\nStatus: 4.4.7\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Recipients) != 2 || !d.ReportingMTA.IsZero() {
			t.Fatalf("recipients %+v, reporting MTA %+v", d.Recipients, d.ReportingMTA)
		}
		bob, carol := d.Recipients[0], d.Recipients[1]
		if bob.FinalRecipient != (Typed{Type: "rfc822", Value: "Bob@Example.com"}) || bob.Status != "5.1.1" || bob.Action != ActionFailed {
			t.Errorf("bob = %+v", bob)
		}
		if carol.Action != ActionDelayed {
			t.Errorf("carol's action = %q", carol.Action)
		}
	})
	t.Run("report-type missing", func(t *testing.T) {
		msg := strings.Replace(dsn("Reporting-MTA: dns; a.example\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.0.0\r\n"),
			"report-type=delivery-status; ", "", 1)
		d, err := ParseDSN([]byte(msg))
		if err != nil || len(d.Recipients) != 1 {
			t.Fatalf("ParseDSN = %+v, %v", d, err)
		}
	})
	t.Run("base64 delivery-status", func(t *testing.T) {
		// "Final-Recipient: rfc822; x@y.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
		msg := "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			"RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IHhAeS5leGFtcGxlDQpBY3Rpb246IGZhaWxlZA0KU3RhdHVzOiA1LjEuMQ0K\r\n--b--\r\n"
		d, err := ParseDSN([]byte(msg))
		if err != nil || d.Recipients[0].FinalRecipient.Value != "x@y.example" || d.Recipients[0].Status != "5.1.1" {
			t.Fatalf("ParseDSN = %+v, %v", d, err)
		}
	})
	t.Run("unknown charset in the human part", func(t *testing.T) {
		msg := strings.Replace(dsn("Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
			"Content-Type: text/plain\r\n", "Content-Type: text/plain; charset=x-unheard-of\r\n", 1)
		if _, err := ParseDSN([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("truncated returned message", func(t *testing.T) {
		msg := strings.TrimSuffix(dsn("Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
			"Content-Type: message/rfc822\r\n\r\nMessage-ID: <x@y>\r\nSubject: cut"), "--b--\r\n")
		d, err := ParseDSN([]byte(msg))
		if err != nil || len(d.Recipients) != 1 {
			t.Fatalf("ParseDSN = %+v, %v", d, err)
		}
	})
}

func TestParseDSNNotADSN(t *testing.T) {
	for name, msg := range map[string]string{
		"plain auto-reply": "From: a@example.com\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nI am away.\r\n",
		"ARF":              string(readTestdata(t, "arf/yahoo.eml")),
		"MDN":              "Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n--b\r\nContent-Type: message/disposition-notification\r\n\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n",
		"empty":            "",
		"multipart/mixed":  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDSN([]byte(msg))
			if !errors.Is(err, ErrNotReport) {
				t.Errorf("ParseDSN: %v, want ErrNotReport", err)
			}
		})
	}
}

func TestParseDSNMalformed(t *testing.T) {
	for name, msg := range map[string]string{
		"no delivery-status part":   "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n",
		"per-message group only":    dsn("Reporting-MTA: dns; mx.example.net\r\nArrival-Date: Tue, 11 Jun 2024 09:15:01 +0000\r\n"),
		"empty delivery-status":     dsn(""),
		"recipient without address": dsn("Reporting-MTA: dns; mx.example.net\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
		"bad header":                "Content-Type multipart/report\r\n\r\n",
		"broken multipart":          "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\nno boundary at all\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDSN([]byte(msg))
			if err == nil || errors.Is(err, ErrNotReport) {
				t.Errorf("ParseDSN = %+v, %v; want a malformed-report error", d, err)
			}
		})
	}
}
