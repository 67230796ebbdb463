// Package caller carries the authenticated caller of an API request — the
// account and access key the SigV4 signature proved — from the HTTP front to
// the protocol adapters.
package caller

import "context"

// Caller is who signed the request.
type Caller struct {
	AccountID   string
	AccessKeyID string
	UserName    string
	SourceIP    string
}

type key struct{}

// With returns ctx carrying c.
func With(ctx context.Context, c Caller) context.Context { return context.WithValue(ctx, key{}, c) }

// From returns the caller in ctx; ok is false for an unauthenticated context.
func From(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(key{}).(Caller)
	return c, ok
}
