package snsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	snssdk "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/sesamehq/sesame/internal/sns"
)

// TestTopicLifecycle drives the topic operations through the SDK.
func TestTopicLifecycle(t *testing.T) {
	s := newServer(t)
	c := s.owner
	ctx := context.Background()

	created, err := c.CreateTopic(ctx, &snssdk.CreateTopicInput{
		Name:       aws.String("ses-events"),
		Attributes: map[string]string{"DisplayName": "SES events", "SignatureVersion": "2"},
		Tags:       []types.Tag{{Key: aws.String("team"), Value: aws.String("mail")}, {Key: aws.String("empty"), Value: aws.String("")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.TopicArn)
	if arn != "arn:aws:sns:us-east-1:123456789012:ses-events" {
		t.Fatalf("TopicArn %q", arn)
	}
	// Idempotent by name; different attributes are refused.
	again, err := c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("ses-events"), Attributes: map[string]string{"DisplayName": "SES events"}})
	if err != nil || aws.ToString(again.TopicArn) != arn {
		t.Fatalf("CreateTopic again: %v, %v", again, err)
	}
	_, err = c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("ses-events"), Attributes: map[string]string{"DisplayName": "other"}})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
	_, err = c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("bad name!")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: Topic Name")
	_, err = c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("fifo"), Attributes: map[string]string{"FifoTopic": "true"}})
	wantError[*types.InvalidParameterException](t, err, 400, "")

	attrs, err := c.GetTopicAttributes(ctx, &snssdk.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"TopicArn": arn, "Owner": "123456789012", "DisplayName": "SES events", "SignatureVersion": "2",
		"SubscriptionsConfirmed": "0", "SubscriptionsPending": "0", "SubscriptionsDeleted": "0",
	}
	for k, v := range want {
		if attrs.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, attrs.Attributes[k], v)
		}
	}
	for _, k := range []string{"Policy", "EffectiveDeliveryPolicy"} {
		if !json.Valid([]byte(attrs.Attributes[k])) {
			t.Errorf("attribute %s is not JSON: %q", k, attrs.Attributes[k])
		}
	}
	if !strings.Contains(attrs.Attributes["Policy"], `"Resource":"`+arn+`"`) {
		t.Errorf("default Policy %s", attrs.Attributes["Policy"])
	}

	if _, err := c.SetTopicAttributes(ctx, &snssdk.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("Renamed")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SetTopicAttributes(ctx, &snssdk.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("Colour"), AttributeValue: aws.String("x")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: AttributeName")
	_, err = c.SetTopicAttributes(ctx, &snssdk.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("3")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: SignatureVersion")
	attrs, _ = c.GetTopicAttributes(ctx, &snssdk.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if attrs.Attributes["DisplayName"] != "Renamed" {
		t.Errorf("DisplayName after set: %q", attrs.Attributes["DisplayName"])
	}

	// Tags.
	tags, err := c.ListTagsForResource(ctx, &snssdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if got := tagString(tags.Tags); got != "empty=,team=mail" {
		t.Errorf("tags %s", got)
	}
	if _, err := c.TagResource(ctx, &snssdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &snssdk.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"empty"}}); err != nil {
		t.Fatal(err)
	}
	tags, _ = c.ListTagsForResource(ctx, &snssdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if got := tagString(tags.Tags); got != "env=prod,team=mail" {
		t.Errorf("tags after tag/untag: %s", got)
	}
	many := make([]types.Tag, 49)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	_, err = c.TagResource(ctx, &snssdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	wantError[*types.TagLimitExceededException](t, err, 400, "")
	_, err = c.ListTagsForResource(ctx, &snssdk.ListTagsForResourceInput{ResourceArn: aws.String(arn + "-missing")})
	wantError[*types.ResourceNotFoundException](t, err, 404, "Resource does not exist")

	// ListTopics pages of 100, in name order.
	for i := range 104 {
		if _, err := c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String(fmt.Sprintf("t%03d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	pages := 0
	for p := snssdk.NewListTopicsPaginator(c, &snssdk.ListTopicsInput{}); p.HasMorePages() && pages < 10; pages++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 && (len(out.Topics) != 100 || out.NextToken == nil) {
			t.Errorf("first page: %d topics, NextToken %v", len(out.Topics), out.NextToken)
		}
		for _, tp := range out.Topics {
			all = append(all, aws.ToString(tp.TopicArn))
		}
	}
	if pages != 2 || len(all) != 105 || !strings.HasSuffix(all[0], ":ses-events") || !strings.HasSuffix(all[104], ":t103") {
		t.Errorf("%d pages, %d topics, first %q, last %q", pages, len(all), all[0], all[len(all)-1])
	}
	_, err = c.ListTopics(ctx, &snssdk.ListTopicsInput{NextToken: aws.String("!!")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: NextToken")
	other, err := s.other.ListTopics(ctx, &snssdk.ListTopicsInput{})
	if err != nil || len(other.Topics) != 0 || other.NextToken != nil {
		t.Errorf("another account sees %v, %v", other, err)
	}

	// Another account's topic.
	_, err = s.other.GetTopicAttributes(ctx, &snssdk.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	wantError[*types.AuthorizationErrorException](t, err, 403,
		"User: arn:aws:iam::210987654321:root is not authorized to perform: SNS:GetTopicAttributes on resource: "+arn)

	// Delete, idempotently.
	if _, err := c.DeleteTopic(ctx, &snssdk.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTopic(ctx, &snssdk.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatalf("second DeleteTopic: %v", err)
	}
	_, err = c.GetTopicAttributes(ctx, &snssdk.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	wantError[*types.NotFoundException](t, err, 404, "Topic does not exist")
	_, err = c.GetTopicAttributes(ctx, &snssdk.GetTopicAttributesInput{TopicArn: aws.String("not-an-arn")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: TopicArn")
}

func tagString(tags []types.Tag) string {
	var parts []string
	for _, t := range tags {
		parts = append(parts, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return strings.Join(parts, ",")
}

// TestSubscriptionLifecycle: an HTTP endpoint subscribes, receives a signed
// SubscriptionConfirmation, confirms by visiting its SubscribeURL, receives
// signed notifications (SignatureVersion 1, then 2), and leaves through its
// UnsubscribeURL — all verified as a consumer verifies them.
func TestSubscriptionLifecycle(t *testing.T) {
	s := newServer(t)
	sub := newSubscriber(t)
	c := s.owner
	ctx := context.Background()
	topic, err := c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("bounces")})
	if err != nil {
		t.Fatal(err)
	}
	topicARN := aws.ToString(topic.TopicArn)
	endpoint := sub.srv.URL + "/sns"

	out, err := c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(endpoint)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SubscriptionArn) != "pending confirmation" {
		t.Errorf("Subscribe answered %q", aws.ToString(out.SubscriptionArn))
	}
	got := sub.waitFor(5*time.Second, "SubscriptionConfirmation", func(g []delivery) bool {
		return len(ofType(g, sns.TypeSubscriptionConfirmation)) == 1
	})
	conf := ofType(got, sns.TypeSubscriptionConfirmation)[0]
	if ct := conf.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if conf.Header.Get("x-amz-sns-topic-arn") != topicARN || conf.Header.Get("x-amz-sns-message-id") != conf.str("MessageId") ||
		conf.Header.Get("User-Agent") != "Amazon Simple Notification Service Agent" {
		t.Errorf("confirmation headers %v", conf.Header)
	}
	if conf.str("Message") != "You have chosen to subscribe to the topic "+topicARN+".\nTo confirm the subscription, visit the SubscribeURL included in this message." ||
		!strings.HasPrefix(conf.str("SubscribeURL"), s.URL+"/?Action=ConfirmSubscription&TopicArn=") ||
		!strings.HasPrefix(conf.str("SigningCertURL"), s.URL+"/sns/SimpleNotificationService-") || conf.str("SignatureVersion") != "1" {
		t.Errorf("confirmation %s", conf.Body)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", conf.str("Timestamp")); err != nil {
		t.Errorf("Timestamp %q: %v", conf.str("Timestamp"), err)
	}

	// The subscriber visited SubscribeURL: confirmed.
	var subARN string
	deadline := time.Now().Add(5 * time.Second)
	for subARN == "" {
		list, err := c.ListSubscriptionsByTopic(ctx, &snssdk.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Subscriptions) != 1 {
			t.Fatalf("subscriptions %+v", list.Subscriptions)
		}
		ls := list.Subscriptions[0]
		if a := aws.ToString(ls.SubscriptionArn); a != "PendingConfirmation" {
			subARN = a
		}
		if aws.ToString(ls.Endpoint) != endpoint || aws.ToString(ls.Protocol) != "http" || aws.ToString(ls.Owner) != "123456789012" || aws.ToString(ls.TopicArn) != topicARN {
			t.Errorf("subscription %+v", ls)
		}
		if time.Now().After(deadline) {
			t.Fatal("not confirmed through SubscribeURL")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(subARN, topicARN+":") {
		t.Errorf("SubscriptionArn %q", subARN)
	}
	sa, err := c.GetSubscriptionAttributes(ctx, &snssdk.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN)})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"SubscriptionArn": subARN, "TopicArn": topicARN, "Protocol": "http", "Endpoint": endpoint,
		"PendingConfirmation": "false", "ConfirmationWasAuthenticated": "false", "RawMessageDelivery": "false", "Owner": "123456789012"} {
		if sa.Attributes[k] != v {
			t.Errorf("subscription attribute %s = %q, want %q", k, sa.Attributes[k], v)
		}
	}
	// Subscribing again returns the confirmed subscription.
	again, err := c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(endpoint)})
	if err != nil || aws.ToString(again.SubscriptionArn) != subARN {
		t.Errorf("Subscribe again: %v, %v", again, err)
	}

	// A notification, with subject and attributes, SignatureVersion 1.
	event := `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent"},"mail":{"messageId":"0100"}}`
	pub, err := c.Publish(ctx, &snssdk.PublishInput{
		TopicArn: topic.TopicArn, Subject: aws.String("Amazon SES Email Event Notification"), Message: aws.String(event),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"source": {DataType: aws.String("String"), StringValue: aws.String("ses")},
			"blob":   {DataType: aws.String("Binary"), BinaryValue: []byte("hi")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got = sub.waitFor(5*time.Second, "notification", func(g []delivery) bool { return len(ofType(g, sns.TypeNotification)) == 1 })
	n := ofType(got, sns.TypeNotification)[0]
	if n.str("MessageId") != aws.ToString(pub.MessageId) || n.str("Message") != event || n.str("Subject") != "Amazon SES Email Event Notification" ||
		n.str("TopicArn") != topicARN || n.str("SignatureVersion") != "1" {
		t.Errorf("notification %s", n.Body)
	}
	if n.Header.Get("x-amz-sns-subscription-arn") != subARN {
		t.Errorf("x-amz-sns-subscription-arn %q", n.Header.Get("x-amz-sns-subscription-arn"))
	}
	attrs, _ := n.Env["MessageAttributes"].(map[string]any)
	if fmt.Sprint(attrs["source"]) != "map[Type:String Value:ses]" || fmt.Sprint(attrs["blob"]) != "map[Type:Binary Value:aGk=]" {
		t.Errorf("MessageAttributes %v", n.Env["MessageAttributes"])
	}
	var keys []string
	for k := range n.Env {
		keys = append(keys, k)
	}
	if len(keys) != 11 {
		t.Errorf("notification members %v", keys)
	}

	// SignatureVersion 2, and no subject.
	if _, err := c.SetTopicAttributes(ctx, &snssdk.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("second")}); err != nil {
		t.Fatal(err)
	}
	got = sub.waitFor(5*time.Second, "second notification", func(g []delivery) bool { return len(ofType(g, sns.TypeNotification)) == 2 })
	n2 := ofType(got, sns.TypeNotification)[1]
	if n2.str("SignatureVersion") != "2" || n2.str("Message") != "second" {
		t.Errorf("second notification %s", n2.Body)
	}
	if _, ok := n2.Env["Subject"]; ok {
		t.Errorf("a notification without subject has Subject: %s", n2.Body)
	}

	// Leave through the UnsubscribeURL (unsigned GET), as a consumer may.
	resp, err := http.Get(n2.str("UnsubscribeURL"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<UnsubscribeResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">") {
		t.Errorf("UnsubscribeURL: %s %s", resp.Status, body)
	}
	sub.waitFor(5*time.Second, "UnsubscribeConfirmation", func(g []delivery) bool { return len(ofType(g, sns.TypeUnsubscribeConfirmation)) == 1 })
	list, err := c.ListSubscriptions(ctx, &snssdk.ListSubscriptionsInput{})
	if err != nil || len(list.Subscriptions) != 0 {
		t.Errorf("subscriptions after unsubscribe: %+v, %v", list, err)
	}
	if _, err := c.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("after")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if k := len(ofType(sub.deliveries(), sns.TypeNotification)); k != 2 {
		t.Errorf("%d notifications after unsubscribing, want still 2", k)
	}
	_, err = c.Unsubscribe(ctx, &snssdk.UnsubscribeInput{SubscriptionArn: aws.String(subARN)})
	wantError[*types.NotFoundException](t, err, 404, "Subscription does not exist")
}

// TestConfirmWithSDK: a subscription confirmed by a signed
// ConfirmSubscription (ReturnSubscriptionArn shows its ARN while pending),
// with AuthenticateOnUnsubscribe, refuses the unsigned UnsubscribeURL.
func TestConfirmWithSDK(t *testing.T) {
	s := newServer(t)
	sub := newSubscriber(t)
	sub.autoConfirm = false
	c := s.owner
	ctx := context.Background()
	topic, err := c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("guarded")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sub.srv.URL),
		ReturnSubscriptionArn: true, Attributes: map[string]string{"RawMessageDelivery": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	subARN := aws.ToString(out.SubscriptionArn)
	sa, err := c.GetSubscriptionAttributes(ctx, &snssdk.GetSubscriptionAttributesInput{SubscriptionArn: out.SubscriptionArn})
	if err != nil || sa.Attributes["PendingConfirmation"] != "true" || sa.Attributes["RawMessageDelivery"] != "true" {
		t.Fatalf("pending subscription: %v, %v", sa, err)
	}
	got := sub.waitFor(5*time.Second, "confirmation", func(g []delivery) bool { return len(g) == 1 })
	token := got[0].str("Token")

	_, err = c.ConfirmSubscription(ctx, &snssdk.ConfirmSubscriptionInput{TopicArn: topic.TopicArn, Token: aws.String("0000")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: Token")
	conf, err := c.ConfirmSubscription(ctx, &snssdk.ConfirmSubscriptionInput{TopicArn: topic.TopicArn, Token: aws.String(token), AuthenticateOnUnsubscribe: aws.String("true")})
	if err != nil || aws.ToString(conf.SubscriptionArn) != subARN {
		t.Fatalf("ConfirmSubscription: %v, %v", conf, err)
	}
	sa, _ = c.GetSubscriptionAttributes(ctx, &snssdk.GetSubscriptionAttributesInput{SubscriptionArn: out.SubscriptionArn})
	if sa.Attributes["ConfirmationWasAuthenticated"] != "true" || sa.Attributes["PendingConfirmation"] != "false" {
		t.Errorf("confirmed attributes %v", sa.Attributes)
	}

	// Raw delivery: the message alone.
	if _, err := c.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"eventType":"Send"}`)}); err != nil {
		t.Fatal(err)
	}
	got = sub.waitFor(5*time.Second, "raw notification", func(g []delivery) bool { return len(g) == 2 })
	if string(got[1].Body) != `{"eventType":"Send"}` || got[1].Header.Get("x-amz-sns-rawdelivery") != "true" {
		t.Errorf("raw delivery %q %v", got[1].Body, got[1].Header)
	}

	resp, err := http.Get(s.URL + "/?Action=Unsubscribe&SubscriptionArn=" + subARN)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AuthorizationError</Code>") {
		t.Errorf("unsigned unsubscribe: %s %s", resp.Status, body)
	}
	_, err = s.other.Unsubscribe(ctx, &snssdk.UnsubscribeInput{SubscriptionArn: aws.String(subARN)})
	wantError[*types.AuthorizationErrorException](t, err, 403, "")
	if _, err := c.Unsubscribe(ctx, &snssdk.UnsubscribeInput{SubscriptionArn: aws.String(subARN)}); err != nil {
		t.Fatalf("signed Unsubscribe: %v", err)
	}
}

// TestFailingSubscriberLosesNothing: a subscriber answering 500 for a while
// receives every message once it recovers.
func TestFailingSubscriberLosesNothing(t *testing.T) {
	s := newServer(t)
	sub := newSubscriber(t)
	c := s.owner
	ctx := context.Background()
	topic, err := c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("flaky")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sub.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(5*time.Second, "confirmation", func(g []delivery) bool { return len(g) == 1 })
	deadline := time.Now().Add(5 * time.Second)
	for {
		a, err := c.GetTopicAttributes(ctx, &snssdk.GetTopicAttributesInput{TopicArn: topic.TopicArn})
		if err != nil {
			t.Fatal(err)
		}
		if a.Attributes["SubscriptionsConfirmed"] == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not confirmed: %v", a.Attributes)
		}
		time.Sleep(10 * time.Millisecond)
	}

	var down atomic.Bool
	down.Store(true)
	sub.mu.Lock()
	sub.fail = func(delivery) int {
		if down.Load() {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	sub.mu.Unlock()
	ids := map[string]bool{}
	for i := range 10 {
		out, err := c.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(fmt.Sprintf("event %d", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids[aws.ToString(out.MessageId)] = true
	}
	time.Sleep(300 * time.Millisecond)
	failures := len(ofType(sub.deliveries(), sns.TypeNotification))
	if failures < 2*len(ids) {
		t.Errorf("only %d attempts while the subscriber was down", failures)
	}
	down.Store(false)
	// Count successes after recovery: each message exactly once.
	sub.waitFor(15*time.Second, "every message after recovery", func(g []delivery) bool {
		n := 0
		for _, d := range ofType(g, sns.TypeNotification)[failures:] {
			if ids[d.str("MessageId")] {
				n++
			}
		}
		return n >= len(ids)
	})
	time.Sleep(200 * time.Millisecond)
	seen := map[string]int{}
	for _, d := range ofType(sub.deliveries(), sns.TypeNotification)[failures:] {
		seen[d.str("MessageId")]++
	}
	for id := range ids {
		if seen[id] != 1 {
			t.Errorf("message %s received %d times after recovery, want 1", id, seen[id])
		}
	}
}

// TestRequestErrors: SNS's error codes for bad requests.
func TestRequestErrors(t *testing.T) {
	s := newServer(t)
	c := s.owner
	ctx := context.Background()
	topic, err := c.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("errors")})
	if err != nil {
		t.Fatal(err)
	}
	missing := aws.String(aws.ToString(topic.TopicArn) + "-missing")

	_, err = c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("carrier-pigeon"), Endpoint: aws.String("x")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon")
	_, err = c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("https"), Endpoint: aws.String("http://127.0.0.1/")})
	wantError[*types.InvalidParameterException](t, err, 400, "")
	_, err = c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("a@example.com")})
	wantError[*types.InvalidParameterException](t, err, 400, "")
	_, err = c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String("http://127.0.0.1/"),
		Attributes: map[string]string{"FilterPolicy": "{}"}})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: Attributes Reason: FilterPolicy is not supported by Sesame")
	_, err = c.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: missing, Protocol: aws.String("http"), Endpoint: aws.String("http://127.0.0.1/")})
	wantError[*types.NotFoundException](t, err, 404, "Topic does not exist")
	_, err = c.Publish(ctx, &snssdk.PublishInput{TopicArn: missing, Message: aws.String("m")})
	wantError[*types.NotFoundException](t, err, 404, "Topic does not exist")
	_, err = c.Publish(ctx, &snssdk.PublishInput{Message: aws.String("m")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	if _, err := c.Publish(ctx, &snssdk.PublishInput{TargetArn: topic.TopicArn, Message: aws.String("m")}); err != nil {
		t.Errorf("Publish by TargetArn: %v", err)
	}
	_, err = c.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: Empty message")
	_, err = c.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("m"), PhoneNumber: aws.String("+15555550100")})
	wantError[*types.InvalidParameterException](t, err, 400, "")
	_, err = c.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("m"),
		MessageAttributes: map[string]types.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("many")}}})
	wantError[*types.InvalidParameterValueException](t, err, 400, "Could not cast message attribute 'n' value to number.")
	_, err = s.other.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("m")})
	wantError[*types.AuthorizationErrorException](t, err, 403, "")
	_, err = c.ListSubscriptionsByTopic(ctx, &snssdk.ListSubscriptionsByTopicInput{TopicArn: missing})
	wantError[*types.NotFoundException](t, err, 404, "Topic does not exist")
	_, err = c.GetSubscriptionAttributes(ctx, &snssdk.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(aws.ToString(topic.TopicArn) + ":3f1b8ab5-2a5b-4a1e-9e55-b1c1bd4d0c43")})
	wantError[*types.NotFoundException](t, err, 404, "Subscription does not exist")
	_, err = c.SetSubscriptionAttributes(ctx, &snssdk.SetSubscriptionAttributesInput{SubscriptionArn: aws.String("nope"), AttributeName: aws.String("RawMessageDelivery")})
	wantError[*types.InvalidParameterException](t, err, 400, "Invalid parameter: SubscriptionArn")
	_, err = c.ConfirmSubscription(ctx, &snssdk.ConfirmSubscriptionInput{TopicArn: missing, Token: aws.String("t")})
	wantError[*types.NotFoundException](t, err, 404, "Topic does not exist")
}
