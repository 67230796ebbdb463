package sns_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/sns"
	"github.com/sesamehq/sesame/internal/store"
)

const (
	region  = "us-east-1"
	account = "123456789012"
)

// testKey is one small RSA key for the package's tests (1024 bits: quick to
// make; production keys are 2048).
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

// env is a service over a store in a temporary directory, with its
// dispatcher running until the test ends (or restart).
type env struct {
	t      *testing.T
	path   string
	cfg    sns.Config
	signer *sns.Signer
	db     *store.DB
	svc    *sns.Service
	stop   func()
}

func newEnv(t *testing.T, mutate func(*sns.Config)) *env {
	t.Helper()
	signer, err := sns.NewSigner(testKey(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := sns.Config{Region: region, PublicURL: "http://127.0.0.1:1", DelayUnit: time.Millisecond, AttemptTimeout: 2 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	e := &env{t: t, path: filepath.Join(t.TempDir(), "sesame.db"), cfg: cfg, signer: signer}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	e.t.Helper()
	db, err := store.Open(e.path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	svc, err := sns.New(e.cfg, db, e.signer, nil, nil, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db, e.svc = db, svc
}

// run starts the dispatcher.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx) }()
	e.stop = func() { cancel(); <-done }
}

// close stops the dispatcher and closes the store, as a shutdown does.
func (e *env) close() {
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
	if e.db != nil {
		if err := e.db.Close(); err != nil {
			e.t.Errorf("closing the store: %v", err)
		}
		e.db = nil
	}
}

// received is one request a subscriber got.
type received struct {
	Header http.Header
	Body   []byte
	Env    sns.Envelope
	Status int // what the subscriber answered
}

// recorder is an HTTP(S) subscriber on 127.0.0.1 that records every
// request; answer decides each status (nil: 200).
type recorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(r *http.Request, env sns.Envelope) int
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env sns.Envelope
		_ = json.Unmarshal(body, &env) // raw deliveries are not JSON
		rec.mu.Lock()
		answer := rec.answer
		rec.mu.Unlock()
		status := http.StatusOK
		if answer != nil {
			status = answer(r, env)
		}
		rec.mu.Lock()
		rec.got = append(rec.got, received{Header: r.Header.Clone(), Body: body, Env: env, Status: status})
		rec.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) setAnswer(f func(*http.Request, sns.Envelope) int) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

func (r *recorder) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// waitFor polls until cond holds on the requests so far, failing after
// timeout.
func (r *recorder) waitFor(t *testing.T, timeout time.Duration, what string, cond func([]received) bool) []received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := r.requests()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber: %s not within %v (%d requests)", what, timeout, len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// byType returns the requests of one message type.
func byType(got []received, typ string) []received {
	var out []received
	for _, g := range got {
		if g.Header.Get("x-amz-sns-message-type") == typ {
			out = append(out, g)
		}
	}
	return out
}

// subscribe creates a topic, subscribes rec and confirms with the token
// from the SubscriptionConfirmation it receives.
func (e *env) subscribe(t *testing.T, rec *recorder, topic string) (topicARN, subARN string) {
	t.Helper()
	ctx := context.Background()
	topicARN, err := e.svc.CreateTopic(ctx, account, topic, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.svc.Subscribe(ctx, account, topicARN, "http", rec.srv.URL+"/hook/"+topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Pending {
		t.Fatalf("new http subscription is not pending: %+v", sub)
	}
	got := rec.waitFor(t, 5*time.Second, "SubscriptionConfirmation", func(g []received) bool {
		for _, r := range byType(g, sns.TypeSubscriptionConfirmation) {
			if r.Env.TopicARN == topicARN {
				return true
			}
		}
		return false
	})
	var token string
	for _, r := range byType(got, sns.TypeSubscriptionConfirmation) {
		if r.Env.TopicARN == topicARN {
			token = r.Env.Token
		}
	}
	arn, err := e.svc.ConfirmSubscription(ctx, "", topicARN, token, false)
	if err != nil {
		t.Fatalf("ConfirmSubscription: %v", err)
	}
	if arn != sub.ARN {
		t.Fatalf("confirmed %s, subscribed %s", arn, sub.ARN)
	}
	return topicARN, arn
}
