// Package sesreq builds the load generator's SES requests: SES v2 SendEmail
// (REST-JSON), SES v1 SendEmail and SendRawEmail (Query form), each body
// built once and every request signed afresh with aws-sdk-go-v2's SigV4
// signer, as an SDK would send it, on a plain net/http request. It also reads
// the answer the way the SDKs do: the MessageId on success, the error code
// (x-amzn-ErrorType for v2, <Code> in the XML for v1) otherwise.
package sesreq

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Modes are the request kinds Build makes.
const (
	V2  = "v2"  // SES v2 SendEmail, simple content: POST /v2/email/outbound-emails
	V1  = "v1"  // SES v1 SendEmail: POST / Action=SendEmail
	Raw = "raw" // SES v1 SendRawEmail: POST / Action=SendRawEmail
)

// Message is what every request sends.
type Message struct {
	From    string
	To      []string
	Subject string
	Text    string // the text body; see Body for one of a given size
}

// Body returns a plain-text body of about n bytes in 72-character lines.
func Body(n int) string {
	const line = "Sesame benchmark message: the quick brown fox jumps over the lazy dog.\r\n"
	if n <= 0 {
		n = len(line)
	}
	var b strings.Builder
	for b.Len()+len(line) <= n {
		b.WriteString(line)
	}
	b.WriteString(line[:n-b.Len()])
	return b.String()
}

// MIME returns a minimal RFC 5322 message of m, as SendRawEmail and SMTP
// DATA carry it.
func MIME(m Message) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		m.From, strings.Join(m.To, ", "), m.Subject)
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(text)
	if !strings.HasSuffix(text, "\r\n") {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// Template is one request, body pre-built, to be signed per send. It is safe
// for concurrent use.
type Template struct {
	mode        string
	url         string
	host        string
	contentType string
	body        []byte
	payloadHash string
	region      string
	creds       aws.Credentials
	signer      *v4.Signer
}

// Build prepares requests of mode to the endpoint (http://host:port).
func Build(mode, endpoint, region string, creds aws.Credentials, m Message) (*Template, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("sesreq: endpoint %q: want http://host:port", endpoint)
	}
	if m.From == "" || len(m.To) == 0 {
		return nil, errors.New("sesreq: a message needs a sender and a recipient")
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, errors.New("sesreq: no credentials")
	}
	t := &Template{mode: mode, host: u.Host, region: region, creds: creds, signer: v4.NewSigner()}
	base := strings.TrimSuffix(u.String(), "/")
	switch mode {
	case V2:
		t.url = base + "/v2/email/outbound-emails"
		t.contentType = "application/json"
		t.body, err = v2Body(m)
	case V1:
		t.url = base + "/"
		t.contentType = "application/x-www-form-urlencoded; charset=utf-8"
		t.body = v1Body(m)
	case Raw:
		t.url = base + "/"
		t.contentType = "application/x-www-form-urlencoded; charset=utf-8"
		t.body = rawBody(m)
	default:
		return nil, fmt.Errorf("sesreq: unknown mode %q (want v2, v1 or raw)", mode)
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(t.body)
	t.payloadHash = hex.EncodeToString(sum[:])
	return t, nil
}

// Body is the request body every request carries.
func (t *Template) Body() []byte { return t.body }

// Mode is the template's mode.
func (t *Template) Mode() string { return t.mode }

// Request returns a new request signed now.
func (t *Template) Request(ctx context.Context) (*http.Request, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(t.body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", t.contentType)
	if err := t.signer.SignHTTP(ctx, t.creds, r, t.payloadHash, "ses", t.region, time.Now()); err != nil {
		return nil, err
	}
	return r, nil
}

// v2 SendEmail input (SES v2 model, SendEmailRequest) with simple content.
type v2Content struct {
	Data    string `json:"Data"`
	Charset string `json:"Charset,omitempty"`
}

type v2Request struct {
	FromEmailAddress string `json:"FromEmailAddress"`
	Destination      struct {
		ToAddresses []string `json:"ToAddresses"`
	} `json:"Destination"`
	Content struct {
		Simple struct {
			Subject v2Content `json:"Subject"`
			Body    struct {
				Text v2Content `json:"Text"`
			} `json:"Body"`
		} `json:"Simple"`
	} `json:"Content"`
}

func v2Body(m Message) ([]byte, error) {
	var r v2Request
	r.FromEmailAddress = m.From
	r.Destination.ToAddresses = m.To
	r.Content.Simple.Subject = v2Content{Data: m.Subject, Charset: "UTF-8"}
	r.Content.Simple.Body.Text = v2Content{Data: m.Text, Charset: "UTF-8"}
	return json.Marshal(r)
}

// v1Body is the Query form of SES v1 SendEmail, as the SDKs send it.
func v1Body(m Message) []byte {
	v := url.Values{}
	v.Set("Action", "SendEmail")
	v.Set("Version", "2010-12-01")
	v.Set("Source", m.From)
	for i, to := range m.To {
		v.Set("Destination.ToAddresses.member."+strconv.Itoa(i+1), to)
	}
	v.Set("Message.Subject.Data", m.Subject)
	v.Set("Message.Subject.Charset", "UTF-8")
	v.Set("Message.Body.Text.Data", m.Text)
	v.Set("Message.Body.Text.Charset", "UTF-8")
	return []byte(v.Encode())
}

// rawBody is SES v1 SendRawEmail: the MIME message base64-encoded in
// RawMessage.Data, the recipients taken from its headers.
func rawBody(m Message) []byte {
	v := url.Values{}
	v.Set("Action", "SendRawEmail")
	v.Set("Version", "2010-12-01")
	v.Set("RawMessage.Data", base64.StdEncoding.EncodeToString(MIME(m)))
	return []byte(v.Encode())
}

// Outcome is how one response ended.
type Outcome struct {
	OK        bool
	MessageID string
	// Code is the SES error code ("Throttling", "MessageRejected"…), or
	// "HTTP <status>" when the body names none.
	Code string
}

// Read consumes resp's body (closing it) and classifies the answer.
func Read(resp *http.Response, buf *bytes.Buffer) (Outcome, error) {
	defer resp.Body.Close()
	buf.Reset()
	if _, err := io.Copy(buf, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return Outcome{}, err
	}
	body := buf.Bytes()
	if resp.StatusCode == http.StatusOK {
		if id := messageID(body); id != "" {
			return Outcome{OK: true, MessageID: id}, nil
		}
		return Outcome{Code: "HTTP 200 without MessageId"}, nil
	}
	// REST-JSON: "Code:http://internal.amazon.com/coral/…"
	if code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":"); code != "" {
		return Outcome{Code: code}, nil
	}
	if code := between(body, "<Code>", "</Code>"); code != "" {
		return Outcome{Code: code}, nil
	}
	if code := jsonCode(body); code != "" {
		return Outcome{Code: code}, nil
	}
	return Outcome{Code: "HTTP " + strconv.Itoa(resp.StatusCode)}, nil
}

// messageID finds the MessageId in a v2 JSON or v1 XML answer without a
// full decode.
func messageID(body []byte) string {
	if id := between(body, "<MessageId>", "</MessageId>"); id != "" {
		return id
	}
	_, rest, ok := bytes.Cut(body, []byte(`"MessageId"`))
	if !ok {
		return ""
	}
	_, rest, ok = bytes.Cut(rest, []byte(`"`))
	if !ok {
		return ""
	}
	id, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok {
		return ""
	}
	return string(id)
}

func jsonCode(body []byte) string {
	var e struct {
		Type string `json:"__type"`
		Code string `json:"code"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Code != "" {
		return e.Code
	}
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		return e.Type[i+1:]
	}
	return e.Type
}

func between(b []byte, open, close string) string {
	_, rest, ok := bytes.Cut(b, []byte(open))
	if !ok {
		return ""
	}
	v, _, ok := bytes.Cut(rest, []byte(close))
	if !ok {
		return ""
	}
	return string(v)
}

// Send signs and sends one request with hc and reads the answer into buf.
func (t *Template) Send(ctx context.Context, hc *http.Client, buf *bytes.Buffer) (Outcome, error) {
	r, err := t.Request(ctx)
	if err != nil {
		return Outcome{}, err
	}
	resp, err := hc.Do(r)
	if err != nil {
		return Outcome{}, err
	}
	return Read(resp, buf)
}
