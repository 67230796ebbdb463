package snsapi_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	snssdk "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/uuid"

	"github.com/sesamehq/sesame/internal/api/caller"
	"github.com/sesamehq/sesame/internal/api/sigv4"
	"github.com/sesamehq/sesame/internal/api/snsapi"
	"github.com/sesamehq/sesame/internal/sns"
	"github.com/sesamehq/sesame/internal/store"
)

const region = "us-east-1"

// Two accounts, one key each.
var keys = map[string]struct{ secret, account string }{
	"AKIAOWNER0000000000A": {"owner-secret-key-0000000000000000000000", "123456789012"},
	"AKIAOTHER0000000000B": {"other-secret-key-0000000000000000000000", "210987654321"},
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

// server is the SNS adapter behind an in-process HTTP front that does what
// Sesame's does: unsigned subscriber GETs go to ServePublic, everything
// else is SigV4-verified for service "sns" and served with the caller in
// the context.
type server struct {
	URL   string
	svc   *sns.Service
	owner *snssdk.Client
	other *snssdk.Client
}

func newServer(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	db, err := store.Open(filepath.Join(t.TempDir(), "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sns.NewSigner(testKey(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := sns.New(sns.Config{Region: region, PublicURL: url, DelayUnit: time.Millisecond, AttemptTimeout: 2 * time.Second}, db, signer, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := snsapi.New(svc, nil)
	verifier := &sigv4.Verifier{Region: region, Services: []string{"sns"}, Lookup: func(_ context.Context, id string) (string, error) {
		k, ok := keys[id]
		if !ok {
			return "", sigv4.ErrUnknownKey
		}
		return k.secret, nil
	}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if snsapi.IsPublic(r) {
			h.ServePublic(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := verifier.Verify(r.Context(), r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		ctx := caller.With(r.Context(), caller.Caller{AccountID: keys[res.AccessKeyID].account, AccessKeyID: res.AccessKeyID})
		h.Serve(ctx, w, r, body, uuid.NewString())
	})}
	go srv.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		db.Close()
	})
	s := &server{URL: url, svc: svc}
	s.owner, s.other = s.client("AKIAOWNER0000000000A"), s.client("AKIAOTHER0000000000B")
	return s
}

// client is an sns SDK client for one key that does not retry, so a test
// sees every error as the server sent it.
func (s *server) client(id string) *snssdk.Client {
	return snssdk.New(snssdk.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(id, keys[id].secret, ""),
		RetryMaxAttempts: 1,
	})
}

// apiError is what every modelled SNS exception of the SDK implements.
type apiError interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// wantError asserts that err is the SDK's typed exception E, with the HTTP
// status and (unless "") the exact message.
func wantError[E apiError](t testing.TB, err error, status int, message string) {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want %T", err, err, e)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	if got := re.HTTPStatusCode(); got != status {
		t.Errorf("%s: HTTP status %d, want %d", e.ErrorCode(), got, status)
	}
	if message != "" && e.ErrorMessage() != message {
		t.Errorf("%s message:\n got %q\nwant %q", e.ErrorCode(), e.ErrorMessage(), message)
	}
}

// delivery is one request the subscriber received, with its envelope.
type delivery struct {
	Header http.Header
	Body   []byte
	Env    map[string]any
}

func (d delivery) str(key string) string {
	s, _ := d.Env[key].(string)
	return s
}

// subscriber is an HTTP endpoint on 127.0.0.1 that behaves like a real SNS
// consumer: it verifies every message's signature with the certificate
// fetched from SigningCertURL, visits the SubscribeURL of a
// SubscriptionConfirmation, and answers 200 (or what fail says).
type subscriber struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	got  []delivery
	errs []error
	fail func(d delivery) int // nil: 200
	// autoConfirm visits SubscribeURL on a SubscriptionConfirmation.
	autoConfirm bool
	certs       map[string]*x509.Certificate
}

func newSubscriber(t *testing.T) *subscriber {
	s := &subscriber{t: t, autoConfirm: true, certs: map[string]*x509.Certificate{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *subscriber) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d := delivery{Header: r.Header.Clone(), Body: body}
	var err error
	if r.Header.Get("x-amz-sns-rawdelivery") != "true" {
		if err = json.Unmarshal(body, &d.Env); err == nil {
			err = s.verify(d)
		}
	}
	if err == nil && d.str("Type") == sns.TypeSubscriptionConfirmation && s.autoConfirm {
		err = s.confirm(d.str("SubscribeURL"))
	}
	s.mu.Lock()
	s.got = append(s.got, d)
	if err != nil {
		s.errs = append(s.errs, err)
	}
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		w.WriteHeader(fail(d))
	}
}

// verify is signature verification as SNS's documentation describes it.
func (s *subscriber) verify(d delivery) error {
	var names []string
	switch d.str("Type") {
	case sns.TypeNotification:
		names = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	case sns.TypeSubscriptionConfirmation, sns.TypeUnsubscribeConfirmation:
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	default:
		return fmt.Errorf("unknown Type %q", d.str("Type"))
	}
	var canonical strings.Builder
	for _, n := range names {
		if v, ok := d.Env[n].(string); ok {
			canonical.WriteString(n + "\n" + v + "\n")
		} else if n != "Subject" {
			return fmt.Errorf("%s: no %s", d.str("Type"), n)
		}
	}
	cert, err := s.cert(d.str("SigningCertURL"))
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(d.str("Signature"))
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("certificate key is not RSA")
	}
	switch d.str("SignatureVersion") {
	case "1":
		sum := sha1.Sum([]byte(canonical.String()))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sig)
	case "2":
		sum := sha256.Sum256([]byte(canonical.String()))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	}
	return fmt.Errorf("SignatureVersion %q", d.str("SignatureVersion"))
}

func (s *subscriber) cert(url string) (*x509.Certificate, error) {
	s.mu.Lock()
	c := s.certs[url]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("GET %s: no PEM", url)
	}
	if c, err = x509.ParseCertificate(block.Bytes); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.certs[url] = c
	s.mu.Unlock()
	return c, nil
}

// confirm visits a SubscribeURL, as a consumer does, and checks SNS's answer.
func (s *subscriber) confirm(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var doc struct {
		XMLName xml.Name
		Arn     string `xml:"ConfirmSubscriptionResult>SubscriptionArn"`
	}
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET SubscribeURL: %s: %s", resp.Status, data)
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return err
	}
	if doc.XMLName.Local != "ConfirmSubscriptionResponse" || doc.XMLName.Space != snsapi.Namespace || doc.Arn == "" {
		return fmt.Errorf("SubscribeURL answered %s", data)
	}
	return nil
}

func (s *subscriber) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		s.t.Errorf("subscriber: %v", errors.Join(s.errs...))
		s.errs = nil
	}
	return append([]delivery(nil), s.got...)
}

// waitFor polls the deliveries until cond holds, failing after timeout.
func (s *subscriber) waitFor(timeout time.Duration, what string, cond func([]delivery) bool) []delivery {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.deliveries()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("subscriber: %s not within %v (%d deliveries)", what, timeout, len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ofType(got []delivery, typ string) []delivery {
	var out []delivery
	for _, d := range got {
		if d.Header.Get("x-amz-sns-message-type") == typ {
			out = append(out, d)
		}
	}
	return out
}
