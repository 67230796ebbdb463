package sns

import (
	"fmt"

	"github.com/sesamehq/sesame/internal/fault"
)

// The domain reports SNS's failures as fault kinds (InvalidParameter,
// NotFound) with SNS's texts, plus the two kinds below that fault does not
// have; the Query adapter maps each to its SNS error code once.

// AuthorizationError is SNS's AuthorizationError (403): the caller may not
// act on a resource of another account, or an unauthenticated Unsubscribe
// hit a subscription confirmed with AuthenticateOnUnsubscribe.
type AuthorizationError struct{ Message string }

func (e *AuthorizationError) Error() string { return e.Message }

// AttributeError is SNS's ParameterValueInvalid (400): a MessageAttributes
// entry breaks SNS's rules for names, types or values.
type AttributeError struct{ Message string }

func (e *AttributeError) Error() string { return e.Message }

// SNS's texts (as the service words them; "Invalid parameter: <what>").
func invalid(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, "Invalid parameter: "+format, args...)
}

func topicNotFound(arn string) error {
	return fault.Named(fault.NotFound, arn, "Topic does not exist")
}

func subscriptionNotFound(arn string) error {
	return fault.Named(fault.NotFound, arn, "Subscription does not exist")
}

func notAuthorized(account, action, resource string) error {
	return &AuthorizationError{Message: fmt.Sprintf(
		"User: arn:aws:iam::%s:root is not authorized to perform: SNS:%s on resource: %s", account, action, resource)}
}

func attributeInvalid(format string, args ...any) error {
	return &AttributeError{Message: fmt.Sprintf(format, args...)}
}
