// Package identity manages SES identities — email addresses and domains —
// for both API versions from one store: creation, verification by email link
// and by DNS (Easy DKIM CNAMEs, BYODKIM TXT, the legacy _amazonses TXT), DKIM
// keys, custom MAIL FROM domains, and the question the sending path asks:
// is this address covered by a verified identity (SES-BEHAVIOR §5).
package identity

import (
	"strings"
	"time"
)

// Kind is the v2 IdentityType.
type Kind string

const (
	EmailAddress Kind = "EMAIL_ADDRESS"
	Domain       Kind = "DOMAIN"
)

// Status is a verification status in v2's spelling; v1 names come from V1.
type Status string

const (
	Pending          Status = "PENDING"
	Success          Status = "SUCCESS"
	Failed           Status = "FAILED"
	TemporaryFailure Status = "TEMPORARY_FAILURE"
	NotStarted       Status = "NOT_STARTED"
)

// V1 returns the status as the v1 API spells it (Pending, Success, …).
func (s Status) V1() string {
	switch s {
	case Pending:
		return "Pending"
	case Success:
		return "Success"
	case Failed:
		return "Failed"
	case TemporaryFailure:
		return "TemporaryFailure"
	}
	return "NotStarted"
}

// DKIM origins (v2 DkimSigningAttributesOrigin).
const (
	OriginAWSSES   = "AWS_SES"
	OriginExternal = "EXTERNAL"
)

// Key lengths (v2 DkimSigningKeyLength).
const (
	RSA1024 = "RSA_1024_BIT"
	RSA2048 = "RSA_2048_BIT"
)

// MAIL FROM behaviours on MX failure (v2 BehaviorOnMxFailure).
const (
	UseDefaultValue = "USE_DEFAULT_VALUE"
	RejectMessage   = "REJECT_MESSAGE"
)

// Identity is one verified-or-not sender identity of an account.
type Identity struct {
	AccountID string
	Name      string // lower-cased address or domain
	Kind      Kind
	Status    Status
	CreatedAt time.Time

	// VerificationToken is the legacy _amazonses TXT token (domains made or
	// re-verified with v1 VerifyDomainIdentity).
	VerificationToken string

	DKIM     DKIM
	MailFrom MailFrom

	FeedbackForwarding bool
	ConfigSet          string // default configuration set
	Tags               []Tag

	// The last DNS check: when, the last success, and what was wrong.
	LastCheckedAt time.Time
	LastSuccessAt time.Time
	ErrorType     string // v2 VerificationError: HOST_NOT_FOUND, TYPE_NOT_FOUND, INVALID_VALUE, DNS_SERVER_ERROR
	ErrorDetail   string // which record is missing or wrong, in words

	pendingSince time.Time
	emailToken   string
	emailSentAt  time.Time
	template     string
}

// DKIM is an identity's DKIM state (v2 DkimAttributes).
type DKIM struct {
	Origin         string // AWS_SES, EXTERNAL, or "" when the identity has none
	Status         Status
	Enabled        bool
	Tokens         []string // Easy DKIM tokens, or the BYODKIM selector
	Selector       string   // BYODKIM
	KeyLength      string
	NextKeyLength  string
	KeyGeneratedAt time.Time
	privateKey     []byte // BYODKIM key, PKCS#8 DER
}

// MailFrom is an identity's custom MAIL FROM setting.
type MailFrom struct {
	Domain   string
	Status   Status // "" when no domain is set
	Behavior string
}

// Tag is a resource tag.
type Tag struct{ Key, Value string }

// VerifiedForSending reports whether the identity may be used as a sender.
func (i *Identity) VerifiedForSending() bool { return i.Status == Success }

// DomainOf returns the domain part of an address, or s itself for a domain.
func DomainOf(s string) string {
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		return s[at+1:]
	}
	return s
}

// Normalize lower-cases an identity name and drops a trailing dot.
func Normalize(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// KindOf tells an address from a domain.
func KindOf(name string) Kind {
	if strings.Contains(name, "@") {
		return EmailAddress
	}
	return Domain
}
