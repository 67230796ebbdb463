package ceiling

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sesamehq/sesame/bench/internal/sesreq"
	"github.com/sesamehq/sesame/internal/api/sigv4"
)

var creds = aws.Credentials{AccessKeyID: "AKIABENCHMARK0000001", SecretAccessKey: "bench-secret"}

// records reads back a log file.
func records(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 4 {
			t.Fatalf("truncated length prefix")
		}
		n := binary.BigEndian.Uint32(data)
		if int(n) > len(data)-4 {
			t.Fatalf("truncated record")
		}
		out = append(out, data[4:4+n])
		data = data[4+n:]
	}
	return out
}

func TestConcurrentAppendsShareSyncs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// Queue 100 appends before the writer runs: they must share one fsync.
	l := &Log{f: f, reqs: make(chan *appendReq, maxBatch), done: make(chan struct{})}
	var errcs []chan error
	for i := range 100 {
		r := &appendReq{rec: []byte(strings.Repeat("x", i)), errc: make(chan error, 1)}
		l.reqs <- r
		errcs = append(errcs, r.errc)
	}
	go l.writer()
	for _, c := range errcs {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	if n, syncs := l.Stats(); n != 100 || syncs != 1 {
		t.Errorf("%d records in %d fsyncs, want 100 in 1", n, syncs)
	}
	// Appends through the API from many goroutines all land.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := l.Append(context.Background(), []byte("y")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(context.Background(), []byte("late")); err != ErrClosed {
		t.Errorf("append after close: %v", err)
	}
	recs := records(t, path)
	if len(recs) != 150 || len(recs[99]) != 99 || string(recs[149]) != "y" {
		t.Fatalf("%d records read back", len(recs))
	}
}

func TestServesSignedSESRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Region: "us-east-1", Lookup: func(context.Context, string) (string, error) { return creds.SecretAccessKey, nil }}
	srv := httptest.NewServer(&Handler{Log: l, Verifier: v})
	defer srv.Close()
	msg := sesreq.Message{From: "a@bench.test", To: []string{"success@simulator.amazonses.com"}, Subject: "s", Text: sesreq.Body(200)}
	var buf bytes.Buffer
	for _, mode := range []string{sesreq.V2, sesreq.V1, sesreq.Raw} {
		tmpl, err := sesreq.Build(mode, srv.URL, "us-east-1", creds, msg)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tmpl.Send(context.Background(), srv.Client(), &buf)
		if err != nil || !out.OK || len(out.MessageID) != 60 {
			t.Fatalf("%s: %+v %v", mode, out, err)
		}
	}
	// A bad signature is refused and nothing is stored.
	bad := creds
	bad.SecretAccessKey = "wrong"
	tmpl, _ := sesreq.Build(sesreq.V2, srv.URL, "us-east-1", bad, msg)
	if out, err := tmpl.Send(context.Background(), srv.Client(), &buf); err != nil || out.OK || out.Code != "HTTP 403" {
		t.Fatalf("bad signature: %+v %v", out, err)
	}
	// An incomplete request is refused as SES would (no verifier here).
	plain := httptest.NewServer(&Handler{Log: l})
	defer plain.Close()
	resp, err := http.Post(plain.URL+"/v2/email/outbound-emails", "application/json", strings.NewReader(`{"FromEmailAddress":"a@b"}`))
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := sesreq.Read(resp, &buf); out.Code != "BadRequestException" {
		t.Fatalf("incomplete request: %+v", out)
	}
	resp, err = http.Post(plain.URL+"/", "application/x-www-form-urlencoded", strings.NewReader(`Action=ListIdentities`))
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := sesreq.Read(resp, &buf); out.Code != "InvalidParameterValue" {
		t.Fatalf("other v1 action: %+v", out)
	}
	srv.Close()
	plain.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := records(t, path)
	if len(recs) != 3 || !bytes.Contains(recs[0], []byte(`"FromEmailAddress":"a@bench.test"`)) || !bytes.Contains(recs[2], []byte("Action=SendRawEmail")) {
		t.Fatalf("log holds %d records: %q", len(recs), recs)
	}
}
