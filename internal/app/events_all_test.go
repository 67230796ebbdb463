package app_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// The event types the first test does not produce reach the subscriber too,
// each as SES event JSON on a signed notification: DeliveryDelay (a 451 then
// a 250), Open and Click (the tracked pixel and link followed), Rendering
// Failure (a template attribute missing on a real send).
func TestDelayOpenClickAndRenderingFailurePublished(t *testing.T) {
	var slowTries atomic.Int32
	s := stack.Start(t, stack.SinkOptions(smtpsink.WithScript(func(stage, arg string) *smtp.SMTPError {
		if stage == "RCPT" && strings.Contains(strings.ToLower(arg), "slow@example.net") && slowTries.Add(1) == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "try again later"}
		}
		return nil
	})))
	s.ApproveProduction(t)
	const sender = "sender@example.com"
	s.VerifyEmail(t, sender)
	ctx := context.Background()
	h := newHook(t)
	topic := subscribe(t, snsClient(s), h, "all-events")

	const set = "everything"
	if _, err := s.SESv2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(set)}); err != nil {
		t.Fatal(err)
	}
	all := []sesv2types.EventType{"SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK", "RENDERING_FAILURE", "DELIVERY_DELAY"}
	if _, err := s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(set), EventDestinationName: aws.String("to-sns"),
		EventDestination: &sesv2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: all,
			SnsDestination: &sesv2types.SnsDestination{TopicArn: &topic}}}); err != nil {
		t.Fatal(err)
	}

	// An HTML message with a link, to a recipient whose server defers once.
	out, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(sender),
		Destination:      &sesv2types.Destination{ToAddresses: []string{"slow@example.net"}},
		Content: &sesv2types.EmailContent{Simple: &sesv2types.Message{Subject: &sesv2types.Content{Data: aws.String("News")},
			Body: &sesv2types.Body{Html: &sesv2types.Content{Data: aws.String(`<html><body><p>Read <a href="https://example.org/article?id=7">this</a>.</p></body></html>`)}}}},
		ConfigurationSetName: aws.String(set),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	delivered := s.Sink.Wait(t, 2, 20*time.Second) // the verification mail, then ours
	var html string
	for _, m := range delivered {
		if strings.Contains(string(m.Data), id) {
			html = stack.BodyText(t, m.Data)
		}
	}
	click := regexp.MustCompile(`https?://[^"\s]+/t/click/[^"\s]+`).FindString(html)
	open := regexp.MustCompile(`https?://[^"\s]+/t/open/[^"\s]+`).FindString(html)
	if click == "" || open == "" {
		t.Fatalf("no tracked link or pixel in the delivered HTML:\n%s", html)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, u := range []string{open, click} {
		resp, err := noRedirect.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if u == click && resp.Header.Get("Location") != "https://example.org/article?id=7" {
			t.Fatalf("click redirected to %q", resp.Header.Get("Location"))
		}
	}

	// A template whose attribute is missing from the data: accepted, then a
	// Rendering Failure instead of a delivery.
	if _, err := s.SESv2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("welcome"),
		TemplateContent: &sesv2types.EmailTemplateContent{Subject: aws.String("Hi {{name}}"), Text: aws.String("Hello {{name}}")}}); err != nil {
		t.Fatal(err)
	}
	failed, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(sender),
		Destination:      &sesv2types.Destination{ToAddresses: []string{"someone@example.net"}},
		Content: &sesv2types.EmailContent{Template: &sesv2types.Template{TemplateName: aws.String("welcome"),
			TemplateData: aws.String(`{"other": 1}`)}},
		ConfigurationSetName: aws.String(set),
	})
	if err != nil {
		t.Fatal(err)
	}

	byType := func(g []envelope) map[string][]sesEventFull {
		out := map[string][]sesEventFull{}
		for _, e := range g {
			if e.Type != "Notification" || e.TopicArn != topic {
				continue
			}
			var ev sesEventFull
			if err := json.Unmarshal([]byte(e.Message), &ev); err != nil {
				t.Fatalf("Message is not JSON: %v", err)
			}
			out[ev.EventType] = append(out[ev.EventType], ev)
		}
		return out
	}
	got := h.wait(t, 40*time.Second, "DeliveryDelay, Delivery, Open, Click and Rendering Failure", func(g []envelope) bool {
		n := byType(g)
		return len(n["DeliveryDelay"]) > 0 && len(n["Delivery"]) > 0 && len(n["Open"]) > 0 && len(n["Click"]) > 0 && len(n["Rendering Failure"]) > 0
	})
	certs := map[string]*x509.Certificate{}
	for _, e := range got {
		if e.Type == "Notification" {
			verifySignature(t, e, certs)
		}
	}
	n := byType(got)
	if d := n["DeliveryDelay"][0]; d.Mail.MessageID != id || d.DeliveryDelay == nil || d.DeliveryDelay.DelayedRecipients[0].EmailAddress != "slow@example.net" {
		t.Errorf("DeliveryDelay event: %+v", d)
	}
	if c := n["Click"][0]; c.Mail.MessageID != id || c.Click == nil || c.Click.Link != "https://example.org/article?id=7" || c.Click.IPAddress == "" {
		t.Errorf("Click event: %+v", c.Click)
	}
	if o := n["Open"][0]; o.Mail.MessageID != id || o.Open == nil || o.Open.UserAgent == "" {
		t.Errorf("Open event: %+v", o.Open)
	}
	if r := n["Rendering Failure"][0]; r.Mail.MessageID != aws.ToString(failed.MessageId) || r.Failure == nil || r.Failure.TemplateName != "welcome" ||
		r.Failure.ErrorMessage != "Attribute 'name' is not present in the rendering data." {
		t.Errorf("Rendering Failure event: %+v", r.Failure)
	}
}

// sesEventFull holds the event objects this test checks.
type sesEventFull struct {
	EventType string `json:"eventType"`
	Mail      struct {
		MessageID string `json:"messageId"`
	} `json:"mail"`
	DeliveryDelay *struct {
		DelayType         string `json:"delayType"`
		DelayedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"delayedRecipients"`
	} `json:"deliveryDelay"`
	Open *struct {
		IPAddress string `json:"ipAddress"`
		UserAgent string `json:"userAgent"`
	} `json:"open"`
	Click *struct {
		IPAddress string `json:"ipAddress"`
		Link      string `json:"link"`
	} `json:"click"`
	Failure *struct {
		TemplateName string `json:"templateName"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"failure"`
}
