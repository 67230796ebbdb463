package events

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/mail"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() *Message {
	return &Message{
		ID:               "0100018f2a3b4c5d-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000",
		Timestamp:        time.Date(2024, 5, 1, 12, 30, 45, 123e6, time.UTC),
		Source:           "Sender Name <sender@example.com>",
		SourceARN:        "arn:aws:ses:us-east-1:123456789012:identity/example.com",
		SendingAccountID: "123456789012",
		SourceIP:         "192.0.2.10",
		CallerIdentity:   "root",
		Destination:      []string{"recipient@example.net"},
		Headers: []mail.Header{
			{Name: "From", Value: "Sender Name <sender@example.com>"},
			{Name: "To", Value: "recipient@example.net"},
			{Name: "Subject", Value: "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?="},
			{Name: "Message-ID", Value: "<0100018f2a3b4c5d-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000@sesame.test>"},
			{Name: "Date", Value: "Wed, 1 May 2024 12:30:45 +0000"},
		},
		Tags:      map[string][]string{"campaign": {"spring"}},
		Operation: "SendEmail",
		ConfigSet: "marketing",
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", name, pretty.Bytes(), want)
	}
}

func TestPublishingShapes(t *testing.T) {
	bounce := json.RawMessage(`{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"recipient@example.net","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2024-05-01T12:30:46.000Z","feedbackId":"0100018f2a3b4c5d-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000","reportingMTA":"dns; sesame.test"}`)
	for _, c := range []struct {
		file, typ string
		detail    json.RawMessage
	}{
		{"send.golden.json", "Send", nil},
		{"bounce.golden.json", "Bounce", bounce},
		{"rendering-failure.golden.json", "Rendering Failure", json.RawMessage(`{"templateName":"Welcome","errorMessage":"Attribute 'name' is not present in the rendering data."}`)},
	} {
		got, err := Publishing(c.typ, c.detail, sample())
		if err != nil {
			t.Fatal(err)
		}
		golden(t, c.file, got)
	}
	if _, err := Publishing("Nonsense", nil, sample()); err == nil {
		t.Fatal("unknown event type accepted")
	}
}

func TestNotificationShapes(t *testing.T) {
	delivery := json.RawMessage(`{"timestamp":"2024-05-01T12:30:46.000Z","processingTimeMillis":877,"recipients":["recipient@example.net"],"smtpResponse":"250 2.0.0 Ok","reportingMTA":"sesame.test","remoteMtaIp":"127.0.0.1"}`)
	got, err := Notification("Delivery", delivery, sample(), false)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "notification-delivery.golden.json", got)
	got, err = Notification("Delivery", delivery, sample(), true)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "notification-delivery-headers.golden.json", got)
	if _, err := Notification("Send", nil, sample(), false); err == nil {
		t.Fatal("SES has no Send notification")
	}
}

func TestHeadersTruncatedAt10KB(t *testing.T) {
	m := sample()
	for range 200 {
		m.Headers = append(m.Headers, mail.Header{Name: "X-Filler", Value: string(bytes.Repeat([]byte("x"), 100))})
	}
	got, err := Publishing("Send", nil, m)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Mail struct {
			HeadersTruncated bool     `json:"headersTruncated"`
			Headers          []Header `json:"headers"`
		} `json:"mail"`
	}
	if err := json.Unmarshal(got, &rec); err != nil {
		t.Fatal(err)
	}
	if !rec.Mail.HeadersTruncated || len(rec.Mail.Headers) >= 205 {
		t.Fatalf("truncated=%v with %d headers", rec.Mail.HeadersTruncated, len(rec.Mail.Headers))
	}
}
