package bench

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sesamehq/sesame/bench/internal/benchdns"
	"github.com/sesamehq/sesame/bench/internal/sesreq"
	"github.com/sesamehq/sesame/bench/internal/sinksrv"
	"github.com/sesamehq/sesame/bench/internal/smtpload"
	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/app"
	"github.com/sesamehq/sesame/internal/config"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/sending"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

const (
	domain = "bench.sesame.test"
	sender = "sender@" + domain
	// parked is a recipient whose delivery waits on a relay that never
	// greets, so the accept benchmarks measure accepting alone.
	parked = "rcpt@sink.bench.test"
)

// env is a running Sesame with the sending domain verified (Easy DKIM
// through the test DNS), production limits far above the load, and the
// given relay.
type env struct {
	st    *stack.Stack
	creds aws.Credentials
}

func start(tb testing.TB, relay string) *env {
	tb.Helper()
	st := stack.Start(tb, stack.Configure(func(c *config.Config) { c.Relay = relay }),
		// A stalled relay parks delivery for the whole run, as in
		// bench/run.sh: its lane must not time out and be suspended
		// (which would defer every message with a write of its own).
		stack.Tune(func(a *app.App) { a.Timeouts.Greeting = time.Hour }))
	if err := st.App.Accounts.ApproveProduction(context.Background(), account.RootAccountID, 1e9, 1e7); err != nil {
		tb.Fatal(err)
	}
	st.VerifyDomain(tb, domain)
	return &env{st: st, creds: aws.Credentials{AccessKeyID: st.Root.ID, SecretAccessKey: st.Root.Secret}}
}

// stall starts a relay that accepts connections and never greets.
func stall(tb testing.TB) string {
	tb.Helper()
	s, err := sinksrv.Listen("127.0.0.1:0", sinksrv.Config{Stall: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s.Addr()
}

func message(to string) sesreq.Message {
	return sesreq.Message{From: sender, To: []string{to}, Subject: "Sesame benchmark", Text: sesreq.Body(1000)}
}

func (e *env) template(tb testing.TB, mode, to string) *sesreq.Template {
	tb.Helper()
	t, err := sesreq.Build(mode, e.st.URL, stack.Region, e.creds, message(to))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// cpuTime is the CPU time the whole process (server and client) has used.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU resets the timer and returns a function that reports the
// process's CPU time per operation since then, in µs ("cpu-µs/op"): on a
// shared machine the rate moves with the load far more than the CPU time.
func measureCPU(b *testing.B) (report func()) {
	b.ResetTimer()
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func httpClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConns: conns, MaxIdleConnsPerHost: conns}}
}

func (e *env) smtpConfig(tb testing.TB, to string) smtpload.Config {
	tb.Helper()
	m := message(to)
	return smtpload.Config{Addr: e.st.SMTPAddr(tb), TLS: e.st.SMTPTLSConfig(tb), User: e.creds.AccessKeyID, Password: e.st.SMTPPassword(),
		From: m.From, To: m.To, Data: sesreq.MIME(m), Timeout: 30 * time.Second}
}

// benchHTTP sends b.N requests from 64 goroutines (32 per GOMAXPROCS on
// this 2-core machine), each over its own kept-alive connection.
func benchHTTP(b *testing.B, mode string) {
	e := start(b, stall(b))
	tmpl := e.template(b, mode, parked)
	hc := httpClient(64)
	b.SetParallelism(max(1, 64/max(1, runtime.GOMAXPROCS(0))))
	b.ReportAllocs()
	report := measureCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		for pb.Next() {
			out, err := tmpl.Send(context.Background(), hc, &buf)
			if err != nil || !out.OK {
				b.Errorf("%s: %+v %v", mode, out, err)
				return
			}
		}
	})
	report()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAcceptV2 is SES v2 SendEmail through Sesame's HTTP API, signed
// per request, to a recipient whose delivery is parked.
func BenchmarkAcceptV2(b *testing.B) { benchHTTP(b, sesreq.V2) }

// BenchmarkAcceptV1 is SES v1 SendEmail.
func BenchmarkAcceptV1(b *testing.B) { benchHTTP(b, sesreq.V1) }

// BenchmarkAcceptRaw is SES v1 SendRawEmail.
func BenchmarkAcceptRaw(b *testing.B) { benchHTTP(b, sesreq.Raw) }

// BenchmarkAcceptSMTP is SMTP submission: 64 sessions, each authenticated
// once, sending MAIL/RCPT/DATA after MAIL/RCPT/DATA.
func BenchmarkAcceptSMTP(b *testing.B) {
	e := start(b, stall(b))
	cfg := e.smtpConfig(b, parked)
	b.SetParallelism(max(1, 64/max(1, runtime.GOMAXPROCS(0))))
	b.ReportAllocs()
	report := measureCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		s, err := smtpload.Dial(context.Background(), cfg)
		if err != nil {
			b.Error(err)
			return
		}
		defer s.Close()
		for pb.Next() {
			if _, err := s.Send(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	report()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDeliver is accept and delivery together: b.N messages sent
// through SES v2 with a counting sink as the relay; the timer runs until the
// sink has them all, DKIM-signed (RSA-2048).
func BenchmarkDeliver(b *testing.B) {
	sink, err := sinksrv.Listen("127.0.0.1:0", sinksrv.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	e := start(b, sink.Addr())
	tmpl := e.template(b, sesreq.V2, parked)
	hc := httpClient(64)
	before := sink.Stats().Messages
	b.SetParallelism(max(1, 64/max(1, runtime.GOMAXPROCS(0))))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		for pb.Next() {
			if out, err := tmpl.Send(context.Background(), hc, &buf); err != nil || !out.OK {
				b.Errorf("%+v %v", out, err)
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := sink.Wait(ctx, before+int64(b.N)); err != nil {
		b.Fatalf("%d of %d delivered: %v", sink.Stats().Messages-before, b.N, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if st := sink.Stats(); st.Signed < int64(b.N) {
		b.Errorf("%d of %d messages DKIM-signed", st.Signed, b.N)
	}
}

// TestHarnessAgainstSesame runs every load generator mode against a real
// in-process Sesame and checks that each message was accepted, and that
// accepted mail reaches the sink DKIM-signed with a key that verifies
// through the published DNS records.
func TestHarnessAgainstSesame(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole Sesame")
	}
	// The sink verifies DKIM against the stack's DNS, which exists only once
	// the stack (whose relay is the sink) has started.
	var dnsAddr atomic.Value
	sink, err := sinksrv.Listen("127.0.0.1:0", sinksrv.Config{VerifyEvery: 1, LookupTXT: func(name string) ([]string, error) {
		return benchdns.LookupTXT(dnsAddr.Load().(string), name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	e := start(t, sink.Addr())
	dnsAddr.Store(e.st.DNS.Addr())

	hc := httpClient(4)
	var buf bytes.Buffer
	ids := map[string]bool{}
	for _, mode := range []string{sesreq.V2, sesreq.V1, sesreq.Raw} {
		tmpl := e.template(t, mode, parked)
		for i := range 3 {
			out, err := tmpl.Send(context.Background(), hc, &buf)
			if err != nil || !out.OK || ids[out.MessageID] {
				t.Fatalf("%s #%d: %+v %v", mode, i, out, err)
			}
			ids[out.MessageID] = true
		}
	}
	s, err := smtpload.Dial(context.Background(), e.smtpConfig(t, parked))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		reply, err := s.Send()
		if err != nil {
			t.Fatalf("smtp #%d: %v", i, err)
		}
		if reply == "" {
			t.Fatalf("smtp #%d: empty reply", i)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Sesame answers a refused sender as SES does, and the harness names it.
	tmpl, err := sesreq.Build(sesreq.V2, e.st.URL, stack.Region, e.creds, sesreq.Message{From: "x@unverified.test", To: []string{parked}, Subject: "s", Text: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := tmpl.Send(context.Background(), hc, &buf); err != nil || out.OK || out.Code != "MessageRejected" {
		t.Fatalf("unverified sender: %+v %v", out, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := sink.Wait(ctx, 12); err != nil {
		t.Fatalf("delivered %+v: %v", sink.Stats(), err)
	}
	st := sink.Stats()
	if st.Messages != 12 || st.Signed != 12 || st.Verified != 12 || st.VerifyFailed != 0 || st.KeyBits != 2048 {
		t.Fatalf("sink saw %+v; want 12 messages, all signed and verified with RSA-2048", st)
	}
}

// BenchmarkSendUseCase calls the send use case directly (sending.Service.Send,
// what every protocol ends in) from 64 goroutines, with no protocol in front:
// the accept rate the domain and the store allow, an upper bound for every
// adapter.
func BenchmarkSendUseCase(b *testing.B) {
	e := start(b, stall(b))
	m := message(parked)
	b.SetParallelism(max(1, 64/max(1, runtime.GOMAXPROCS(0))))
	b.ReportAllocs()
	report := measureCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := &sending.Request{AccountID: account.RootAccountID, Operation: "SendEmail", Source: m.From, To: m.To,
				Subject: mail.Content{Data: m.Subject, Charset: "UTF-8"}, Text: mail.Content{Data: m.Text, Charset: "UTF-8"}, MaxSize: sending.MaxSizeV2}
			if _, err := e.st.App.Sending.Send(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	report()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
