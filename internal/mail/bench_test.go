package mail

import (
	"strings"
	"testing"
)

func benchSimple() Simple {
	s := baseSimple()
	s.From = `"Jöhn Dœ" <john@example.com>`
	s.Subject = Content{Data: "Quarterly report – Grüße"}
	s.Text = Content{Data: strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200)}
	s.HTML = Content{Data: "<html><body>" + strings.Repeat("<p>The quick brown fox jumps över the lazy dog.</p>", 200) + "</body></html>"}
	s.Attachments = []Attachment{{Data: make([]byte, 64<<10), FileName: "report.pdf"}}
	return s
}

func BenchmarkBuild(b *testing.B) {
	s := benchSimple()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrepareRaw(b *testing.B) {
	msg, err := Build(benchSimple())
	if err != nil {
		b.Fatal(err)
	}
	opts := RawOptions{MessageID: testMsgID, Date: acceptTime}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PrepareRaw(msg, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	msg, err := Build(benchSimple())
	if err != nil {
		b.Fatal(err)
	}
	signers := []Signer{
		{Domain: "example.com", Selector: "s1", Key: testRSAKey()},
		{Domain: "sesame.example.net", Selector: "s2", Key: testRSAKey()},
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(msg, signers, signTime); err != nil {
			b.Fatal(err)
		}
	}
}

// smallSimple is the benchmarks' typical send: one sender, one recipient, a
// short subject and about 1 KB of text.
func smallSimple() Simple {
	return Simple{From: "sender@bench.sesame.test", To: []string{"rcpt@sink.bench.test"}, Subject: Content{Data: "Sesame benchmark"},
		Text:      Content{Data: strings.Repeat("Sesame benchmark message: the quick brown fox jumps over the lazy dog.\r\n", 14)},
		MessageID: testMsgID, Date: acceptTime}
}

// BenchmarkBuildSmall is what the send path does with simple content: build
// the message and read its header back.
func BenchmarkBuildSmall(b *testing.B) {
	s := smallSimple()
	b.ReportAllocs()
	for b.Loop() {
		msg, err := Build(s)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseHeader(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrepareRawSmall is PrepareRaw of a small message, as SMTP and
// SendRawEmail deliver it.
func BenchmarkPrepareRawSmall(b *testing.B) {
	msg, err := Build(smallSimple())
	if err != nil {
		b.Fatal(err)
	}
	opts := RawOptions{MessageID: testMsgID, Date: acceptTime}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PrepareRaw(msg, opts); err != nil {
			b.Fatal(err)
		}
	}
}
