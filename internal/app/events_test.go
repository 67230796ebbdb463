package app_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// hook is an HTTP subscriber on 127.0.0.1 recording every request; while
// failing is set it answers notifications with 500.
type hook struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []envelope // answered 200
	failed  int        // notifications answered 500
	failing bool
}

// envelope is the SNS HTTP notification JSON.
type envelope struct {
	Type, MessageId, Token, TopicArn, Subject, Message, SubscribeURL, Timestamp string
	SignatureVersion, Signature, SigningCertURL                                 string
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env envelope
		if err := json.Unmarshal(body, &env); err != nil {
			t.Errorf("subscriber got a body that is not JSON: %q", body)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.failing && env.Type == "Notification" {
			h.failed++
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		h.got = append(h.got, env)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) setFailing(f bool) { h.mu.Lock(); h.failing = f; h.mu.Unlock() }

func (h *hook) failures() int { h.mu.Lock(); defer h.mu.Unlock(); return h.failed }

// wait polls until cond holds on the envelopes received, for at most timeout.
func (h *hook) wait(t *testing.T, timeout time.Duration, what string, cond func([]envelope) bool) []envelope {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h.mu.Lock()
		got := append([]envelope(nil), h.got...)
		h.mu.Unlock()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber: %s not within %v (%d received)", what, timeout, len(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func snsClient(s *stack.Stack) *sns.Client {
	cfg := aws.Config{Region: stack.Region, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.Root.ID, s.Root.Secret, "")}
	return sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// subscribe creates a topic, subscribes h at a path of its own and
// confirms through the SubscribeURL, as an SNS consumer does.
func subscribe(t *testing.T, c *sns.Client, h *hook, name string) string {
	t.Helper()
	ctx := context.Background()
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(topic.TopicArn)
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(h.srv.URL + "/" + name)}); err != nil {
		t.Fatal(err)
	}
	got := h.wait(t, 10*time.Second, "SubscriptionConfirmation", func(g []envelope) bool { return confirmation(g, arn) != nil })
	resp, err := http.Get(confirmation(got, arn).SubscribeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SubscribeURL: %s", resp.Status)
	}
	return arn
}

func confirmation(g []envelope, topic string) *envelope {
	for i := range g {
		if g[i].Type == "SubscriptionConfirmation" && g[i].TopicArn == topic {
			return &g[i]
		}
	}
	return nil
}

// verifySignature checks an envelope's signature against the certificate
// at its SigningCertURL ("Verifying the signatures of Amazon SNS messages").
func verifySignature(t *testing.T, e envelope, certs map[string]*x509.Certificate) {
	t.Helper()
	cert := certs[e.SigningCertURL]
	if cert == nil {
		resp, err := http.Get(e.SigningCertURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		block, _ := pem.Decode(body)
		if block == nil {
			t.Fatalf("no PEM at %s", e.SigningCertURL)
		}
		if cert, err = x509.ParseCertificate(block.Bytes); err != nil {
			t.Fatal(err)
		}
		certs[e.SigningCertURL] = cert
	}
	var b strings.Builder
	for _, kv := range [][2]string{{"Message", e.Message}, {"MessageId", e.MessageId}, {"Subject", e.Subject},
		{"Timestamp", e.Timestamp}, {"TopicArn", e.TopicArn}, {"Type", e.Type}} {
		if kv[0] == "Subject" && kv[1] == "" {
			continue
		}
		b.WriteString(kv[0] + "\n" + kv[1] + "\n")
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil {
		t.Fatal(err)
	}
	h, digest := crypto.SHA1, sha1.Sum([]byte(b.String()))
	sum := digest[:]
	if e.SignatureVersion == "2" {
		d := sha256.Sum256([]byte(b.String()))
		h, sum = crypto.SHA256, d[:]
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), h, sum, sig); err != nil {
		t.Errorf("notification %s: signature does not verify: %v", e.MessageId, err)
	}
}

// sesEvent is the part of SES's event and notification JSON checked here.
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		MessageID   string              `json:"messageId"`
		Source      string              `json:"source"`
		SourceArn   string              `json:"sourceArn"`
		Destination []string            `json:"destination"`
		Tags        map[string][]string `json:"tags"`
		Headers     []struct{ Name, Value string }
	} `json:"mail"`
	Bounce *struct {
		BounceType string `json:"bounceType"`
	} `json:"bounce"`
	Complaint *json.RawMessage `json:"complaint"`
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Every timeline event of a message sent with a configuration set reaches
// the set's SNS destination as SES event JSON, signed, even when the
// subscriber fails for a while; its CloudWatch destination shows at
// /metrics labelled with the message tag; the sender identity's Bounce
// topic gets SES's bounce notification; statistics count the complaint.
func TestEventsPublished(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	const sender = "sender@example.com"
	s.VerifyEmail(t, sender)
	ctx := context.Background()
	c := snsClient(s)
	h := newHook(t)
	eventsTopic := subscribe(t, c, h, "ses-events")
	bounceTopic := subscribe(t, c, h, "bounces")
	complaintTopic := subscribe(t, c, h, "complaints")

	// Identity notifications: set, refused, round-tripped.
	if _, err := s.SES.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String(sender),
		NotificationType: "Bounce", SnsTopic: aws.String("arn:aws:sns:us-east-1:" + s.Root.AccountID + ":nope")}); apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("unknown topic: %v, want InvalidParameterValue", err)
	}
	if _, err := s.SES.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String(sender),
		NotificationType: "Bounce", SnsTopic: &bounceTopic}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SES.SetIdentityHeadersInNotificationsEnabled(ctx, &ses.SetIdentityHeadersInNotificationsEnabledInput{
		Identity: aws.String(sender), NotificationType: "Bounce", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SES.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{
		Identity: aws.String(sender), ForwardingEnabled: false}); apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("forwarding off with no complaint topic: %v, want InvalidParameterValue", err)
	}
	if _, err := s.SES.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String(sender),
		NotificationType: "Complaint", SnsTopic: &complaintTopic}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SES.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{
		Identity: aws.String(sender), ForwardingEnabled: false}); err != nil {
		t.Fatal(err)
	}
	attrs, err := s.SES.GetIdentityNotificationAttributes(ctx, &ses.GetIdentityNotificationAttributesInput{Identities: []string{sender, "unknown@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := attrs.NotificationAttributes[sender]
	if len(attrs.NotificationAttributes) != 1 || !ok || aws.ToString(a.BounceTopic) != bounceTopic || aws.ToString(a.ComplaintTopic) != complaintTopic ||
		aws.ToString(a.DeliveryTopic) != "" || a.ForwardingEnabled || !a.HeadersInBounceNotificationsEnabled ||
		a.HeadersInComplaintNotificationsEnabled || a.HeadersInDeliveryNotificationsEnabled {
		t.Fatalf("GetIdentityNotificationAttributes: %+v", attrs.NotificationAttributes)
	}

	// A configuration set publishing everything to SNS and some types to
	// "CloudWatch" with a message-tag dimension.
	const set = "tracked"
	if _, err := s.SESv2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(set)}); err != nil {
		t.Fatal(err)
	}
	all := []sesv2types.EventType{"SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK", "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"}
	if _, err := s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(set), EventDestinationName: aws.String("to-sns"),
		EventDestination: &sesv2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: all,
			SnsDestination: &sesv2types.SnsDestination{TopicArn: &eventsTopic}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SESv2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(set), EventDestinationName: aws.String("to-cloudwatch"),
		EventDestination: &sesv2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: []sesv2types.EventType{"SEND", "DELIVERY", "BOUNCE", "COMPLAINT"},
			CloudWatchDestination: &sesv2types.CloudWatchDestination{DimensionConfigurations: []sesv2types.CloudWatchDimensionConfiguration{{
				DimensionName: aws.String("campaign"), DimensionValueSource: sesv2types.DimensionValueSourceMessageTag, DefaultDimensionValue: aws.String("none")}}}}}); err != nil {
		t.Fatal(err)
	}

	// The subscriber fails at first: SNS's retries still bring every event.
	h.setFailing(true)
	out, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress:     aws.String(sender),
		Destination:          &sesv2types.Destination{ToAddresses: []string{"success" + simDomain, "bounce" + simDomain, "complaint" + simDomain}},
		Content:              &sesv2types.EmailContent{Simple: &sesv2types.Message{Subject: &sesv2types.Content{Data: aws.String("Spring sale")}, Body: &sesv2types.Body{Text: &sesv2types.Content{Data: aws.String("hi")}}}},
		ConfigurationSetName: aws.String(set),
		EmailTags:            []sesv2types.MessageTag{{Name: aws.String("campaign"), Value: aws.String("spring")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	deadline := time.Now().Add(15 * time.Second)
	for h.failures() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no notification attempted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Past SNS's immediate retries, into its delayed ones (DefaultRetryPolicy).
	time.Sleep(1500 * time.Millisecond)
	h.setFailing(false)
	if n := h.failures(); n < 8 {
		t.Fatalf("only %d failed attempts while failing", n)
	}

	parse := func(e envelope) sesEvent {
		var ev sesEvent
		if err := json.Unmarshal([]byte(e.Message), &ev); err != nil {
			t.Fatalf("Message is not JSON: %v: %s", err, e.Message)
		}
		return ev
	}
	types := func(g []envelope, topic string) map[string]int {
		n := map[string]int{}
		for _, e := range g {
			if e.Type == "Notification" && e.TopicArn == topic {
				ev := parse(e)
				n[ev.EventType+ev.NotificationType]++
			}
		}
		return n
	}
	got := h.wait(t, 40*time.Second, "Send, Delivery, Bounce, Complaint events and the Bounce notification", func(g []envelope) bool {
		ev, b := types(g, eventsTopic), types(g, bounceTopic)
		return ev["Send"] > 0 && ev["Delivery"] > 0 && ev["Bounce"] > 0 && ev["Complaint"] > 0 && b["Bounce"] > 0
	})

	certs := map[string]*x509.Certificate{}
	for _, e := range got {
		if e.Type != "Notification" {
			continue
		}
		verifySignature(t, e, certs)
		ev := parse(e)
		if ev.Mail.MessageID != id {
			t.Errorf("%s: mail.messageId %s, sent %s", e.TopicArn, ev.Mail.MessageID, id)
		}
		if want := "arn:aws:ses:us-east-1:" + s.Root.AccountID + ":identity/" + sender; ev.Mail.SourceArn != want {
			t.Errorf("sourceArn %s, want %s", ev.Mail.SourceArn, want)
		}
		switch e.TopicArn {
		case eventsTopic:
			if e.Subject != "Amazon SES Email Event Notification" {
				t.Errorf("event Subject %q", e.Subject)
			}
			if tg := ev.Mail.Tags; strings.Join(tg["campaign"], ",") != "spring" || strings.Join(tg["ses:configuration-set"], ",") != set {
				t.Errorf("%s event: mail.tags %v", ev.EventType, tg)
			}
			if len(ev.Mail.Destination) != 3 || len(ev.Mail.Headers) == 0 {
				t.Errorf("%s event: destination %v, %d headers", ev.EventType, ev.Mail.Destination, len(ev.Mail.Headers))
			}
		case bounceTopic:
			if ev.NotificationType != "Bounce" || ev.Bounce == nil || ev.Bounce.BounceType != "Permanent" || ev.Mail.Tags != nil {
				t.Errorf("bounce notification: %s", e.Message)
			}
			if len(ev.Mail.Headers) == 0 {
				t.Errorf("bounce notification without the headers the identity asked for: %s", e.Message)
			}
		case complaintTopic:
			if ev.NotificationType != "Complaint" || ev.Complaint == nil || len(ev.Mail.Headers) != 0 {
				t.Errorf("complaint notification: %s", e.Message)
			}
		}
	}
	// Each event was handed to SNS once: no duplicates beyond the retries
	// the subscriber refused.
	for typ, n := range types(got, eventsTopic) {
		if n != 1 && typ != "Delivery" {
			t.Errorf("%d %s events", n, typ)
		}
	}

	// CloudWatch destination → Prometheus counters labelled with the tag.
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("/metrics Content-Type %q", ct)
	}
	for _, want := range []string{
		"# TYPE sesame_ses_events_total counter",
		`sesame_ses_events_total{campaign="spring",configuration_set="tracked",event_type="Send"} 1`,
		`sesame_ses_events_total{campaign="spring",configuration_set="tracked",event_type="Bounce"} 1`,
		`sesame_ses_events_total{campaign="spring",configuration_set="tracked",event_type="Complaint"} 1`,
		`sesame_events_total{event_type="Send"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}

	// Statistics count the complaint.
	stats, err := s.SES.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var attempts, bounces, complaints int64
	for _, p := range stats.SendDataPoints {
		attempts, bounces, complaints = attempts+p.DeliveryAttempts, bounces+p.Bounces, complaints+p.Complaints
	}
	if attempts != 3 || bounces != 1 || complaints != 1 {
		t.Errorf("GetSendStatistics: %d attempts, %d bounces, %d complaints; want 3, 1, 1", attempts, bounces, complaints)
	}

	// Clearing the Complaint topic turns feedback forwarding back on.
	if _, err := s.SES.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String(sender), NotificationType: "Complaint"}); err != nil {
		t.Fatal(err)
	}
	attrs, err = s.SES.GetIdentityNotificationAttributes(ctx, &ses.GetIdentityNotificationAttributesInput{Identities: []string{sender}})
	if err != nil {
		t.Fatal(err)
	}
	if a := attrs.NotificationAttributes[sender]; aws.ToString(a.ComplaintTopic) != "" || !a.ForwardingEnabled {
		t.Errorf("after clearing the Complaint topic: %+v", a)
	}
}
