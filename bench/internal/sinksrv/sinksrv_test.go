package sinksrv_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesamehq/sesame/bench/internal/sesreq"
	"github.com/sesamehq/sesame/bench/internal/sinksrv"
	"github.com/sesamehq/sesame/bench/internal/smtpload"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/testkit/certs"
)

const keyName = "sel._domainkey.bench.test"

// signedMessage returns a message signed with a fresh RSA key, and the key
// record to publish.
func signedMessage(t *testing.T) ([]byte, string) {
	t.Helper()
	key, err := mail.GenerateRSAKey(1024)
	if err != nil {
		t.Fatal(err)
	}
	record, err := mail.PublicKeyRecord(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	raw := sesreq.MIME(sesreq.Message{From: "a@bench.test", To: []string{"b@sink.test"}, Subject: "s", Text: "hello\r\n"})
	signed, err := mail.Sign(raw, []mail.Signer{{Domain: "bench.test", Selector: "sel", Key: key}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return signed, record
}

func TestSinkCountsAndVerifies(t *testing.T) {
	cert := certs.SelfSigned(t)
	signed, record := signedMessage(t)
	sink, err := sinksrv.Listen("127.0.0.1:0", sinksrv.Config{
		TLS:         &tls.Config{Certificates: []tls.Certificate{cert.TLS}},
		Auth:        func(user, pass string) error { return check(user == "AKIA" && pass == "pw") },
		VerifyEvery: 1,
		LookupTXT: func(name string) ([]string, error) {
			if name != keyName {
				return nil, errors.New("NXDOMAIN " + name)
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	cfg := smtpload.Config{Addr: sink.Addr(), TLS: &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1"},
		User: "AKIA", Password: "pw", From: "a@bench.test", To: []string{"b@sink.test", "c@sink.test"}, Data: signed, Timeout: 5 * time.Second}
	s, err := smtpload.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Send(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A message changed after signing counts as signed but fails.
	cfg.Data = []byte(strings.Replace(string(signed), "hello", "HELLO", 1))
	if s, err = smtpload.Dial(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sink.Wait(ctx, 4); err != nil {
		t.Fatal(err)
	}
	st := sink.Stats()
	if st.Messages != 4 || st.Recipients != 8 || st.Signed != 4 || st.Verified != 3 || st.VerifyFailed != 1 || st.KeyBits != 1024 || st.Conns != 2 {
		t.Errorf("stats %+v", st)
	}
	if st.First.IsZero() || st.Last.Before(st.First) || st.Bytes < int64(4*len(signed)-10) {
		t.Errorf("times %v..%v, bytes %d", st.First, st.Last, st.Bytes)
	}
}

func check(ok bool) error {
	if ok {
		return nil
	}
	return errors.New("bad credentials")
}

func TestWrongPasswordAndUnsigned(t *testing.T) {
	cert := certs.SelfSigned(t)
	sink, err := sinksrv.Listen("127.0.0.1:0", sinksrv.Config{
		TLS:  &tls.Config{Certificates: []tls.Certificate{cert.TLS}},
		Auth: func(user, pass string) error { return check(pass == "pw") },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	cfg := smtpload.Config{Addr: sink.Addr(), TLS: &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1"},
		User: "AKIA", Password: "wrong", From: "a@bench.test", To: []string{"b@sink.test"},
		Data: sesreq.MIME(sesreq.Message{From: "a@bench.test", To: []string{"b@sink.test"}, Subject: "s", Text: "x"})}
	_, err = smtpload.Dial(context.Background(), cfg)
	var se *smtpload.Error
	if !errors.As(err, &se) || !strings.HasPrefix(se.Code(), "AUTH 535") {
		t.Fatalf("wrong password: %v", err)
	}
	cfg.Password = "pw"
	s, err := smtpload.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Send(); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Messages != 1 || st.Signed != 0 || st.Verified != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestStallNeverGreets(t *testing.T) {
	sink, err := sinksrv.Listen("127.0.0.1:0", sinksrv.Config{Stall: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = smtpload.Dial(context.Background(), smtpload.Config{Addr: sink.Addr(), TLS: &tls.Config{}, Timeout: 200 * time.Millisecond})
	var se *smtpload.Error
	if !errors.As(err, &se) || se.Code() != "STARTTLS: timeout" {
		t.Fatalf("dial to a stalling sink: %v", err)
	}
	if time.Since(start) < 150*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", time.Since(start))
	}
	if sink.Stats().Conns != 1 {
		t.Errorf("conns %d", sink.Stats().Conns)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNeedsLookup(t *testing.T) {
	if _, err := sinksrv.Listen("127.0.0.1:0", sinksrv.Config{VerifyEvery: 1}); err == nil {
		t.Fatal("verification without LookupTXT accepted")
	}
}
