package snsapi

// The wire shapes of the SNS subset, written by hand in the `aws` tag
// format of the generated packages (awsproto.TagKey) because the spec pack
// has no SNS model. Each is checked against aws-sdk-go-v2/service/sns
// v1.47.9: member names against its awsquery serializers and XML
// deserializers, "req" against its validators. Query maps are
// Name.entry.N.key/value, except MessageAttributes, whose entries the SDKs
// send as Name/Value (see normalizeMessageAttributes).

// Tag is a topic tag (SNS Tag).
type Tag struct {
	Key   string `aws:"Key,req,min=1,max=128"`
	Value string `aws:"Value,max=256"` // required by the model, but "" is a valid value
}

// Topic is one ListTopics entry.
type Topic struct {
	TopicArn string `aws:"TopicArn"`
}

// Subscription is one ListSubscriptions(ByTopic) entry.
type Subscription struct {
	SubscriptionArn string `aws:"SubscriptionArn"`
	Owner           string `aws:"Owner"`
	Protocol        string `aws:"Protocol"`
	Endpoint        string `aws:"Endpoint"`
	TopicArn        string `aws:"TopicArn"`
}

// MessageAttributeValue is a Publish message attribute.
type MessageAttributeValue struct {
	DataType    string `aws:"DataType,req"`
	StringValue string `aws:"StringValue"`
	BinaryValue []byte `aws:"BinaryValue"`
}

// CreateTopicInput is the input of CreateTopic.
type CreateTopicInput struct {
	Name                 string            `aws:"Name,req"`
	Attributes           map[string]string `aws:"Attributes"`
	Tags                 []Tag             `aws:"Tags"`
	DataProtectionPolicy string            `aws:"DataProtectionPolicy"`
}

// CreateTopicOutput is the output of CreateTopic.
type CreateTopicOutput struct {
	TopicArn string `aws:"TopicArn"`
}

// DeleteTopicInput is the input of DeleteTopic (no output shape).
type DeleteTopicInput struct {
	TopicArn string `aws:"TopicArn,req"`
}

// ListTopicsInput is the input of ListTopics.
type ListTopicsInput struct {
	NextToken string `aws:"NextToken"`
}

// ListTopicsOutput is the output of ListTopics.
type ListTopicsOutput struct {
	Topics    []Topic `aws:"Topics"`
	NextToken string  `aws:"NextToken"`
}

// GetTopicAttributesInput is the input of GetTopicAttributes.
type GetTopicAttributesInput struct {
	TopicArn string `aws:"TopicArn,req"`
}

// GetTopicAttributesOutput is the output of GetTopicAttributes.
type GetTopicAttributesOutput struct {
	Attributes map[string]string `aws:"Attributes"`
}

// SetTopicAttributesInput is the input of SetTopicAttributes (no output shape).
type SetTopicAttributesInput struct {
	TopicArn       string `aws:"TopicArn,req"`
	AttributeName  string `aws:"AttributeName,req"`
	AttributeValue string `aws:"AttributeValue"`
}

// SubscribeInput is the input of Subscribe.
type SubscribeInput struct {
	TopicArn              string            `aws:"TopicArn,req"`
	Protocol              string            `aws:"Protocol,req"`
	Endpoint              string            `aws:"Endpoint"`
	Attributes            map[string]string `aws:"Attributes"`
	ReturnSubscriptionArn bool              `aws:"ReturnSubscriptionArn"`
}

// SubscribeOutput is the output of Subscribe.
type SubscribeOutput struct {
	SubscriptionArn string `aws:"SubscriptionArn"`
}

// ConfirmSubscriptionInput is the input of ConfirmSubscription.
type ConfirmSubscriptionInput struct {
	TopicArn                  string `aws:"TopicArn,req"`
	Token                     string `aws:"Token,req"`
	AuthenticateOnUnsubscribe string `aws:"AuthenticateOnUnsubscribe"`
}

// ConfirmSubscriptionOutput is the output of ConfirmSubscription.
type ConfirmSubscriptionOutput struct {
	SubscriptionArn string `aws:"SubscriptionArn"`
}

// UnsubscribeInput is the input of Unsubscribe (no output shape).
type UnsubscribeInput struct {
	SubscriptionArn string `aws:"SubscriptionArn,req"`
}

// ListSubscriptionsInput is the input of ListSubscriptions.
type ListSubscriptionsInput struct {
	NextToken string `aws:"NextToken"`
}

// ListSubscriptionsOutput is the output of ListSubscriptions and
// ListSubscriptionsByTopic.
type ListSubscriptionsOutput struct {
	Subscriptions []Subscription `aws:"Subscriptions"`
	NextToken     string         `aws:"NextToken"`
}

// ListSubscriptionsByTopicInput is the input of ListSubscriptionsByTopic.
type ListSubscriptionsByTopicInput struct {
	TopicArn  string `aws:"TopicArn,req"`
	NextToken string `aws:"NextToken"`
}

// PublishInput is the input of Publish (FIFO and SMS members are refused).
type PublishInput struct {
	TopicArn               string                           `aws:"TopicArn"`
	TargetArn              string                           `aws:"TargetArn"`
	PhoneNumber            string                           `aws:"PhoneNumber"`
	Message                string                           `aws:"Message"` // required; "" is SNS's "Invalid parameter: Empty message"
	Subject                string                           `aws:"Subject"`
	MessageStructure       string                           `aws:"MessageStructure"`
	MessageAttributes      map[string]MessageAttributeValue `aws:"MessageAttributes"`
	MessageDeduplicationId string                           `aws:"MessageDeduplicationId"`
	MessageGroupId         string                           `aws:"MessageGroupId"`
}

// PublishOutput is the output of Publish.
type PublishOutput struct {
	MessageId      string `aws:"MessageId"`
	SequenceNumber string `aws:"SequenceNumber"`
}

// GetSubscriptionAttributesInput is the input of GetSubscriptionAttributes.
type GetSubscriptionAttributesInput struct {
	SubscriptionArn string `aws:"SubscriptionArn,req"`
}

// GetSubscriptionAttributesOutput is the output of GetSubscriptionAttributes.
type GetSubscriptionAttributesOutput struct {
	Attributes map[string]string `aws:"Attributes"`
}

// SetSubscriptionAttributesInput is the input of SetSubscriptionAttributes
// (no output shape).
type SetSubscriptionAttributesInput struct {
	SubscriptionArn string `aws:"SubscriptionArn,req"`
	AttributeName   string `aws:"AttributeName,req"`
	AttributeValue  string `aws:"AttributeValue"`
}

// TagResourceInput is the input of TagResource.
type TagResourceInput struct {
	ResourceArn string `aws:"ResourceArn,req,min=1,max=1011"`
	Tags        []Tag  `aws:"Tags,req"`
}

// TagResourceOutput is the (empty) output of TagResource.
type TagResourceOutput struct{}

// UntagResourceInput is the input of UntagResource.
type UntagResourceInput struct {
	ResourceArn string   `aws:"ResourceArn,req,min=1,max=1011"`
	TagKeys     []string `aws:"TagKeys,req"`
}

// UntagResourceOutput is the (empty) output of UntagResource.
type UntagResourceOutput struct{}

// ListTagsForResourceInput is the input of ListTagsForResource.
type ListTagsForResourceInput struct {
	ResourceArn string `aws:"ResourceArn,req,min=1,max=1011"`
}

// ListTagsForResourceOutput is the output of ListTagsForResource.
type ListTagsForResourceOutput struct {
	Tags []Tag `aws:"Tags"`
}
