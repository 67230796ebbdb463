package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/testkit/dnstest"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
)

const (
	crashKeyID  = "AKIACRASHTEST0000001"
	crashSecret = "crash-test-secret-key-0123456789abcdefgh"
)

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type child struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func startChild(t *testing.T, bin string, env []string, httpAddr string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, "serve"), logs: new(bytes.Buffer)}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/health")
		if err == nil {
			resp.Body.Close()
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\n%s", err, c.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SIGKILL at any moment loses no message whose MessageId was returned: after
// a restart on the same data directory, every one is delivered.
func TestCrashLosesNoAcceptedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sesame")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sink := smtpsink.New(t)
	dns := dnstest.New(t)
	httpAddr, dnsAddr := freeAddr(t), freeAddr(t)
	env := []string{
		"SESAME_DATA_DIR=" + filepath.Join(dir, "data"), "SESAME_HTTP_ADDR=" + httpAddr, "SESAME_DNS_ADDR=" + dnsAddr,
		"SESAME_SMTP_ADDR=off", "SESAME_SMTPS_ADDR=off", "SESAME_MX_ADDR=off", "SESAME_HOSTNAME=sesame.test",
		"SESAME_DKIM_ZONE=dkim.sesame.test", "SESAME_DNS_SERVER=" + dns.Addr(), "SESAME_RELAY=" + sink.Addr(),
		"SESAME_ROOT_ACCESS_KEY_ID=" + crashKeyID, "SESAME_ROOT_SECRET_ACCESS_KEY=" + crashSecret,
	}
	first := startChild(t, bin, env, httpAddr)
	dns.Forward("dkim.sesame.test", dnsAddr)
	if out, err := exec.Command(bin, "admin", "approve-production", "--data", filepath.Join(dir, "data"),
		"--account", "123456789012", "--max-24h", "1000000", "--max-rate", "100000").CombinedOutput(); err != nil {
		t.Fatalf("approve-production: %v\n%s", err, out)
	}

	ctx := context.Background()
	client := sesv2.NewFromConfig(aws.Config{Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(crashKeyID, crashSecret, "")},
		func(o *sesv2.Options) { o.BaseEndpoint = aws.String("http://" + httpAddr) })
	created, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("crash.example")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range created.DkimAttributes.Tokens {
		dns.AddCNAME(tok+"._domainkey.crash.example", tok+".dkim.sesame.test")
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		got, err := client.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("crash.example")})
		if err != nil {
			t.Fatal(err)
		}
		if got.VerifiedForSendingStatus {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("domain not verified")
		}
		time.Sleep(25 * time.Millisecond)
	}

	// A burst from 16 senders; the server is killed once 300 sends were
	// acknowledged, while more are in flight.
	var mu sync.Mutex
	var acked []string
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				out, err := client.SendEmail(ctx, &sesv2.SendEmailInput{
					FromEmailAddress: aws.String("burst@crash.example"),
					Destination:      &types.Destination{ToAddresses: []string{fmt.Sprintf("rcpt%d-%d@dest.example", w, i)}},
					Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("crash")},
						Body: &types.Body{Text: &types.Content{Data: aws.String("payload")}}}},
				})
				if err != nil {
					select {
					case <-killed: // the server is gone
					default:
						t.Errorf("send before the kill: %v", err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, aws.ToString(out.MessageId))
				n := len(acked)
				mu.Unlock()
				if n == 300 {
					once.Do(func() {
						close(killed) // first: sends cut off by the kill must see it
						first.cmd.Process.Signal(syscall.SIGKILL)
					})
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("burst ended before the kill (%d acknowledged)", len(acked))
	}
	first.cmd.Wait()
	t.Logf("killed after %d acknowledged sends; %d delivered before the kill", len(acked), len(sink.Messages()))

	startChild(t, bin, env, httpAddr)
	idRE := regexp.MustCompile(`Message-ID: <([0-9a-f-]+)@`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		delivered := map[string]bool{}
		for _, m := range sink.Messages() {
			if sub := idRE.FindSubmatch(m.Data); sub != nil {
				delivered[string(sub[1])] = true
			}
		}
		var missing []string
		for _, id := range acked {
			if !delivered[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			t.Logf("all %d acknowledged messages delivered (%d deliveries in all)", len(acked), len(sink.Messages()))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged messages never delivered, e.g. %s", len(missing), len(acked), missing[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
