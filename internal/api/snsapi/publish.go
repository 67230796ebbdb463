package snsapi

import (
	"context"

	"github.com/sesamehq/sesame/internal/sns"
)

// publish is SNS Publish to a topic. TargetArn may name the topic instead
// of TopicArn; SMS (PhoneNumber) and FIFO members are refused.
func (h *Handler) publish(ctx context.Context, account string, in *PublishInput) (*PublishOutput, error) {
	switch {
	case in.PhoneNumber != "":
		return nil, invalidParameter("PhoneNumber Reason: Sesame does not send SMS")
	case in.MessageGroupId != "":
		return nil, invalidParameter("MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type")
	case in.MessageDeduplicationId != "":
		return nil, invalidParameter("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	}
	topic := in.TopicArn
	switch {
	case topic == "" && in.TargetArn == "":
		return nil, invalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
	case topic == "":
		topic = in.TargetArn
	case in.TargetArn != "" && in.TargetArn != topic:
		return nil, invalidParameter("TopicArn Reason: Only one of TopicArn or TargetArn may be given")
	}
	msg := sns.PublishInput{TopicARN: topic, Subject: in.Subject, Message: in.Message, MessageStructure: in.MessageStructure}
	if len(in.MessageAttributes) > 0 {
		msg.MessageAttributes = make(map[string]sns.Attribute, len(in.MessageAttributes))
		for name, a := range in.MessageAttributes {
			msg.MessageAttributes[name] = sns.Attribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
		}
	}
	id, err := h.svc.PublishMessage(ctx, account, msg)
	if err != nil {
		return nil, err
	}
	return &PublishOutput{MessageId: id}, nil
}
