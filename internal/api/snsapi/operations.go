package snsapi

import (
	"context"
	"fmt"

	"github.com/sesamehq/sesame/internal/api/awsproto"
)

// operation is one row of the operation table: the model entry, a fresh
// input shape, and the handler.
type operation struct {
	op       awsproto.Operation
	newInput func() any
	call     func(ctx context.Context, h *Handler, account string, in any) (any, error)
	// tagging ops answer a missing resource with ResourceNotFound, not
	// NotFound.
	tagging bool
}

// bind makes a table row for a handler taking *I and returning *O. output
// is false for operations whose model has no output shape (their response
// holds only ResponseMetadata).
func bind[I, O any](name string, output bool, fn func(*Handler, context.Context, string, *I) (*O, error)) operation {
	op := awsproto.Operation{Name: name, Method: "POST", RequestURI: "/", Input: name + "Input"}
	if output {
		op.Output, op.ResultWrapper = name+"Response", name+"Result"
	}
	return operation{
		op:       op,
		newInput: func() any { return new(I) },
		call: func(ctx context.Context, h *Handler, account string, in any) (any, error) {
			typed, ok := in.(*I)
			if !ok {
				return nil, fmt.Errorf("snsapi: %s got a %T", name, in)
			}
			return fn(h, ctx, account, typed)
		},
	}
}

// operations is the SNS subset Sesame serves; any other Action is
// InvalidAction.
func operations() map[string]operation {
	ops := []operation{
		bind("CreateTopic", true, (*Handler).createTopic),
		bind("DeleteTopic", false, (*Handler).deleteTopic),
		bind("ListTopics", true, (*Handler).listTopics),
		bind("GetTopicAttributes", true, (*Handler).getTopicAttributes),
		bind("SetTopicAttributes", false, (*Handler).setTopicAttributes),
		bind("Subscribe", true, (*Handler).subscribe),
		bind("ConfirmSubscription", true, (*Handler).confirmSubscription),
		bind("Unsubscribe", false, (*Handler).unsubscribe),
		bind("ListSubscriptions", true, (*Handler).listSubscriptions),
		bind("ListSubscriptionsByTopic", true, (*Handler).listSubscriptionsByTopic),
		bind("GetSubscriptionAttributes", true, (*Handler).getSubscriptionAttributes),
		bind("SetSubscriptionAttributes", false, (*Handler).setSubscriptionAttributes),
		bind("Publish", true, (*Handler).publish),
		tagging(bind("TagResource", true, (*Handler).tagResource)),
		tagging(bind("UntagResource", true, (*Handler).untagResource)),
		tagging(bind("ListTagsForResource", true, (*Handler).listTagsForResource)),
	}
	m := make(map[string]operation, len(ops))
	for _, o := range ops {
		m[o.op.Name] = o
	}
	return m
}

func tagging(o operation) operation {
	o.tagging = true
	return o
}
