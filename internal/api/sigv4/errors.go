package sigv4

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrUnknownKey is what a Verifier's Lookup returns when no such access key
// exists. Verify turns it into an InvalidClientTokenID *Error; any other
// Lookup error is returned wrapped, for the caller to treat as an internal
// failure.
var ErrUnknownKey = errors.New("sigv4: unknown access key")

// Kind classifies an authentication failure. Each adapter renders a Kind in
// its own dialect through QueryCode (SES v1) or RESTType (SES v2).
type Kind int

// The kinds of SES-BEHAVIOR.md §2.3.
const (
	// MissingAuthenticationToken: no Authorization header and no presigned
	// query parameters.
	MissingAuthenticationToken Kind = iota + 1
	// IncompleteSignature: the Authorization header or the presigned query
	// is malformed or lacks a component.
	IncompleteSignature
	// InvalidClientTokenID: the access key id is unknown.
	InvalidClientTokenID
	// SignatureDoesNotMatch: the signature, the credential scope or the
	// signed headers are wrong.
	SignatureDoesNotMatch
	// SignatureExpired: the request date is too old (clock skew), or a
	// presigned URL has expired.
	SignatureExpired
	// SignatureNotYetCurrent: the request date is too far in the future.
	SignatureNotYetCurrent
)

var kindNames = [...]string{
	MissingAuthenticationToken: "MissingAuthenticationToken",
	IncompleteSignature:        "IncompleteSignature",
	InvalidClientTokenID:       "InvalidClientTokenId",
	SignatureDoesNotMatch:      "SignatureDoesNotMatch",
	SignatureExpired:           "SignatureExpired",
	SignatureNotYetCurrent:     "SignatureNotYetCurrent",
}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is an authentication failure with SES's wording. Message never
// contains a secret: at most it echoes (truncated) request values such as the
// credential or the date.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Message }

// QueryCode is the SES v1 (AWS Query) wire code and HTTP status of e
// (SES-BEHAVIOR.md §2.3). Clock-skew failures use SignatureDoesNotMatch, which
// with a "Signature expired" message is what SDKs key clock-skew correction on.
func (e *Error) QueryCode() (code string, status int) {
	switch e.Kind {
	case MissingAuthenticationToken:
		return "MissingAuthenticationToken", http.StatusForbidden
	case IncompleteSignature:
		return "IncompleteSignature", http.StatusBadRequest
	case InvalidClientTokenID:
		return "InvalidClientTokenId", http.StatusForbidden
	default:
		return "SignatureDoesNotMatch", http.StatusForbidden
	}
}

// RESTType is the SES v2 (REST-JSON) x-amzn-ErrorType and HTTP status of e
// (SES-BEHAVIOR.md §2.3).
func (e *Error) RESTType() (typ string, status int) {
	switch e.Kind {
	case MissingAuthenticationToken:
		return "MissingAuthenticationTokenException", http.StatusForbidden
	case IncompleteSignature:
		return "IncompleteSignatureException", http.StatusBadRequest
	case InvalidClientTokenID:
		return "UnrecognizedClientException", http.StatusForbidden
	default:
		return "InvalidSignatureException", http.StatusForbidden
	}
}

// SES's texts (SES-BEHAVIOR.md §2.3). Texts marked "Coral" are the ones AWS's
// request-authentication layer returns for the same checks in its other
// JSON/Query services; "Sesame" marks our own wording where AWS's is unknown.
const (
	msgMissingToken    = "Missing Authentication Token"
	msgInvalidToken    = "The security token included in the request is invalid."
	msgSignatureDiffer = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgWrongRegion = "Credential should be scoped to a valid region."
	// Coral.
	msgBothForms      = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
	msgHostNotSigned  = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgMissingDateHdr = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	msgReexamineQuery = "Re-examine the query-string parameters."
	// Sesame: the spec requires these headers to be signed when present.
	msgDateNotSigned  = "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
	msgTokenNotSigned = "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization."
)

// maxEcho bounds how much of a client-supplied value an error message echoes.
const maxEcho = 128

// echo makes a client-supplied value safe to quote in a message: valid UTF-8
// and bounded in length.
func echo(s string) string {
	if len(s) > maxEcho {
		s = s[:maxEcho]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func newError(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

func errSignatureMismatch() *Error { return newError(SignatureDoesNotMatch, msgSignatureDiffer) }

// wrongServiceText is SES's text for a scope naming another service.
func wrongServiceText(service string) string {
	return fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service)
}

// Coral: the terminator and date parts of the scope.
func wrongTerminatorText(got string) string {
	return fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", echo(got))
}

func scopeDateText(scopeDate, reqDate, reqStamp string) string {
	return fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
		echo(scopeDate), reqDate, reqStamp)
}

// Coral texts for malformed parts.
func errBadDate(got string) *Error {
	return newError(IncompleteSignature, fmt.Sprintf(
		"Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", echo(got)))
}

func errBadAlgorithm(got string) *Error {
	return newError(IncompleteSignature, fmt.Sprintf(
		"Unsupported AWS 'algorithm': '%s' (only AWS4-HMAC-SHA256 for now).", echo(got)))
}

func errBadCredential(got string) *Error {
	return newError(IncompleteSignature, fmt.Sprintf(
		"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", echo(got)))
}

func errNoEqualSign(key, header string) *Error {
	return newError(IncompleteSignature, fmt.Sprintf(
		"'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", echo(key), echo(header)))
}

// errExpired is SES's clock-skew text, e.g. "Signature expired:
// 20240101T000000Z is now earlier than 20240101T001000Z (20240101T001500Z - 5
// min.)". Presigned URLs use the same shape with X-Amz-Expires as the window.
func errExpired(reqDate, now time.Time, window time.Duration) *Error {
	return newError(SignatureExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
		reqDate.Format(amzDateLayout), now.Add(-window).Format(amzDateLayout), now.Format(amzDateLayout), fmtWindow(window)))
}

func errNotYetCurrent(reqDate, now time.Time, window time.Duration) *Error {
	return newError(SignatureNotYetCurrent, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
		reqDate.Format(amzDateLayout), now.Add(window).Format(amzDateLayout), now.Format(amzDateLayout), fmtWindow(window)))
}

// fmtWindow renders a skew window the way SES does ("5 min."), falling back
// to seconds for windows that are not whole minutes.
func fmtWindow(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return fmt.Sprintf("%d sec.", d/time.Second)
}
