package sesv1

import (
	"errors"

	"github.com/sesamehq/sesame/internal/api/awsquery"
	"github.com/sesamehq/sesame/internal/api/v1wire"
	"github.com/sesamehq/sesame/internal/fault"
)

// wireError maps a domain error to its Query form (SES-BEHAVIOR Appendix
// C.1); errors that are not domain errors pass through as internal failures.
// Operation families whose codes differ (custom verification templates) map
// their own kinds before falling back to this table.
func wireError(err error) error {
	if err == nil {
		return nil
	}
	var f *fault.Error
	if !errors.As(err, &f) {
		return err
	}
	switch f.Kind {
	case fault.InvalidParameter, fault.NotFound, fault.Conflict:
		return awsquery.InvalidParameterValue(f.Message)
	case fault.AlreadyExists:
		return v1wire.ErrAlreadyExists(f.Message, f.Name)
	case fault.MessageRejected:
		return v1wire.ErrMessageRejected(f.Message)
	case fault.RateExceeded, fault.DailyQuotaExceeded:
		return awsquery.Throttling(f.Message)
	case fault.AccountSendingPaused:
		return v1wire.ErrAccountSendingPaused(f.Message)
	case fault.ConfigSetNotFound:
		return v1wire.ErrConfigurationSetDoesNotExist(f.Message, f.Name)
	case fault.ConfigSetSendingPaused:
		return v1wire.ErrConfigurationSetSendingPaused(f.Message, f.Name)
	case fault.MailFromNotVerified:
		return v1wire.ErrMailFromDomainNotVerified(f.Message)
	case fault.TemplateNotFound:
		return v1wire.ErrTemplateDoesNotExist(f.Message, f.Name)
	case fault.FromNotVerified:
		return v1wire.ErrFromEmailAddressNotVerified(f.Message, f.Name)
	case fault.ProductionAccessNotGranted:
		return v1wire.ErrProductionAccessNotGranted(f.Message)
	case fault.LimitExceeded:
		return v1wire.ErrLimitExceeded(f.Message)
	case fault.InvalidTemplateContent:
		return v1wire.ErrCustomVerificationEmailInvalidContent(f.Message)
	}
	return err
}
