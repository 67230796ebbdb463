// Package fault defines the kinds of failure the domain reports. The domain
// says what went wrong (a Kind and SES's text); each protocol adapter maps the
// kind once to its wire form — Query XML code, REST-JSON type and status, SMTP
// reply — so no HTTP status or SMTP code is chosen in the domain (STYLE.md §3).
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error.
type Kind int

const (
	Internal               Kind = iota
	InvalidParameter            // a value SES would reject as InvalidParameterValue / BadRequest
	NotFound                    // the named resource does not exist
	AlreadyExists               // a create on an existing name
	Conflict                    // a state conflict (e.g. a review already pending)
	MessageRejected             // the message may not be sent (verification, sandbox, content)
	RateExceeded                // Maximum sending rate exceeded.
	DailyQuotaExceeded          // Daily message quota exceeded.
	AccountSendingPaused        // the account's sending is disabled
	ConfigSetNotFound           // ConfigurationSetName names no configuration set
	ConfigSetSendingPaused      // the configuration set's sending is disabled
	MailFromNotVerified         // custom MAIL FROM not verified and behaviour is RejectMessage
	TemplateNotFound            // template name unknown
	FromNotVerified             // custom verification template's From is not verified
	ProductionAccessNotGranted
	LimitExceeded // a count limit (identities, templates)
	InvalidTemplateContent
)

// Error is a domain error: a kind, SES's message, and the resource it names.
type Error struct {
	Kind    Kind
	Message string
	// Name is the resource the error is about (template, configuration set,
	// identity), which some wire errors carry as a field.
	Name string
}

func (e *Error) Error() string { return e.Message }

// New returns an error of kind k with a formatted SES message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Named returns an error of kind k about the named resource.
func Named(k Kind, name, format string, args ...any) *Error {
	return &Error{Kind: k, Name: name, Message: fmt.Sprintf(format, args...)}
}

// As returns the *Error in err's chain, or an Internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Message: "Internal failure."}
}

// Is reports whether err is a domain error of kind k.
func Is(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}
