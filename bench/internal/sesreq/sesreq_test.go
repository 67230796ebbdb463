package sesreq

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sesamehq/sesame/internal/api/sigv4"
)

var (
	creds = aws.Credentials{AccessKeyID: "AKIABENCHMARK0000001", SecretAccessKey: "bench/secret/key/0000000000000000000000"}
	msg   = Message{From: "sender@bench.test", To: []string{"success@simulator.amazonses.com"}, Subject: "Hello", Text: Body(300)}
)

func verifier() *sigv4.Verifier {
	return &sigv4.Verifier{Region: "us-east-1", Lookup: func(_ context.Context, id string) (string, error) {
		if id != creds.AccessKeyID {
			return "", sigv4.ErrUnknownKey
		}
		return creds.SecretAccessKey, nil
	}}
}

// request builds a request and reads it back as a server would.
func request(t *testing.T, mode string) (*http.Request, []byte) {
	t.Helper()
	tmpl, err := Build(mode, "http://127.0.0.1:8080", "us-east-1", creds, msg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tmpl.Request(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, tmpl.Body()) {
		t.Fatal("request body differs from the template's")
	}
	return r, body
}

func TestRequestsVerifyWithSesameSigV4(t *testing.T) {
	v := verifier()
	for _, mode := range []string{V2, V1, Raw} {
		t.Run(mode, func(t *testing.T) {
			r, body := request(t, mode)
			res, err := v.Verify(context.Background(), r, body)
			if err != nil {
				t.Fatalf("Sesame's verifier refused the signature: %v", err)
			}
			if res.AccessKeyID != creds.AccessKeyID || res.Service != "ses" {
				t.Errorf("verified as %+v", res)
			}
			// A changed body no longer verifies: the payload hash is signed.
			if _, err := v.Verify(context.Background(), r, append(body, ' ')); err == nil {
				t.Error("a changed body still verified")
			}
		})
	}
}

func TestV2Body(t *testing.T) {
	r, body := request(t, V2)
	if r.URL.Path != "/v2/email/outbound-emails" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("v2 request to %s (%s)", r.URL.Path, r.Header.Get("Content-Type"))
	}
	var in struct {
		FromEmailAddress string
		Destination      struct{ ToAddresses []string }
		Content          struct {
			Simple struct {
				Subject struct{ Data string }
				Body    struct{ Text struct{ Data string } }
			}
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatal(err)
	}
	if in.FromEmailAddress != msg.From || len(in.Destination.ToAddresses) != 1 || in.Destination.ToAddresses[0] != msg.To[0] ||
		in.Content.Simple.Subject.Data != "Hello" || in.Content.Simple.Body.Text.Data != msg.Text {
		t.Errorf("decoded %+v", in)
	}
}

func TestV1Bodies(t *testing.T) {
	_, body := request(t, V1)
	f, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if f.Get("Action") != "SendEmail" || f.Get("Source") != msg.From || f.Get("Destination.ToAddresses.member.1") != msg.To[0] ||
		f.Get("Message.Body.Text.Data") != msg.Text || f.Get("Version") != "2010-12-01" {
		t.Errorf("v1 form %v", f)
	}

	_, body = request(t, Raw)
	if f, err = url.ParseQuery(string(body)); err != nil {
		t.Fatal(err)
	}
	if f.Get("Action") != "SendRawEmail" {
		t.Fatalf("raw Action %q", f.Get("Action"))
	}
	raw, err := base64.StdEncoding.DecodeString(f.Get("RawMessage.Data"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(m.Body)
	if m.Header.Get("From") != msg.From || m.Header.Get("To") != msg.To[0] || strings.TrimSuffix(string(text), "\r\n") != strings.TrimSuffix(msg.Text, "\r\n") {
		t.Errorf("raw message: From %q To %q body %d bytes", m.Header.Get("From"), m.Header.Get("To"), len(text))
	}
}

func TestBodySize(t *testing.T) {
	for _, n := range []int{1, 100, 1000, 4096} {
		if got := len(Body(n)); got != n {
			t.Errorf("Body(%d) is %d bytes", n, got)
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	for name, f := range map[string]func() error{
		"mode":     func() error { _, err := Build("v3", "http://h:1", "r", creds, msg); return err },
		"endpoint": func() error { _, err := Build(V2, "127.0.0.1:1", "r", creds, msg); return err },
		"creds":    func() error { _, err := Build(V2, "http://h:1", "r", aws.Credentials{}, msg); return err },
		"message":  func() error { _, err := Build(V2, "http://h:1", "r", creds, Message{From: "a@b"}); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func response(status int, header map[string]string, body string) *http.Response {
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

func TestRead(t *testing.T) {
	cases := []struct {
		name string
		resp *http.Response
		want Outcome
	}{
		{"v2 ok", response(200, nil, `{"MessageId":"0100abc-000000"}`), Outcome{OK: true, MessageID: "0100abc-000000"}},
		{"v1 ok", response(200, nil, `<SendEmailResponse><SendEmailResult><MessageId>0100def-000000</MessageId></SendEmailResult></SendEmailResponse>`),
			Outcome{OK: true, MessageID: "0100def-000000"}},
		{"v2 error", response(400, map[string]string{"X-Amzn-Errortype": "MessageRejected:http://internal.amazon.com/coral/com.amazonaws.sesv2/"}, `{"message":"x"}`),
			Outcome{Code: "MessageRejected"}},
		{"v1 error", response(400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code></Error></ErrorResponse>`), Outcome{Code: "Throttling"}},
		{"json type", response(500, nil, `{"__type":"com.amazon#InternalFailure"}`), Outcome{Code: "InternalFailure"}},
		{"bare", response(502, nil, `bad gateway`), Outcome{Code: "HTTP 502"}},
		{"200 without id", response(200, nil, `{}`), Outcome{Code: "HTTP 200 without MessageId"}},
	}
	var buf bytes.Buffer
	for _, c := range cases {
		got, err := Read(c.resp, &buf)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	failing := &http.Response{StatusCode: 200, Body: io.NopCloser(io.MultiReader(strings.NewReader("{"), errReader{}))}
	if _, err := Read(failing, &buf); err == nil {
		t.Error("a failing body read gave no error")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
