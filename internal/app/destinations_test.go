package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-smtp"
	mdns "github.com/miekg/dns"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/app"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// publishMXAt makes host (an IP on loopback) the only MX of domain.
func publishMXAt(s *stack.Stack, domain, ip string) {
	s.DNS.AddMX(domain, 10, "mx."+domain)
	s.DNS.AddA("mx."+domain, ip)
}

// approveFast takes the account out of the sandbox with room for bursts.
func approveFast(t *testing.T, s *stack.Stack) {
	t.Helper()
	if err := s.App.Accounts.ApproveProduction(context.Background(), account.RootAccountID, 100_000, 1_000); err != nil {
		t.Fatal(err)
	}
}

// sendTo sends one message from me@example.com to rcpt and returns its id.
func sendTo(t *testing.T, s *stack.Stack, rcpt string) string {
	t.Helper()
	out, err := s.SES.SendEmail(context.Background(), simpleSend("me@example.com", rcpt))
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// delivered counts the sink's messages to recipients at domain.
func delivered(sink *smtpsink.Sink, domain string) int {
	n := 0
	for _, m := range sink.Messages() {
		for _, r := range m.To {
			if strings.HasSuffix(r, "@"+domain) {
				n++
			}
		}
	}
	return n
}

// A server that accepts connections and never answers holds only its own
// destination's deliveries, and only a few of them: mail to other domains
// is delivered while it stays silent.
func TestSilentDestinationDoesNotStallOthers(t *testing.T) {
	s := stack.Start(t, stack.MX(), stack.Tune(func(a *app.App) {
		a.Timeouts.Greeting = time.Minute // longer than the test: the silent server never times out here
		a.Retry.PerDestination = 20
	}))
	silent := smtpsink.New(t, smtpsink.WithNeverAnswer(), smtpsink.WithAddr("127.0.0.2:"+strconv.Itoa(s.Sink.Port())))
	approveFast(t, s)
	s.PublishMX("example.com")
	s.PublishMX("good.example")
	publishMXAt(s, "silent.example", "127.0.0.2")
	s.VerifyEmail(t, "me@example.com")

	for i := range 30 {
		sendTo(t, s, fmt.Sprintf("u%d@silent.example", i))
	}
	for i := range 10 {
		sendTo(t, s, fmt.Sprintf("v%d@good.example", i))
	}
	deadline := time.Now().Add(10 * time.Second)
	for delivered(s.Sink, "good.example") < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 10 delivered to good.example while silent.example is silent", delivered(s.Sink, "good.example"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A destination never reached starts with at most 5 connections.
	if st := silent.Stats(); st.Conns == 0 || st.MaxOpen > 5 {
		t.Errorf("silent server: %d connections, %d at once; want 1–5", st.Conns, st.MaxOpen)
	}
}

// A destination whose deliveries time out is suspended after a few: its
// other mail is deferred without a connection (DeliveryDelay naming the
// failure), and nothing is lost.
func TestUnreachableDestinationSuspended(t *testing.T) {
	s := stack.Start(t, stack.MX(), stack.Tune(func(a *app.App) {
		a.Timeouts.Greeting = 300 * time.Millisecond
		a.Retry.Suspend = time.Minute
	}))
	silent := smtpsink.New(t, smtpsink.WithNeverAnswer(), smtpsink.WithAddr("127.0.0.2:"+strconv.Itoa(s.Sink.Port())))
	approveFast(t, s)
	s.PublishMX("example.com")
	publishMXAt(s, "silent.example", "127.0.0.2")
	s.VerifyEmail(t, "me@example.com")

	var ids []string
	for i := range 12 {
		ids = append(ids, sendTo(t, s, fmt.Sprintf("u%d@silent.example", i)))
	}
	suspended := 0
	deadline := time.Now().Add(15 * time.Second)
	for _, id := range ids {
		for {
			evs, err := s.App.Queue.Events(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			var delay *queue.Event
			if i := slices.IndexFunc(evs, func(e queue.Event) bool { return e.Type == "DeliveryDelay" }); i >= 0 {
				delay = &evs[i]
			}
			if delay != nil {
				if strings.Contains(delay.Payload, "delivery temporarily suspended") {
					suspended++
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("message %s: no DeliveryDelay; events %v", id, eventTypes(t, s, id))
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, d := range deliveriesOf(t, s, id) {
			if d.State != queue.Queued {
				t.Errorf("%s: %s (%s), want still queued", d.Rcpt, d.State, d.Text)
			}
		}
	}
	// The first deliveries (at most 5 at once for a new destination) met
	// the silence; after 3 failures the rest were deferred at once.
	if st := silent.Stats(); st.Conns > 5 {
		t.Errorf("silent server saw %d connections; want at most 5 before the destination was suspended", st.Conns)
	}
	if suspended < 12-5 {
		t.Errorf("%d messages deferred as suspended, want at least 7", suspended)
	}
}

// A destination refusing connections is retried until it comes up; the
// mail is delivered once.
func TestConnectionRefusedThenUp(t *testing.T) {
	s := stack.Start(t, stack.MX(), stack.Tune(func(a *app.App) {
		a.Retry.Suspend = 200 * time.Millisecond
	}))
	s.ApproveProduction(t)
	s.PublishMX("example.com")
	publishMXAt(s, "later.example", "127.0.0.3")
	s.VerifyEmail(t, "me@example.com")

	id := sendTo(t, s, "x@later.example")
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(eventTypes(t, s, id), "DeliveryDelay") {
		if time.Now().After(deadline) {
			t.Fatalf("no DeliveryDelay while the server is down: %v", eventTypes(t, s, id))
		}
		time.Sleep(20 * time.Millisecond)
	}
	up := smtpsink.New(t, smtpsink.WithAddr("127.0.0.3:"+strconv.Itoa(s.Sink.Port())))
	got := up.Wait(t, 1, 15*time.Second)
	if got[0].To[0] != "x@later.example" {
		t.Fatalf("delivered to %v", got[0].To)
	}
	ds := waitState(t, s, id)
	if ds[0].State != queue.Delivered {
		t.Fatalf("state %s (%s)", ds[0].State, ds[0].Text)
	}
	time.Sleep(300 * time.Millisecond) // a second delivery would show here
	if n := len(up.Messages()); n != 1 {
		t.Fatalf("delivered %d times", n)
	}
}

// SERVFAIL for the MX is a temporary failure: retried, then delivered once
// the domain's DNS answers.
func TestMXServfailThenAnswered(t *testing.T) {
	s := stack.Start(t, stack.MX(), stack.Tune(func(a *app.App) {
		a.Retry.Suspend = 200 * time.Millisecond
	}))
	s.ApproveProduction(t)
	s.PublishMX("example.com")
	s.PublishMX("flaky.example")
	s.DNS.SetRcode("flaky.example", mdns.RcodeServerFailure)
	s.VerifyEmail(t, "me@example.com")

	id := sendTo(t, s, "x@flaky.example")
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds := deliveriesOf(t, s, id)
		if ds[0].State != queue.Queued {
			t.Fatalf("during SERVFAIL: %s (%s), want queued", ds[0].State, ds[0].Text)
		}
		if ds[0].Status == "4.4.3" && slices.Contains(eventTypes(t, s, id), "DeliveryDelay") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DeliveryDelay for SERVFAIL: %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.DNS.SetRcode("flaky.example", mdns.RcodeSuccess)
	if ds := waitState(t, s, id); ds[0].State != queue.Delivered {
		t.Fatalf("after DNS recovered: %s (%s)", ds[0].State, ds[0].Text)
	}
}

// TlsPolicy REQUIRE against a server whose TLS handshake fails: nothing is
// sent in plaintext; the message waits for a server that can do TLS.
func TestRequireTLSHandshakeFailure(t *testing.T) {
	s := stack.Start(t, stack.MX())
	s.ApproveProduction(t)
	s.PublishMX("example.com")
	publishMXAt(s, "badtls.example", "127.0.0.2")
	s.VerifyEmail(t, "me@example.com")
	csCreate(t, s, "tls", requireTLS)
	broken := brokenTLSServer(t, "127.0.0.2:"+strconv.Itoa(s.Sink.Port()))

	out, err := s.SESv2.SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress:     aws.String("me@example.com"),
		Destination:          &sesv2types.Destination{ToAddresses: []string{"x@badtls.example"}},
		ConfigurationSetName: aws.String("tls"),
		Content: &sesv2types.EmailContent{Simple: &sesv2types.Message{Subject: &sesv2types.Content{Data: aws.String("s")},
			Body: &sesv2types.Body{Text: &sesv2types.Content{Data: aws.String("b")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds := deliveriesOf(t, s, id)
		if ds[0].State != queue.Queued {
			t.Fatalf("%s (%s), want queued", ds[0].State, ds[0].Text)
		}
		if ds[0].Status == "4.7.5" && slices.Contains(eventTypes(t, s, id), "DeliveryDelay") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DeliveryDelay for the failed handshake: %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := broken.plaintext(); got != "" {
		t.Fatalf("sent in plaintext after STARTTLS failed: %q", got)
	}
}

// brokenServer offers STARTTLS and answers the handshake with garbage, and
// records any command a client sends after STARTTLS.
type brokenServer struct {
	mu    sync.Mutex
	after strings.Builder
}

func (b *brokenServer) plaintext() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.after.String()
}

func brokenTLSServer(t *testing.T, addr string) *brokenServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	b := &brokenServer{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				fmt.Fprintf(c, "220 badtls.example ESMTP\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"):
						fmt.Fprintf(c, "250-badtls.example\r\n250 STARTTLS\r\n")
					case cmd == "STARTTLS":
						fmt.Fprintf(c, "220 go ahead\r\n")
						// Not a TLS ServerHello: the handshake fails.
						fmt.Fprintf(c, "this is not TLS\r\n")
						rest, _ := io.ReadAll(io.LimitReader(r, 1<<16))
						b.mu.Lock()
						if s := string(rest); strings.Contains(s, "MAIL FROM") {
							b.after.WriteString(s)
						}
						b.mu.Unlock()
						return
					default:
						fmt.Fprintf(c, "502 5.5.1 unexpected\r\n")
					}
				}
			}()
		}
	}()
	return b
}

// When one destination has more mail queued than its lane may hold, the
// worker claims only what the lane has room for, rather than claiming and
// giving back the same mail over and over.
func TestBusyDestinationClaimedAsItDrains(t *testing.T) {
	slow := smtpsink.WithScript(func(stage, _ string) *smtp.SMTPError {
		if stage == smtpsink.StageData {
			time.Sleep(10 * time.Millisecond) // mail arrives faster than it leaves
		}
		return nil
	})
	s := stack.Start(t, stack.SinkOptions(slow), stack.Tune(func(a *app.App) {
		a.Retry.PerDestination = 2 // the relay lane: 2 in flight, 8 waiting
	}))
	approveFast(t, s)
	s.VerifyEmail(t, "me@example.com")
	const n = 300
	for i := range n {
		sendTo(t, s, fmt.Sprintf("r%d@example.net", i))
	}
	s.Sink.Wait(t, n+1, 30*time.Second) // and the verification mail
	// The sink has the mail a moment before the worker has recorded it.
	deliveredCount := func() float64 {
		return s.App.Metrics.Counter("sesame_delivery_recipients_total", "").Value(map[string]string{"outcome": "delivered"})
	}
	for deadline := time.Now().Add(10 * time.Second); deliveredCount() < n+1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("delivered counter = %v, want %d", deliveredCount(), n+1)
		}
	}
	givenBack := s.App.Metrics.Counter("sesame_delivery_given_back_total", "").Value(nil)
	// Mail arrives faster than 2 deliveries at a time take it, so the lane
	// overflows; after that, claims follow its room.
	if givenBack == 0 || givenBack > n/2 {
		t.Errorf("%v recipients claimed and given back for %d delivered; the worker claims more than the lane can take", givenBack, n)
	}
	t.Logf("given back: %v", givenBack)
}

func deliveriesOf(t *testing.T, s *stack.Stack, id string) []queue.DeliveryState {
	t.Helper()
	ds, err := s.App.Queue.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
