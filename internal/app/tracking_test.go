package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/sesamehq/sesame/internal/dns"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

const trackedHTML = `<html><body>
<p><a href="https://example.com/landing?utm=1&amp;x=%20y#sec">Go</a></p>
<p><a ses:no-track href="https://example.com/private">private</a></p>
<p><a href="https://例え.jp/ページ?q=値" ses:tags="campaign:launch;">unicode</a></p>
<p><a href="mailto:help@example.com">help</a></p>
</body></html>`

// trackingSet makes a configuration set whose event destination wants
// opens and clicks, with tracking options when domain is not empty.
func trackingSet(t *testing.T, s *stack.Stack, name, domain string, types ...sesv2types.EventType) {
	t.Helper()
	ctx := context.Background()
	in := &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(name)}
	if domain != "" {
		in.TrackingOptions = &sesv2types.TrackingOptions{CustomRedirectDomain: aws.String(domain), HttpsPolicy: sesv2types.HttpsPolicyOptional}
	}
	if _, err := s.SESv2.CreateConfigurationSet(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(name), EventDestinationName: aws.String("engagement"),
		EventDestination: &sesv2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: types,
			CloudWatchDestination: &sesv2types.CloudWatchDestination{DimensionConfigurations: []sesv2types.CloudWatchDimensionConfiguration{{
				DimensionName: aws.String("campaign"), DimensionValueSource: sesv2types.DimensionValueSourceLinkTag, DefaultDimensionValue: aws.String("none")}}}}}); err != nil {
		t.Fatal(err)
	}
}

// sendTracked sends trackedHTML through set and returns the message id and
// the message as the sink received it.
func sendTracked(t *testing.T, s *stack.Stack, set string) (string, []byte) {
	t.Helper()
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("news@example.com"),
		Destination:      &sesv2types.Destination{ToAddresses: []string{"you@example.net", "other@example.net"}},
		Content: &sesv2types.EmailContent{Simple: &sesv2types.Message{Subject: &sesv2types.Content{Data: aws.String("Tracked")},
			Body: &sesv2types.Body{Text: &sesv2types.Content{Data: aws.String("Text https://example.com/text")},
				Html: &sesv2types.Content{Data: aws.String(trackedHTML)}}}},
	}
	if set != "" {
		in.ConfigurationSetName = aws.String(set)
	}
	out, err := s.SESv2.SendEmail(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range s.Sink.Messages() {
			if bytes.Contains(m.Data, []byte(id)) {
				return id, m.Data
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("message %s not delivered", id)
	return "", nil
}

// htmlAndText returns the decoded HTML and text parts of a delivered message.
func htmlAndText(t *testing.T, msg []byte) (html, text string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(ct string, body io.Reader, depth int)
	walk = func(ct string, body io.Reader, depth int) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("Content-Type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") && depth < 5 {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextPart() // decodes quoted-printable
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p, depth+1)
			}
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		switch mt {
		case "text/html":
			html = string(b)
		case "text/plain":
			text = string(b)
		}
	}
	walk(m.Header.Get("Content-Type"), m.Body, 0)
	return html, text
}

var (
	hrefRE = regexp.MustCompile(`<a [^>]*href="([^"]+)"`)
	srcRE  = regexp.MustCompile(`<img [^>]*src="([^"]+)"`)
)

func verifyDKIM(t *testing.T, s *stack.Stack, msg []byte) {
	t.Helper()
	resolver, err := dns.NewClient(s.DNS.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		return resolver.LookupTXT(context.Background(), name)
	}})
	if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
		t.Fatalf("DKIM: %v %+v", err, verifs)
	}
}

// waitEvents polls a message's timeline until it has n events of typ.
func waitEvents(t *testing.T, s *stack.Stack, id, typ string, n int) []queue.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := s.App.Queue.Events(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var out []queue.Event
		for _, e := range evs {
			if e.Type == typ {
				out = append(out, e)
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s events, want %d", len(out), typ, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var noFollow = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// fetch GETs a tracking URL at Sesame, whatever host the URL names (a
// custom redirect domain is a CNAME to Sesame).
func fetch(t *testing.T, s *stack.Stack, raw, ua string) *http.Response {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("GET", s.URL+u.EscapedPath(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = u.Host
	req.Header.Set("User-Agent", ua)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestOpenAndClickTracking sends HTML through a configuration set that
// tracks opens and clicks, follows the links and the pixel of the message
// as delivered, and checks the redirects and the Open and Click events.
func TestOpenAndClickTracking(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyDomain(t, "example.com")
	trackingSet(t, s, "tracked", "", sesv2types.EventTypeOpen, sesv2types.EventTypeClick)

	id, msg := sendTracked(t, s, "tracked")
	verifyDKIM(t, s, msg) // signed after the rewrite
	html, text := htmlAndText(t, msg)
	if text != "Text https://example.com/text" {
		t.Errorf("text part changed: %q", text)
	}
	if strings.Contains(html, "ses:") {
		t.Errorf("ses: attributes delivered:\n%s", html)
	}
	var hrefs []string
	for _, m := range hrefRE.FindAllStringSubmatch(html, -1) {
		hrefs = append(hrefs, m[1])
	}
	if len(hrefs) != 4 || hrefs[1] != "https://example.com/private" || hrefs[3] != "mailto:help@example.com" {
		t.Fatalf("links %q", hrefs)
	}
	pixels := srcRE.FindAllStringSubmatch(html, -1)
	if len(pixels) != 1 || !strings.HasPrefix(pixels[0][1], s.URL+"/t/open/") {
		t.Fatalf("pixels %q in\n%s", pixels, html)
	}
	wantLinks := map[int]string{
		0: "https://example.com/landing?utm=1&x=%20y#sec",
		2: "https://%E4%BE%8B%E3%81%88.jp/%E3%83%9A%E3%83%BC%E3%82%B8?q=%E5%80%A4",
	}
	for i, want := range wantLinks {
		if !strings.HasPrefix(hrefs[i], s.URL+"/t/click/") {
			t.Fatalf("link %d not tracked: %s", i, hrefs[i])
		}
		resp := fetch(t, s, hrefs[i], "TrackingTest/1.0")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Errorf("link %d: %d to %q, want 302 to %q", i, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	resp := fetch(t, s, pixels[0][1], "MailClient/2.0")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" || !bytes.HasPrefix(body, []byte("GIF89a")) {
		t.Errorf("pixel: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	clicks := waitEvents(t, s, id, "Click", 2)
	opens := waitEvents(t, s, id, "Open", 1)
	type click struct {
		IPAddress string              `json:"ipAddress"`
		Timestamp string              `json:"timestamp"`
		UserAgent string              `json:"userAgent"`
		Link      string              `json:"link"`
		LinkTags  map[string][]string `json:"linkTags"`
	}
	got := map[string]click{}
	for _, e := range append(clicks, opens...) {
		var c click
		if err := json.Unmarshal([]byte(e.Payload), &c); err != nil {
			t.Fatal(err)
		}
		if c.IPAddress != "127.0.0.1" {
			t.Errorf("%s ipAddress %q", e.Type, c.IPAddress)
		}
		if ts, err := time.Parse("2006-01-02T15:04:05.000Z", c.Timestamp); err != nil || time.Since(ts) > time.Minute {
			t.Errorf("%s timestamp %q", e.Type, c.Timestamp)
		}
		got[e.Type+" "+c.Link] = c
	}
	if c, ok := got["Click https://example.com/landing?utm=1&x=%20y#sec"]; !ok || c.UserAgent != "TrackingTest/1.0" || c.LinkTags != nil {
		t.Errorf("first link's click: %+v (all: %+v)", c, got)
	}
	if c, ok := got["Click https://例え.jp/ページ?q=値"]; !ok || len(c.LinkTags["campaign"]) != 1 || c.LinkTags["campaign"][0] != "launch" {
		t.Errorf("tagged click: %+v (all: %+v)", c, got)
	}
	if c, ok := got["Open "]; !ok || c.UserAgent != "MailClient/2.0" || strings.Contains(opens[0].Payload, "link") {
		t.Errorf("open: %s", opens[0].Payload)
	}

	// A tampered token is refused and records nothing.
	before, err := s.App.Queue.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{hrefs[0], pixels[0][1]} {
		tampered := u[:len(u)-3] + "AAA"
		if tampered == u {
			tampered = u[:len(u)-3] + "BBB"
		}
		if resp := fetch(t, s, tampered, "x"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("tampered %s: %d", tampered, resp.StatusCode)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if after, _ := s.App.Queue.Events(context.Background(), id); len(after) != len(before) {
		t.Errorf("tampered tokens recorded events: %d → %d", len(before), len(after))
	}
}

// With tracking options, links use the custom redirect domain; a set with
// no OPEN or CLICK destination, or no set, leaves the message alone.
func TestTrackingDomainAndNoTracking(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyDomain(t, "example.com")
	trackingSet(t, s, "custom", "track.example.com", sesv2types.EventTypeClick)
	trackingSet(t, s, "untracked", "track.example.com", sesv2types.EventTypeSend, sesv2types.EventTypeDelivery)

	id, msg := sendTracked(t, s, "custom")
	verifyDKIM(t, s, msg)
	html, _ := htmlAndText(t, msg)
	if strings.Contains(html, "<img") {
		t.Errorf("a pixel without an OPEN destination:\n%s", html)
	}
	m := hrefRE.FindStringSubmatch(html)
	if m == nil || !strings.HasPrefix(m[1], "https://track.example.com/t/click/") { // OPTIONAL: the link's own scheme
		t.Fatalf("link %q", m)
	}
	resp := fetch(t, s, m[1], "ua")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/landing?utm=1&x=%20y#sec" {
		t.Errorf("redirect %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	waitEvents(t, s, id, "Click", 1)

	for _, set := range []string{"untracked", ""} {
		id, msg := sendTracked(t, s, set)
		stored, err := s.App.Queue.Load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored.Data, []byte("/t/")) || !bytes.Contains(stored.Data, []byte("ses:no-track")) {
			t.Errorf("set %q: message rewritten:\n%s", set, stored.Data)
		}
		if !bytes.HasSuffix(msg, stored.Data) {
			t.Errorf("set %q: delivered message is not the stored one plus the DKIM signature", set)
		}
	}
}
