package snsapi

import (
	"context"
	"strings"

	"github.com/sesamehq/sesame/internal/sns"
)

// Subscription operations: Subscribe, ConfirmSubscription, Unsubscribe,
// ListSubscriptions(ByTopic), Get/SetSubscriptionAttributes.

func (h *Handler) subscribe(ctx context.Context, account string, in *SubscribeInput) (*SubscribeOutput, error) {
	sub, err := h.svc.Subscribe(ctx, account, in.TopicArn, in.Protocol, in.Endpoint, in.Attributes)
	if err != nil {
		return nil, err
	}
	arn := sub.ARN
	if sub.Pending && !in.ReturnSubscriptionArn {
		arn = sns.PendingSubscribeARN
	}
	return &SubscribeOutput{SubscriptionArn: arn}, nil
}

func (h *Handler) confirmSubscription(ctx context.Context, account string, in *ConfirmSubscriptionInput) (*ConfirmSubscriptionOutput, error) {
	arn, err := h.svc.ConfirmSubscription(ctx, account, in.TopicArn, in.Token, strings.EqualFold(in.AuthenticateOnUnsubscribe, "true"))
	if err != nil {
		return nil, err
	}
	return &ConfirmSubscriptionOutput{SubscriptionArn: arn}, nil
}

func (h *Handler) unsubscribe(ctx context.Context, account string, in *UnsubscribeInput) (*struct{}, error) {
	return nil, h.svc.Unsubscribe(ctx, account, in.SubscriptionArn)
}

func (h *Handler) listSubscriptions(ctx context.Context, account string, in *ListSubscriptionsInput) (*ListSubscriptionsOutput, error) {
	return h.subscriptions(ctx, account, "", in.NextToken)
}

func (h *Handler) listSubscriptionsByTopic(ctx context.Context, account string, in *ListSubscriptionsByTopicInput) (*ListSubscriptionsOutput, error) {
	return h.subscriptions(ctx, account, in.TopicArn, in.NextToken)
}

func (h *Handler) subscriptions(ctx context.Context, account, topicARN, token string) (*ListSubscriptionsOutput, error) {
	after, err := decodeToken(tokenSubscriptions, token)
	if err != nil {
		return nil, err
	}
	subs, next, err := h.svc.ListSubscriptions(ctx, account, topicARN, after)
	if err != nil {
		return nil, err
	}
	out := &ListSubscriptionsOutput{Subscriptions: make([]Subscription, len(subs)), NextToken: encodeToken(tokenSubscriptions, next)}
	for i, s := range subs {
		arn := s.ARN
		if s.Pending {
			arn = sns.PendingListARN
		}
		out.Subscriptions[i] = Subscription{SubscriptionArn: arn, Owner: s.Owner, Protocol: s.Protocol, Endpoint: s.Endpoint, TopicArn: s.TopicARN}
	}
	return out, nil
}

func (h *Handler) getSubscriptionAttributes(ctx context.Context, account string, in *GetSubscriptionAttributesInput) (*GetSubscriptionAttributesOutput, error) {
	attrs, err := h.svc.SubscriptionAttributes(ctx, account, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	return &GetSubscriptionAttributesOutput{Attributes: attrs}, nil
}

func (h *Handler) setSubscriptionAttributes(ctx context.Context, account string, in *SetSubscriptionAttributesInput) (*struct{}, error) {
	return nil, h.svc.SetSubscriptionAttribute(ctx, account, in.SubscriptionArn, in.AttributeName, in.AttributeValue)
}
