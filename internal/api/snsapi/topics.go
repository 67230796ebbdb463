package snsapi

import (
	"context"
	"maps"
	"slices"
)

// Topic operations: CreateTopic, DeleteTopic, ListTopics,
// Get/SetTopicAttributes, and tagging.

func (h *Handler) createTopic(ctx context.Context, account string, in *CreateTopicInput) (*CreateTopicOutput, error) {
	if in.DataProtectionPolicy != "" {
		return nil, invalidParameter("DataProtectionPolicy Reason: data protection policies are not supported by Sesame")
	}
	arn, err := h.svc.CreateTopic(ctx, account, in.Name, in.Attributes, tagMap(in.Tags))
	if err != nil {
		return nil, err
	}
	return &CreateTopicOutput{TopicArn: arn}, nil
}

func (h *Handler) deleteTopic(ctx context.Context, account string, in *DeleteTopicInput) (*struct{}, error) {
	return nil, h.svc.DeleteTopic(ctx, account, in.TopicArn)
}

func (h *Handler) listTopics(ctx context.Context, account string, in *ListTopicsInput) (*ListTopicsOutput, error) {
	after, err := decodeToken(tokenTopics, in.NextToken)
	if err != nil {
		return nil, err
	}
	arns, next, err := h.svc.ListTopics(ctx, account, after)
	if err != nil {
		return nil, err
	}
	out := &ListTopicsOutput{Topics: make([]Topic, len(arns)), NextToken: encodeToken(tokenTopics, next)}
	for i, a := range arns {
		out.Topics[i] = Topic{TopicArn: a}
	}
	return out, nil
}

func (h *Handler) getTopicAttributes(ctx context.Context, account string, in *GetTopicAttributesInput) (*GetTopicAttributesOutput, error) {
	attrs, err := h.svc.TopicAttributes(ctx, account, in.TopicArn)
	if err != nil {
		return nil, err
	}
	return &GetTopicAttributesOutput{Attributes: attrs}, nil
}

func (h *Handler) setTopicAttributes(ctx context.Context, account string, in *SetTopicAttributesInput) (*struct{}, error) {
	return nil, h.svc.SetTopicAttribute(ctx, account, in.TopicArn, in.AttributeName, in.AttributeValue)
}

func (h *Handler) tagResource(ctx context.Context, account string, in *TagResourceInput) (*TagResourceOutput, error) {
	if err := h.svc.TagTopic(ctx, account, in.ResourceArn, tagMap(in.Tags)); err != nil {
		return nil, err
	}
	return &TagResourceOutput{}, nil
}

func (h *Handler) untagResource(ctx context.Context, account string, in *UntagResourceInput) (*UntagResourceOutput, error) {
	if err := h.svc.UntagTopic(ctx, account, in.ResourceArn, in.TagKeys); err != nil {
		return nil, err
	}
	return &UntagResourceOutput{}, nil
}

func (h *Handler) listTagsForResource(ctx context.Context, account string, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	tags, err := h.svc.TopicTags(ctx, account, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	out := &ListTagsForResourceOutput{Tags: []Tag{}}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out.Tags = append(out.Tags, Tag{Key: k, Value: tags[k]})
	}
	return out, nil
}

// tagMap turns wire tags into the domain's map; a repeated key keeps its
// last value.
func tagMap(tags []Tag) map[string]string {
	if tags == nil {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}
