// Package sesv2 is the SES v2 (API version 2019-09-27, REST-JSON) adapter:
// each implemented operation of the generated v2wire.Service turns its
// decoded input into a call on the domain services (account, identity,
// sending) and the result into the generated output shape. It holds no SES
// rule of its own — those live in the domain — and maps every domain error
// through the one table in errors.go (SES-BEHAVIOR §1.3, Appendix C.2).
// Operations not written here answer through the embedded
// v2wire.Unimplemented.
package sesv2

import (
	"context"
	"errors"
	"github.com/sesamehq/sesame/internal/api/services"

	"github.com/sesamehq/sesame/internal/api/caller"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

// Deps are the domain services the adapter calls, the same set as SES v1's.
type Deps = services.Services

// Service implements v2wire.Service over the domain.
type Service struct {
	v2wire.Unimplemented
	d Deps
}

var _ v2wire.Service = (*Service)(nil)

// New returns the SES v2 adapter.
func New(d Deps) *Service { return &Service{d: d} }

// errNoCaller means a request reached the adapter without the caller the
// HTTP front puts in its context: a wiring bug, answered as a 500.
var errNoCaller = errors.New("sesv2: request context has no authenticated caller")

// accountOf returns the account the request's signature proved.
func accountOf(ctx context.Context) (string, error) {
	c, ok := caller.From(ctx)
	if !ok || c.AccountID == "" {
		return "", errNoCaller
	}
	return c.AccountID, nil
}
