package transport

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/testkit/certs"
)

// BenchmarkDeliverReuse delivers a 2 KB message to a local go-smtp server,
// one Deliver after another and from many goroutines at once, reporting
// msgs/s. "new-session" sets MaxSessionMessages to 1, so every message pays
// for connect, greeting, EHLO (and the TLS handshake) and QUIT as before
// the session cache; "reuse" is the default.
//
//	go test -run '^$' -bench DeliverReuse ./internal/delivery/transport/
func BenchmarkDeliverReuse(b *testing.B) {
	var msg bytes.Buffer
	msg.WriteString("From: a@sender.test\r\nTo: b@example.test\r\nSubject: benchmark\r\n\r\n")
	for msg.Len() < 2048 {
		msg.WriteString(strings.Repeat("x", 76) + "\r\n")
	}
	data := msg.Bytes()
	cert := certs.SelfSigned(b, "127.0.0.1")

	for _, c := range []struct {
		name    string
		perConn int
		tls     bool
	}{
		{"reuse", 0, false},
		{"new-session", 1, false},
		{"reuse/STARTTLS", 0, true},
		{"new-session/STARTTLS", 1, true},
	} {
		for _, parallel := range []bool{false, true} {
			name := c.name + "/sequential"
			if parallel {
				name = c.name + "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				opts := []recOption{discarding()}
				if c.tls {
					opts = append(opts, withTLS(cert.TLS))
				}
				sink := newRecSink(b, opts...)
				tr := &Transport{Relay: sink.addr(), Hostname: "sesame.test", Timeouts: fastTimeouts, MaxSessionMessages: c.perConn}
				b.Cleanup(func() { tr.Close() })
				m := Message{From: "s@sesame.test", To: []string{"b@example.test"}, Data: data}
				send := func(b *testing.B) {
					rs, err := tr.Deliver(context.Background(), m)
					if err != nil || rs[0].Outcome != Delivered {
						b.Errorf("Deliver = %+v, %v", rs, err)
					}
				}
				b.SetBytes(int64(len(data)))
				b.ResetTimer()
				if parallel {
					b.SetParallelism(8) // 8 × GOMAXPROCS senders, within the default MaxPerHost
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							send(b)
						}
					})
				} else {
					for range b.N {
						send(b)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}
