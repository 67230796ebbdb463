package feedback

import (
	"errors"
	"strings"
	"time"
)

// Feedback types (RFC 5965 §7.3, RFC 6430 not-spam, RFC 6591
// auth-failure): the values SES reports as complaintFeedbackType
// (SES-BEHAVIOR §8.3).
const (
	TypeAbuse       = "abuse"
	TypeAuthFailure = "auth-failure"
	TypeFraud       = "fraud"
	TypeNotSpam     = "not-spam"
	TypeOther       = "other"
	TypeVirus       = "virus"
)

// Report is an email feedback report (RFC 5965, the Abuse Reporting
// Format): a mailbox provider telling the sender that a recipient marked
// a message as spam, or otherwise complained about it.
type Report struct {
	FeedbackType       string    `json:"feedbackType"`                 // lower case; see the Type constants
	UserAgent          string    `json:"userAgent,omitempty"`          // the software that made the report
	Version            string    `json:"version,omitempty"`            // "1"
	OriginalEnvelopeID string    `json:"originalEnvelopeId,omitempty"` // the ENVID of the reported message
	OriginalMailFrom   string    `json:"originalMailFrom,omitempty"`   // its envelope sender, no angle brackets
	OriginalRcptTo     []string  `json:"originalRcptTo,omitempty"`     // its envelope recipients, often redacted (RFC 6590)
	ArrivalDate        time.Time `json:"arrivalDate,omitzero"`         // when the reporter received it
	ReportingMTA       Typed     `json:"reportingMta,omitzero"`
	SourceIP           string    `json:"sourceIp,omitempty"` // the IP address it came from
	Incidents          string    `json:"incidents,omitempty"`
	ReportedDomain     []string  `json:"reportedDomain,omitempty"`
	ReportedURI        []string  `json:"reportedUri,omitempty"`
	// AuthenticationResults are the reporter's verdicts on the message
	// (RFC 8601), as written.
	AuthenticationResults []string `json:"authenticationResults,omitempty"`

	// OriginalMessageID is the reported message's Message-ID without
	// angle brackets; "" when the report returns no headers.
	OriginalMessageID string `json:"originalMessageId,omitempty"`
	// OriginalHeaders is the reported message's header as the report
	// carries it; nil when it returns none.
	OriginalHeaders Header `json:"originalHeaders,omitempty"`
}

// ParseARF parses a feedback report: a multipart/report with
// report-type=feedback-report whose message/feedback-report part holds the
// report's fields (RFC 5965 §2–3), usually followed by the reported message
// or its headers. A message of another kind is an error wrapping
// ErrNotReport. Feedback-Type is required; the other fields RFC 5965
// requires (User-Agent, Version) are read when present, as some reporters
// leave them out. Some reporters write Received-Date for Arrival-Date;
// either is read.
func ParseARF(msg []byte) (*Report, error) {
	rep, err := readReport(msg, "feedback-report", "message/feedback-report")
	if err != nil {
		return nil, err
	}
	var g []field
	for _, grp := range parseGroups(rep.status) {
		g = append(g, grp...) // one group; a stray blank line must not split it
	}
	r := &Report{
		FeedbackType:          strings.ToLower(stripComments(get(g, "feedback-type"))),
		UserAgent:             get(g, "user-agent"),
		Version:               stripComments(get(g, "version")),
		OriginalEnvelopeID:    get(g, "original-envelope-id"),
		OriginalMailFrom:      bareAddress(stripComments(get(g, "original-mail-from"))),
		ReportingMTA:          parseMTA(get(g, "reporting-mta")),
		SourceIP:              stripComments(get(g, "source-ip")),
		Incidents:             stripComments(get(g, "incidents")),
		ReportedDomain:        all(g, "reported-domain"),
		ReportedURI:           all(g, "reported-uri"),
		AuthenticationResults: all(g, "authentication-results"),
		OriginalHeaders:       rep.original,
		OriginalMessageID:     MessageID(rep.original.Get("Message-Id")),
	}
	if r.FeedbackType == "" {
		return nil, errors.New("feedback: feedback report without a Feedback-Type")
	}
	for _, v := range all(g, "original-rcpt-to") {
		if a := bareAddress(stripComments(v)); a != "" {
			r.OriginalRcptTo = append(r.OriginalRcptTo, a)
		}
	}
	r.ArrivalDate = parseDate(get(g, "arrival-date"))
	if r.ArrivalDate.IsZero() {
		r.ArrivalDate = parseDate(get(g, "received-date"))
	}
	return r, nil
}
