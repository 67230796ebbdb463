package smtpsink

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/testkit/certs"
)

const msg = "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n"

func dial(t *testing.T, s *Sink) *smtp.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = 5 * time.Second
	c.SubmissionTimeout = 5 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

func send(c *smtp.Client, from string, to []string, data string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(data)); err != nil {
		return err
	}
	return w.Close()
}

func TestRecordsMessage(t *testing.T) {
	s := New(t)
	c := dial(t, s)
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "a@x.test", []string{"b@y.test", "c@y.test"}, msg); err != nil {
		t.Fatal(err)
	}
	got := s.Wait(t, 1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != "a@x.test" || strings.Join(m.To, ",") != "b@y.test,c@y.test" || m.Helo != "client.test" || m.TLS {
		t.Errorf("envelope = %+v", m)
	}
	if string(m.Data) != msg {
		t.Errorf("data = %q, want %q", m.Data, msg)
	}
	if st := s.Stats(); st.Conns != 1 || st.Mails != 1 || st.Rcpts != 2 {
		t.Errorf("stats = %+v", st)
	}
	// Messages hands out copies.
	got[0].Data[0] = 'X'
	if s.Messages()[0].Data[0] != 'S' {
		t.Error("Messages shares its buffers with callers")
	}
}

func TestScript(t *testing.T) {
	unknown := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	later := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	rcpt := RejectRcpt(unknown, "bad@y.test")
	data := FailFirst(StageData, 1, later)
	s := New(t, WithScript(func(stage, arg string) *smtp.SMTPError {
		if e := rcpt(stage, arg); e != nil {
			return e
		}
		return data(stage, arg)
	}))
	c := dial(t, s)

	var se *smtp.SMTPError
	err := send(c, "a@x.test", []string{"bad@y.test"}, msg)
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
		t.Fatalf("RCPT bad: err = %v, want 550 5.1.1", err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	err = send(c, "a@x.test", []string{"ok@y.test"}, msg)
	if !errors.As(err, &se) || se.Code != 451 {
		t.Fatalf("first DATA: err = %v, want 451", err)
	}
	if err := send(c, "a@x.test", []string{"ok@y.test"}, msg); err != nil {
		t.Fatalf("second DATA: %v", err)
	}
	if got := s.Wait(t, 1, 5*time.Second); len(got) != 1 || got[0].To[0] != "ok@y.test" {
		t.Errorf("messages = %+v", got)
	}
}

func TestConnectRejected(t *testing.T) {
	s := New(t, WithScript(func(stage, _ string) *smtp.SMTPError {
		if stage == StageConnect {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "busy"}
		}
		return nil
	}))
	c := dial(t, s)
	var se *smtp.SMTPError
	if err := c.Hello("client.test"); !errors.As(err, &se) || se.Code != 421 || se.Message != "busy" {
		t.Fatalf("Hello: err = %v, want 421 busy", err)
	}
}

func TestSTARTTLS(t *testing.T) {
	cert := certs.SelfSigned(t)
	s := New(t, WithTLS(cert.TLS))
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClientStartTLS(conn, &tls.Config{RootCAs: cert.Pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(c, "a@x.test", []string{"b@y.test"}, msg); err != nil {
		t.Fatal(err)
	}
	if got := s.Wait(t, 1, 5*time.Second); !got[0].TLS {
		t.Error("message over STARTTLS recorded with TLS = false")
	}
}

func TestMaxMessageBytes(t *testing.T) {
	s := New(t, WithMaxMessageBytes(64))
	c := dial(t, s)
	var se *smtp.SMTPError
	err := send(c, "a@x.test", []string{"b@y.test"}, msg+strings.Repeat("x", 100)+"\r\n")
	if !errors.As(err, &se) || se.Code != 552 {
		t.Fatalf("err = %v, want 552", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages recorded, want 0", n)
	}
}

func TestNeverAnswer(t *testing.T) {
	s := New(t, WithNeverAnswer())
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var buf [16]byte
	n, err := conn.Read(buf[:])
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read = %q, %v; want a timeout with nothing read", buf[:n], err)
	}
	if st := s.Stats(); st.Conns != 1 {
		t.Errorf("Conns = %d, want 1", st.Conns)
	}
}

// Wait fails the test when the messages do not arrive in time.
func TestWaitTimeout(t *testing.T) {
	s := New(t)
	ft := &fatalRecorder{TB: t}
	start := time.Now()
	if got := s.Wait(ft, 1, 50*time.Millisecond); got != nil {
		t.Errorf("Wait returned %v after failing", got)
	}
	if !strings.Contains(ft.msg, "want 1") {
		t.Errorf("Wait failed with %q", ft.msg)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Wait took %v with a 50ms timeout", d)
	}
}

// fatalRecorder records Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }
