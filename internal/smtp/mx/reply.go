package mx

import "github.com/emersion/go-smtp"

// The server's replies, with RFC 3463 enhanced codes.
var (
	// errAccessDenied is SES's reply to a recipient it does not receive
	// for (SES-BEHAVIOR §13).
	errAccessDenied   = reply(550, 5, 1, 1, "Recipient address rejected: Access denied")
	errTooLong        = reply(552, 5, 3, 4, "Message is too long.")
	errLongLine       = reply(554, 5, 6, 0, "Message has a line longer than 1000 characters.")
	errDataTimeout    = reply(451, 4, 4, 2, "Timeout waiting for data from client")
	errTemporary      = reply(451, 4, 3, 0, "Temporary service failure")
	errShuttingDown   = reply(421, 4, 3, 2, "Service shutting down")
	errTooManyRejects = reply(421, 4, 7, 0, "Too many refused recipients, closing connection")
	// accepted answers DATA: the report is recorded, or the message
	// dropped on purpose, either way it must not be sent again.
	accepted = reply(250, 2, 0, 0, "Ok")
)

func reply(code, class, subject, detail int, text string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, subject, detail}, Message: text}
}
