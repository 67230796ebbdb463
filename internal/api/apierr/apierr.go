// Package apierr is the wire-neutral form of an AWS API error: what a protocol
// adapter (SES v1 Query, SES v2 REST-JSON) hands to its codec after mapping a
// domain error through its own table. The codecs render it in their dialect:
// Query XML <ErrorResponse> or REST-JSON x-amzn-ErrorType + {"message": …}.
package apierr

import "fmt"

// Error is one API error as it goes on the wire.
type Error struct {
	// Status is the HTTP status (from the model's error.httpStatusCode).
	Status int
	// Code is the wire code: the model's error.code for Query (e.g.
	// "AlreadyExists"), the shape name for REST-JSON (e.g. "NotFoundException").
	Code string
	// Message is the human text, SES's wording where SES has one.
	Message string
	// Sender is true for client faults (Query <Type>Sender</Type>), false for
	// server faults (<Type>Receiver</Type>).
	Sender bool
	// Fields are extra members of a Query error shape, rendered as elements
	// inside <Error> in this order (e.g. TemplateName for TemplateDoesNotExist).
	Fields []Field
}

// Field is one extra element of a Query error.
type Field struct{ Name, Value string }

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// New returns a client-fault error.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...), Sender: status < 500}
}
