// Package feedback reads the reports mail systems send back about a message
// after accepting it: delivery status notifications (DSNs, RFC 3464, inside a
// multipart/report of RFC 6522) that say a recipient could not be reached,
// and email feedback reports (ARF, RFC 5965) that say a recipient complained.
// Sesame's inbound MX turns them into SES's Bounce and Complaint events
// (SES-BEHAVIOR §8.3); Classify holds the mapping of DSN status codes to
// SES's bounce types.
//
// The parsers are pure functions of the message bytes. They face the
// network, so they never panic, accept what real MTAs write (missing
// optional fields, comments, folded lines, reports nested in a forward) and
// return an error for anything they cannot read as a report; ErrNotReport
// tells a message of another kind (an auto-reply, a human answer) from a
// broken report.
package feedback
