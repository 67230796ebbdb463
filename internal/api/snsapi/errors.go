package snsapi

import (
	"errors"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/sns"
)

// SNS's error codes and statuses (the SNS model's error shapes, as
// aws-sdk-go-v2/service/sns/types reads them back: the wire code is the
// shape name without "Exception", except InvalidParameterValueException,
// whose code is ParameterValueInvalid).
const (
	codeInvalidParameter      = "InvalidParameter"      // 400
	codeParameterValueInvalid = "ParameterValueInvalid" // 400
	codeNotFound              = "NotFound"              // 404
	codeResourceNotFound      = "ResourceNotFound"      // 404
	codeAuthorizationError    = "AuthorizationError"    // 403
	codeTagLimitExceeded      = "TagLimitExceeded"      // 400
	codeInternalError         = "InternalError"         // 500
)

// wireError maps a domain error to its SNS form, once for every operation;
// tagging operations name a missing topic ResourceNotFound. Errors that are
// not domain errors pass through (internal).
func wireError(err error, tagging bool) error {
	var (
		ae    *apierr.Error
		authz *sns.AuthorizationError
		attr  *sns.AttributeError
		f     *fault.Error
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &authz):
		return &apierr.Error{Status: 403, Code: codeAuthorizationError, Message: authz.Message, Sender: true}
	case errors.As(err, &attr):
		return &apierr.Error{Status: 400, Code: codeParameterValueInvalid, Message: attr.Message, Sender: true}
	case errors.As(err, &f):
		switch f.Kind {
		case fault.InvalidParameter:
			return &apierr.Error{Status: 400, Code: codeInvalidParameter, Message: f.Message, Sender: true}
		case fault.NotFound:
			if tagging {
				return &apierr.Error{Status: 404, Code: codeResourceNotFound, Message: "Resource does not exist", Sender: true}
			}
			return &apierr.Error{Status: 404, Code: codeNotFound, Message: f.Message, Sender: true}
		case fault.LimitExceeded:
			return &apierr.Error{Status: 400, Code: codeTagLimitExceeded, Message: f.Message, Sender: true}
		}
	}
	return err
}

func internalError() *apierr.Error {
	return &apierr.Error{Status: 500, Code: codeInternalError, Message: "Internal Error"}
}

// invalidParameter is an InvalidParameter the adapter itself decides.
func invalidParameter(message string) *apierr.Error {
	return &apierr.Error{Status: 400, Code: codeInvalidParameter, Message: "Invalid parameter: " + message, Sender: true}
}
