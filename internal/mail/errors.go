package mail

// ContentError is a message SES refuses for its content: a duplicate
// single-occurrence header, a blocked attachment name, an over-long line, a
// malformed header section. Reason is the text SES gives where SES has one
// (SES-BEHAVIOR §4.2); adapters render it as MessageRejected (v1),
// BadRequestException / MessageRejected (v2) or
// "554 Transaction failed: <Reason>" (SMTP).
type ContentError struct {
	Reason string
}

func (e *ContentError) Error() string { return e.Reason }

func contentErr(reason string) error { return &ContentError{Reason: reason} }

// AddressError is an address SES refuses. Reason is SES's text where known
// ("Missing final '@domain'"); the other texts follow the same JavaMail
// wording SES returns. Adapters render it as InvalidParameterValue (v1),
// BadRequestException (v2) or a 5xx reply (SMTP).
type AddressError struct {
	// Input is the address as given.
	Input string
	// Reason is the text to show the caller.
	Reason string
}

func (e *AddressError) Error() string { return e.Reason }
