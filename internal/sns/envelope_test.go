package sns

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestEnvelopeGolden: the envelope JSON and the canonical string signed
// for each message type, byte for byte.
func TestEnvelopeGolden(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:events"
	cases := map[string]Envelope{
		"notification": {
			Type: TypeNotification, MessageID: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", TopicARN: topic,
			Subject: "Amazon SES Email Event Notification", Message: `{"eventType":"Bounce","mail":{"source":"a<b>@example.com"}}`,
			Timestamp: "2024-01-02T03:04:05.678Z", SignatureVersion: "1", Signature: "c2lnbmF0dXJl",
			SigningCertURL:    "https://sesame.example/sns/SimpleNotificationService-0123.pem",
			UnsubscribeURL:    "https://sesame.example/?Action=Unsubscribe&SubscriptionArn=" + topic + "%3Ab3f1",
			MessageAttributes: map[string]EnvelopeAttribute{"kind": {Type: "String", Value: "bounce"}},
		},
		"notification_nosubject": {
			Type: TypeNotification, MessageID: "d9b3", TopicARN: topic, Message: "hello\nworld",
			Timestamp: "2024-01-02T03:04:05.678Z", SignatureVersion: "2", Signature: "c2ln", SigningCertURL: "https://sesame.example/sns/x.pem",
			UnsubscribeURL: "https://sesame.example/?Action=Unsubscribe",
		},
		"confirmation": {
			Type: TypeSubscriptionConfirmation, MessageID: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", Token: "2336412f37fb687f5d51e6e2425f004a",
			TopicARN: topic, Message: "You have chosen to subscribe to the topic " + topic + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
			SubscribeURL: "https://sesame.example/?Action=ConfirmSubscription&Token=2336412f37fb687f5d51e6e2425f004a&TopicArn=" + topic,
			Timestamp:    "2024-01-02T03:04:05.678Z", SignatureVersion: "1", Signature: "c2ln", SigningCertURL: "https://sesame.example/sns/x.pem",
		},
	}
	for name, e := range cases {
		check(t, name+".json", []byte(mustJSON(e)+"\n"))
		check(t, name+".canonical", e.canonical())
	}
}

func check(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s:\n got %q\nwant %q", file, got, want)
	}
}
