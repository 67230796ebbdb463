// Package services names the domain services the SES protocol adapters
// call. Both API versions (and any future adapter) take the same set, so the
// app builds it once.
package services

import (
	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/sending"
	"github.com/sesamehq/sesame/internal/suppression"
	"github.com/sesamehq/sesame/internal/templates"
)

// Services are the domain services behind the SES APIs.
type Services struct {
	Region      string
	Accounts    *account.Service
	Identities  *identity.Service
	Sending     *sending.Service
	Queue       *queue.Queue
	Suppression *suppression.Service
	ConfigSets  *configset.Service
	Templates   *templates.Service
}
