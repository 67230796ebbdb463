package feedback

import (
	"strconv"
	"strings"
)

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

// ClassifyReply classifies a refusal from an SMTP reply: the reply code,
// its enhanced status code (RFC 3463; may be empty) and its text. The
// enhanced code decides, through Classify; when there is none, or only a
// class ("5.0.0"), the text is read for what many servers write without a
// code ("User unknown", "Mailbox full", …), and failing that the reply
// code's class stands ("550" alone is Permanent/General). The delivery
// worker classifies the refusals it receives with it, and a DSN's recipient
// (Recipient.Classify) with its Diagnostic-Code: one table for both.
func ClassifyReply(code int, enhanced, text string) (bounceType, subType string) {
	status := parseStatus(enhanced)
	class := ""
	switch {
	case status != "":
		class = status[:1]
	case code >= 400 && code < 600:
		class = strconv.Itoa(code / 100)
	}
	if class != "" && (status == "" || strings.HasSuffix(status, ".0.0")) {
		status = class + ".0.0"
		if hint := textStatus(text); hint != "" {
			status = class + hint
		}
	}
	return Classify(status)
}

// textHints map phrases of refusals without a specific enhanced code to the
// subject and detail of one (RFC 3463 §3), checked in order on the reply's
// lower-cased text.
var textHints = []struct {
	phrases []string
	status  string
}{
	{[]string{"mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage", "insufficient storage"}, ".2.2"},
	{[]string{"user unknown", "unknown user", "no such user", "no such mailbox", "does not exist", "unknown recipient", "recipient unknown", "invalid recipient", "address rejected: user"}, ".1.1"},
	{[]string{"message too large", "message too big", "message size exceeds", "exceeds size limit", "too large"}, ".3.4"},
	{[]string{"spam", "blocklist", "blacklist", "block list", "black list"}, ".7.1"},
}

// textStatus returns ".subject.detail" for a reply text that names its
// cause in words, "" when it does not.
func textStatus(text string) string {
	lower := strings.ToLower(text)
	for _, h := range textHints {
		for _, p := range h.phrases {
			if strings.Contains(lower, p) {
				return h.status
			}
		}
	}
	return ""
}

// Classify classifies a failed recipient: by its Status or, when that is
// only a class ("5.0.0", as Exim writes) or missing, by the enhanced code
// of an SMTP Diagnostic-Code in the same class (RFC 3464 §2.3.6: the
// remote server's own reply), and failing that by the reply's words
// (ClassifyReply).
func (r Recipient) Classify() (bounceType, subType string) {
	status := r.classStatus()
	if (status == "" || strings.HasSuffix(status, ".0.0")) && r.DiagnosticCode.Type == "smtp" {
		if hint := textStatus(r.DiagnosticCode.Value); hint != "" && status != "" {
			status = status[:1] + hint
		}
	}
	return Classify(status)
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
