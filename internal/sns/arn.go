package sns

import (
	"strings"

	"github.com/google/uuid"
)

// ARNs (SNS): a topic is arn:aws:sns:<region>:<account>:<name>; a
// subscription is <topic arn>:<uuid>. They are built and taken apart only
// here.

const arnPrefix = "arn:aws:sns:"

// Topic names: 1 to 256 ASCII letters, digits, hyphens and underscores
// (CreateTopic "Name"). FIFO names (".fifo") are refused: Sesame has
// standard topics only.
const maxTopicName = 256

// TopicARN returns the ARN of topic name in account and region.
func TopicARN(region, account, name string) string {
	return arnPrefix + region + ":" + account + ":" + name
}

// topicRef is a parsed topic ARN.
type topicRef struct{ region, account, name string }

func (t topicRef) arn() string { return TopicARN(t.region, t.account, t.name) }

// parseTopicARN splits a topic ARN; ok is false for anything else.
func parseTopicARN(s string) (topicRef, bool) {
	rest, ok := strings.CutPrefix(s, arnPrefix)
	if !ok {
		return topicRef{}, false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 || parts[0] == "" || !validAccount(parts[1]) || !validTopicName(parts[2]) {
		return topicRef{}, false
	}
	return topicRef{region: parts[0], account: parts[1], name: parts[2]}, true
}

// subscriptionRef is a parsed subscription ARN.
type subscriptionRef struct {
	topic topicRef
	id    string
}

func (s subscriptionRef) arn() string { return s.topic.arn() + ":" + s.id }

func newSubscriptionARN(t topicRef) string { return t.arn() + ":" + uuid.NewString() }

// parseSubscriptionARN splits a subscription ARN.
func parseSubscriptionARN(s string) (subscriptionRef, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return subscriptionRef{}, false
	}
	t, ok := parseTopicARN(s[:i])
	if !ok {
		return subscriptionRef{}, false
	}
	if _, err := uuid.Parse(s[i+1:]); err != nil {
		return subscriptionRef{}, false
	}
	return subscriptionRef{topic: t, id: s[i+1:]}, true
}

func validTopicName(name string) bool {
	if name == "" || len(name) > maxTopicName {
		return false
	}
	for i := range len(name) {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validAccount(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
