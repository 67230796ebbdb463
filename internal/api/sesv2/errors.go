package sesv2

import (
	"errors"

	"github.com/sesamehq/sesame/internal/api/v2wire"
	"github.com/sesamehq/sesame/internal/fault"
)

// internalMessage is what a caller sees of a domain failure of kind Internal:
// SES's generic text, never the domain's detail.
const internalMessage = "The request processing has failed because of an unknown error, exception or failure."

// wireError is the adapter's one error table: it maps a domain error's kind
// to the SES v2 error shape (sent as x-amzn-ErrorType, with the model's HTTP
// status; SES-BEHAVIOR §1.3 and Appendix C.2), keeping the domain's SES
// wording as the message. v2 has fewer shapes than v1, so several kinds share
// one: everything v1 calls a missing resource is NotFoundException, and a
// custom verification template whose From is unverified — v1's
// FromEmailAddressNotVerified — is BadRequestException, the only fitting
// shape the model lists for those operations.
//
// An error that is not a domain error (a store failure, a bug) is returned
// unchanged: the HTTP front logs it and answers InternalServiceErrorException
// without showing it.
func wireError(err error) error {
	var fe *fault.Error
	if err == nil || !errors.As(err, &fe) {
		return err
	}
	switch fe.Kind {
	case fault.InvalidParameter, fault.FromNotVerified, fault.InvalidTemplateContent:
		return v2wire.ErrBadRequest(fe.Message)
	case fault.ProductionAccessNotGranted:
		// v2 has no ProductionAccessNotGranted shape; the model's lists for
		// the operations concerned offer BadRequestException.
		return v2wire.ErrBadRequest(fe.Message)
	case fault.NotFound, fault.ConfigSetNotFound, fault.TemplateNotFound:
		return v2wire.ErrNotFound(fe.Message)
	case fault.AlreadyExists:
		return v2wire.ErrAlreadyExists(fe.Message)
	case fault.Conflict:
		return v2wire.ErrConflict(fe.Message)
	case fault.MessageRejected:
		return v2wire.ErrMessageRejected(fe.Message)
	case fault.RateExceeded:
		return v2wire.ErrTooManyRequests(fe.Message) // "Maximum sending rate exceeded."
	case fault.DailyQuotaExceeded:
		return v2wire.ErrLimitExceeded(fe.Message) // "Daily message quota exceeded."
	case fault.LimitExceeded:
		return v2wire.ErrLimitExceeded(fe.Message)
	case fault.AccountSendingPaused, fault.ConfigSetSendingPaused:
		return v2wire.ErrSendingPaused(fe.Message)
	case fault.MailFromNotVerified:
		return v2wire.ErrMailFromDomainNotVerified(fe.Message)
	case fault.Internal:
		return v2wire.ErrInternalServiceError(internalMessage)
	}
	// A kind this table does not know yet: let the front log it as a 500
	// rather than guess a client error.
	return err
}

// badRequest is the adapter's own refusal of a request the wire shape allows
// but the operation cannot take (SES v2 BadRequestException).
func badRequest(message string) error { return v2wire.ErrBadRequest(message) }
