package submit

import (
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/fault"
)

// The replies SES's SMTP interface gives (SES-BEHAVIOR §3.2), with the
// enhanced status codes of RFC 3463 that go-smtp's ENHANCEDSTATUSCODES
// requires: X.7.x security or policy, X.6.x content, X.5.x protocol, X.3.x
// the service, X.4.2 a stalled connection.
var (
	errStartTLSFirst = reply(530, 5, 7, 0, "Must issue a STARTTLS command first")
	errAuthRequired  = reply(530, 5, 7, 0, "Authentication required")
	errBadLogin      = reply(535, 5, 7, 8, "Authentication Credentials Invalid")
	errAuthTemporary = reply(454, 4, 7, 0, "Temporary authentication failure")
	errBadMailFrom   = reply(501, 5, 1, 7, "Invalid MAIL FROM address provided")
	errBadRcptTo     = reply(501, 5, 1, 3, "Invalid RCPT TO address provided")
	errTooManyRcpts  = reply(554, 5, 5, 3, "Transaction failed: Too many recipients") // [Sesame choice, §3.1]
	errTooLong       = reply(552, 5, 3, 4, "Message is too long.")
	errLongLine      = reply(554, 5, 6, 0, "Transaction failed: Message has a line longer than 1000 characters.")
	errDataTimeout   = reply(451, 4, 4, 2, "Timeout waiting for data from client")
	errTemporary     = reply(451, 4, 3, 0, "Temporary service failure")
	errShuttingDown  = reply(421, 4, 3, 2, "Service shutting down")
	errRate          = reply(454, 4, 7, 0, "Throttling failure: Maximum sending rate exceeded")
	errDailyQuota    = reply(454, 4, 7, 0, "Throttling failure: Daily message quota exceeded")
	errAuthMechanism = smtp.ErrAuthUnknownMechanism
)

// notVerified starts the domain's refusal of an unverified sender or, in the
// sandbox, recipient (SES-BEHAVIOR §6.3); SMTP words it "Message rejected".
const notVerified = "Email address is not verified."

// refusal is the one table from domain failures to SMTP replies (STYLE.md
// §3). SES keeps the API's text after a prefix: "Message rejected: " for the
// verification and sandbox check, "Transaction failed: " for the other
// refusals, and the throttling replies without their final period.
func refusal(err error) *smtp.SMTPError {
	e := fault.As(err)
	switch e.Kind {
	case fault.Internal:
		return errTemporary
	case fault.RateExceeded:
		return errRate
	case fault.DailyQuotaExceeded:
		return errDailyQuota
	case fault.MessageRejected:
		if strings.HasPrefix(e.Message, notVerified) {
			return reply(554, 5, 7, 1, "Message rejected: "+e.Message)
		}
		// The other MessageRejected texts are about the message itself:
		// its size, its recipients, its headers (mail.ContentError).
		return reply(554, 5, 6, 0, "Transaction failed: "+e.Message)
	case fault.AccountSendingPaused, fault.ConfigSetSendingPaused, fault.MailFromNotVerified, fault.FromNotVerified:
		return reply(554, 5, 7, 1, "Transaction failed: "+e.Message)
	default:
		// InvalidParameter (an address), ConfigSetNotFound (from
		// X-SES-CONFIGURATION-SET) and anything else the domain refuses.
		return reply(554, 5, 6, 0, "Transaction failed: "+e.Message)
	}
}

// maxReplyText is the longest text that keeps a reply line within RFC 5321
// §4.5.3.1.5's 512 octets: "554 5.xxx.xxx " before it, CRLF after.
const maxReplyText = 512 - len("554 5.123.123 ") - len("\r\n")

// reply makes an SMTP reply whose text is safe to put on the wire.
func reply(code, class, subject, detail int, text string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, subject, detail}, Message: replyText(text)}
}

// replyText makes text one line of printable US-ASCII (RFC 5321 §4.2: the
// text of a reply; go-smtp would split it at LF into a multi-line reply, and
// a CR would end the line early) of at most maxReplyText octets. Domain texts
// quote what a client sent — header values, addresses — so this is the last
// line of defence against reply injection. A text cut short ends in "...",
// as SES's own long identity lists do (§6.3).
func replyText(s string) string {
	var b strings.Builder
	b.Grow(min(len(s), maxReplyText))
	space := false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\r' || r == '\n':
			space = b.Len() > 0
			continue
		case r < ' ' || r > '~':
			r = '?' // controls and non-ASCII (no SMTPUTF8 here)
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() > maxReplyText {
			break
		}
	}
	out := b.String()
	if len(out) > maxReplyText {
		out = strings.TrimRight(out[:maxReplyText-len("...")], " ") + "..."
	}
	return out
}
