package feedback

import "strings"

// SES's bounce types and subtypes (SES-BEHAVIOR §8.3).
const (
	Permanent    = "Permanent"
	Transient    = "Transient"
	Undetermined = "Undetermined"

	SubGeneral         = "General"
	SubNoEmail         = "NoEmail"
	SubMailboxFull     = "MailboxFull"
	SubMessageTooLarge = "MessageTooLarge"
	SubContentRejected = "ContentRejected"
	SubUndetermined    = "Undetermined"
)

// Classify maps the Status of a failed DSN recipient (an RFC 3463
// enhanced code) to SES's bounceType and bounceSubType. SES documents the
// subtypes, not the codes behind them; Sesame's table:
//
//	x.2.2                  mailbox full               Transient/MailboxFull
//	x.2.3, x.3.4           message too big            Transient/MessageTooLarge
//	x.6.x, x.7.1           content or policy refusal  Transient/ContentRejected
//	other x.7.x            security or policy         Transient/General
//	5.1.1, 5.1.10          no such mailbox, null MX   Permanent/NoEmail
//	other 5.x.x                                       Permanent/General
//	other 4.x.x            given up after retries     Transient/General
//	missing or malformed                              Undetermined/Undetermined
//
// SES lists MailboxFull, MessageTooLarge and ContentRejected only as
// Transient subtypes, so they are Transient even with a 5.x.x class: the
// condition is the recipient's of the moment, or the message's, not the
// address's. Likewise a refusal on security or policy grounds (x.7.x:
// block lists, DMARC, "message refused") is about the sender or content.
// Only Permanent bounces put the address on the suppression list
// (SES-BEHAVIOR §11), so this keeps a good address off it. NoEmail follows
// the delivery worker's own classification of 5.1.1 and 5.1.10 replies.
func Classify(status string) (bounceType, subType string) {
	class, rest, ok := strings.Cut(status, ".")
	if !ok || parseStatus(status) == "" {
		return Undetermined, SubUndetermined
	}
	subject, detail, _ := strings.Cut(rest, ".")
	switch {
	case rest == "2.2":
		return Transient, SubMailboxFull
	case rest == "2.3" || rest == "3.4":
		return Transient, SubMessageTooLarge
	case subject == "6" || rest == "7.1":
		return Transient, SubContentRejected
	case subject == "7":
		return Transient, SubGeneral
	case class == "5" && subject == "1" && (detail == "1" || detail == "10"):
		return Permanent, SubNoEmail
	case class == "5":
		return Permanent, SubGeneral
	case class == "4":
		return Transient, SubGeneral
	}
	// Class 2 in a failed recipient contradicts itself.
	return Undetermined, SubUndetermined
}

// Classify classifies a failed recipient: by its Status or, when that is
// only a class ("5.0.0", as Exim writes) or missing, by the enhanced code
// of an SMTP Diagnostic-Code in the same class (RFC 3464 §2.3.6: the
// remote server's own reply).
func (r Recipient) Classify() (bounceType, subType string) {
	return Classify(r.classStatus())
}

func (r Recipient) classStatus() string {
	s := r.Status
	if s != "" && !strings.HasSuffix(s, ".0.0") {
		return s
	}
	if d := diagnosticStatus(r.DiagnosticCode); d != "" && (s == "" || d[0] == s[0]) {
		return d
	}
	return s
}

// diagnosticStatus is the enhanced status code of an SMTP reply in a
// Diagnostic-Code ("smtp; 550 5.1.1 …", "smtp; 550-5.1.1 …"), if its class
// agrees with the reply code's; "" otherwise.
func diagnosticStatus(d Typed) string {
	v := d.Value
	if d.Type != "smtp" || len(v) < 5 || (v[3] != ' ' && v[3] != '-') {
		return ""
	}
	for i := range 3 {
		if v[i] < '0' || v[i] > '9' {
			return ""
		}
	}
	s := parseStatus(strings.TrimLeft(v[4:], " "))
	if s == "" || s[0] != v[0] {
		return ""
	}
	return s
}
