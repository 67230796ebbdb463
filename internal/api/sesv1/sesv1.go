// Package sesv1 is the SES v1 (API version 2010-12-01, AWS Query) adapter:
// each operation takes its generated input shape, calls the domain, and
// returns the generated output shape or a wire error mapped once, in
// errors.go. No sending or identity rule lives here.
package sesv1

import (
	"context"
	"errors"
	"github.com/sesamehq/sesame/internal/api/services"

	"github.com/sesamehq/sesame/internal/api/caller"
	"github.com/sesamehq/sesame/internal/api/v1wire"
)

// Deps are the domain services the adapter calls.
type Deps = services.Services

// Service implements v1wire.Service; operations not implemented yet answer
// with the generated Unimplemented error naming them.
type Service struct {
	v1wire.Unimplemented
	Deps
}

// New returns the adapter.
func New(d Deps) *Service { return &Service{Deps: d} }

var _ v1wire.Service = (*Service)(nil)

// errNoCaller guards against a request that skipped authentication.
var errNoCaller = errors.New("sesv1: request without an authenticated caller")

func accountOf(ctx context.Context) (string, error) {
	c, ok := caller.From(ctx)
	if !ok {
		return "", errNoCaller
	}
	return c.AccountID, nil
}
