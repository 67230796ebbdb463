// Package simulator is SES's mailbox simulator (SES-BEHAVIOR §7): the
// addresses at simulator.amazonses.com whose mail never leaves the process
// but produces exactly the outcome SES gives them. It is pure — it maps an
// address to its outcome and holds SES's texts for it; the delivery worker
// turns the outcome into queue results and events.
package simulator

import "strings"

// Domain is the mailbox simulator's domain.
const Domain = "simulator.amazonses.com"

// Kind is what the simulator does with mail to an address.
type Kind uint8

// The simulator's outcomes (Developer Guide "Using the mailbox simulator
// manually").
const (
	// None: the address is not a simulator address; deliver it for real.
	None Kind = iota
	// Success: the "recipient" accepts the message (Delivery event).
	Success
	// Bounce: a hard bounce, 550 5.1.1 user unknown (Bounce Permanent/General),
	// which SES does not add to any suppression list.
	Bounce
	// OutOfOffice: delivered, then an RFC 3834 auto-reply to the sender.
	OutOfOffice
	// Complaint: delivered, then an RFC 5965 abuse complaint.
	Complaint
	// SuppressionList: treated as on SES's global suppression list (Bounce
	// Permanent/Suppressed, no delivery attempt).
	SuppressionList
)

// SES's texts for the simulated outcomes (SES-BEHAVIOR §7, observed
// notification payloads).
const (
	// DeliveryResponse is the Delivery event's smtpResponse.
	DeliveryResponse = "250 2.6.0 Message received"
	// BounceResponse is the reply of the bounce address; the event's
	// diagnosticCode is "smtp; " followed by it.
	BounceResponse = "550 5.1.1 user unknown"
	// BounceStatus is the enhanced status of both simulated bounces.
	BounceStatus = "5.1.1"
	// SuppressedDiagnostic is the diagnosticCode of the suppression-list
	// address's bounce: SES does not try to deliver, so no SMTP reply.
	SuppressedDiagnostic = "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address."
	// ComplaintFeedbackType and ComplaintUserAgent fill the complaint's
	// ARF fields (RFC 5965 Feedback-Type and User-Agent).
	ComplaintFeedbackType = "abuse"
	ComplaintUserAgent    = "Amazon SES Mailbox Simulator"
)

// Outcome returns what the simulator does with mail to addr. Labels are
// ignored as SES does (bounce+run42@… behaves like bounce@…; the event still
// reports the full labelled address), and the comparison is
// case-insensitive. A local part the simulator does not list is accepted as
// Success: Sesame's choice, so a typo never sends mail to the real
// simulator.amazonses.com — nothing at that domain leaves the process.
func Outcome(addr string) Kind {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !strings.EqualFold(addr[at+1:], Domain) {
		return None
	}
	local := addr[:at]
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	switch strings.ToLower(local) {
	case "bounce":
		return Bounce
	case "ooto":
		return OutOfOffice
	case "complaint":
		return Complaint
	case "suppressionlist":
		return SuppressionList
	}
	return Success
}

// Is reports whether addr is a mailbox-simulator address.
func Is(addr string) bool { return Outcome(addr) != None }

// String names the outcome after its simulator address.
func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Success:
		return "success"
	case Bounce:
		return "bounce"
	case OutOfOffice:
		return "ooto"
	case Complaint:
		return "complaint"
	case SuppressionList:
		return "suppressionlist"
	}
	return "unknown"
}
