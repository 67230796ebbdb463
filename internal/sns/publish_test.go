package sns_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/sns"
)

// TestPublishRules: SNS's checks on a Publish, each with its kind.
func TestPublishRules(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	topic, err := e.svc.CreateTopic(ctx, account, "rules", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	attr := func(typ, s string) map[string]sns.Attribute {
		return map[string]sns.Attribute{"a": {DataType: typ, StringValue: s}}
	}
	tests := []struct {
		name string
		in   sns.PublishInput
		kind string // "invalid", "attribute", "notfound", "authz", or "" for success
		text string
	}{
		{"plain", sns.PublishInput{Message: "m"}, "", ""},
		{"empty", sns.PublishInput{Message: ""}, "invalid", "Invalid parameter: Empty message"},
		{"too long", sns.PublishInput{Message: strings.Repeat("x", sns.MaxMessageBytes+1)}, "invalid", "Invalid parameter: Message too long"},
		{"longest", sns.PublishInput{Message: strings.Repeat("x", sns.MaxMessageBytes)}, "", ""},
		{"subject newline", sns.PublishInput{Message: "m", Subject: "a\nb"}, "invalid", "Invalid parameter: Subject"},
		{"subject long", sns.PublishInput{Message: "m", Subject: strings.Repeat("s", 101)}, "invalid", "Invalid parameter: Subject"},
		{"json no default", sns.PublishInput{Message: `{"http":"x"}`, MessageStructure: "json"}, "invalid", "Invalid parameter: Message Structure - No default entry in JSON message body"},
		{"json bad", sns.PublishInput{Message: `{`, MessageStructure: "json"}, "invalid", "Invalid parameter: Message Structure - JSON message body failed to parse"},
		{"structure xml", sns.PublishInput{Message: "m", MessageStructure: "xml"}, "invalid", "Invalid parameter: MessageStructure"},
		{"attribute type", sns.PublishInput{Message: "m", MessageAttributes: attr("Integer", "1")}, "attribute", "The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."},
		{"attribute empty", sns.PublishInput{Message: "m", MessageAttributes: attr("String", "")}, "attribute", "The message attribute 'a' must contain non-empty message attribute value for message attribute type 'String'."},
		{"attribute number", sns.PublishInput{Message: "m", MessageAttributes: attr("Number", "x")}, "attribute", "Could not cast message attribute 'a' value to number."},
		{"custom type", sns.PublishInput{Message: "m", MessageAttributes: attr("String.custom", "v")}, "", ""},
		{"string array", sns.PublishInput{Message: "m", MessageAttributes: attr("String.Array", `["a",1]`)}, "", ""},
		{"attribute name", sns.PublishInput{Message: "m", MessageAttributes: map[string]sns.Attribute{"AWS.x": {DataType: "String", StringValue: "v"}}}, "attribute", ""},
		{"other account", sns.PublishInput{TopicARN: strings.Replace(topic, account, "999999999999", 1), Message: "m"}, "authz", "User: arn:aws:iam::123456789012:root is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:999999999999:rules"},
		{"no topic", sns.PublishInput{TopicARN: topic + "x", Message: "m"}, "notfound", "Topic does not exist"},
		{"bad arn", sns.PublishInput{TopicARN: "arn:aws:sqs:us-east-1:123456789012:q", Message: "m"}, "invalid", "Invalid parameter: TopicArn"},
		{"other region", sns.PublishInput{TopicARN: strings.Replace(topic, region, "eu-west-1", 1), Message: "m"}, "invalid", "Invalid parameter: TopicArn"},
	}
	for _, tt := range tests {
		in := tt.in
		if in.TopicARN == "" {
			in.TopicARN = topic
		}
		id, err := e.svc.PublishMessage(ctx, account, in)
		var authz *sns.AuthorizationError
		var attrErr *sns.AttributeError
		var ok bool
		switch tt.kind {
		case "":
			ok = err == nil && id != ""
		case "invalid":
			ok = fault.Is(err, fault.InvalidParameter)
		case "notfound":
			ok = fault.Is(err, fault.NotFound)
		case "authz":
			ok = errors.As(err, &authz)
		case "attribute":
			ok = errors.As(err, &attrErr)
		}
		if !ok {
			t.Errorf("%s: id %q, err %v; want %s", tt.name, id, err, tt.kind)
			continue
		}
		if tt.text != "" && err.Error() != tt.text {
			t.Errorf("%s: %q, want %q", tt.name, err.Error(), tt.text)
		}
	}
}
