// Package configset keeps SES configuration sets and their event
// destinations for both API versions in one store — a set made with v1
// CreateConfigurationSet is the set v2 GetConfigurationSet reads — and
// answers what the sending and delivery paths ask of a set: does it exist,
// is it sending, must delivery use TLS, which suppression reasons apply, and
// where do its events go (SES-BEHAVIOR §9, §4.4, §11).
//
// Options are held in v2's vocabulary (REQUIRE, MESSAGE_TAG, SEND …); the v1
// spellings are conversions at the edge (V1 methods, FromV1 functions).
// Publishing events to the destinations is not this package's job: it only
// stores and validates them.
package configset

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
)

// SES's limits (SES-BEHAVIOR §9); Config can lower them for tests.
const (
	MaxSets         = 10000 // configuration sets per account and region
	MaxDestinations = 10    // event destinations per configuration set
	maxTags         = 50
)

// Delivery limits of v2 DeliveryOptions.MaxDeliverySeconds (model min/max).
const (
	MinDeliverySeconds = 300
	MaxDeliverySeconds = 50400
)

// nameRE is the rule for configuration set and event destination names: "only
// letters (a-z, A-Z), numbers (0-9), underscores (_), or dashes (-)" and "64
// characters or fewer" (model shapes ConfigurationSet.Name, EventDestination.Name).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// TLSPolicy is v2 DeliveryOptions.TlsPolicy.
type TLSPolicy string

const (
	TLSOptional TLSPolicy = "OPTIONAL" // opportunistic STARTTLS
	TLSRequire  TLSPolicy = "REQUIRE"  // deliver only over TLS, else retry and bounce
)

// V1 is the policy as v1 spells it (Require, Optional).
func (p TLSPolicy) V1() string {
	if p == TLSRequire {
		return "Require"
	}
	return "Optional"
}

// TLSPolicyFromV1 reads v1's spelling; "" is Optional.
func TLSPolicyFromV1(s string) (TLSPolicy, error) {
	switch s {
	case "", "Optional":
		return TLSOptional, nil
	case "Require":
		return TLSRequire, nil
	}
	return "", fault.New(fault.InvalidParameter, "Invalid TlsPolicy %q: must be Require or Optional.", s)
}

// HTTPS policies of v2 TrackingOptions.HttpsPolicy.
const (
	HTTPSRequire         = "REQUIRE"
	HTTPSRequireOpenOnly = "REQUIRE_OPEN_ONLY"
	HTTPSOptional        = "OPTIONAL"
)

// Suppression reasons (v2 SuppressionListReason).
const (
	ReasonBounce    = "BOUNCE"
	ReasonComplaint = "COMPLAINT"
)

// Feature switches of the VDM and auto-validation options.
const (
	Enabled  = "ENABLED"
	Disabled = "DISABLED"
)

// ConfigSet is one configuration set with all its options (v2
// GetConfigurationSet; v1 DescribeConfigurationSet shows a subset).
type ConfigSet struct {
	Name      string
	CreatedAt time.Time

	SendingEnabled bool // v2 SendingOptions; v1 ReputationOptions.SendingEnabled
	Reputation     Reputation
	Delivery       Delivery
	// Tracking is nil until tracking options are set (v1 distinguishes
	// creating them from updating them).
	Tracking *Tracking
	// Suppression is nil while the account's suppression settings apply; set,
	// it replaces them for mail sent with this set (SES-BEHAVIOR §11).
	Suppression *Suppression
	VDM         VDM
	ArchiveARN  string // v2 ArchivingOptions; "" when not archiving
	Tags        []Tag
}

// Reputation is v2 ReputationOptions.
type Reputation struct {
	MetricsEnabled bool
	LastFreshStart time.Time // zero: never
}

// Delivery is v2 DeliveryOptions.
type Delivery struct {
	TLSPolicy       TLSPolicy
	SendingPoolName string
	// MaxDeliverySeconds bounds how long delivery is attempted; 0 means
	// Sesame's default retry window.
	MaxDeliverySeconds int64
}

// Tracking is v2 TrackingOptions (v1 has only the domain).
type Tracking struct {
	CustomRedirectDomain string // "" uses the default tracking domain
	HTTPSPolicy          string
}

// Suppression is v2 SuppressionOptions.
type Suppression struct {
	Reasons []string // BOUNCE, COMPLAINT; empty means no suppression for this set
	// Validation is the auto-validation threshold (VDM); nil when not set.
	Validation *Validation
}

// Validation is v2 SuppressionValidationOptions.ConditionThreshold.
type Validation struct {
	ConditionThresholdEnabled  string // ENABLED | DISABLED
	ConfidenceVerdictThreshold string // MEDIUM | HIGH | MANAGED, or ""
}

// VDM is v2 VdmOptions; "" leaves an option unset.
type VDM struct {
	EngagementMetrics       string // DashboardOptions: ENABLED | DISABLED
	OptimizedSharedDelivery string // GuardianOptions: ENABLED | DISABLED
}

// Tag is a resource tag.
type Tag struct{ Key, Value string }

// Defaults returns a set named name with SES's defaults: sending enabled,
// opportunistic TLS, no tracking, reputation metrics off, the account's
// suppression settings.
func Defaults(name string) *ConfigSet {
	return &ConfigSet{Name: name, SendingEnabled: true, Delivery: Delivery{TLSPolicy: TLSOptional}}
}

// ValidName reports whether s is a valid configuration set (or event
// destination) name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

func checkName(name string) error {
	if !ValidName(name) {
		return fault.Named(fault.InvalidParameter, name,
			"Invalid configuration set name <%s>: up to 64 letters, digits, underscores and dashes.", name)
	}
	return nil
}

// validate checks every option of c and fills defaults.
func (c *ConfigSet) validate() error {
	if err := checkName(c.Name); err != nil {
		return err
	}
	if err := c.Delivery.validate(); err != nil {
		return err
	}
	if c.Tracking != nil {
		if err := c.Tracking.validate(); err != nil {
			return err
		}
	}
	if c.Suppression != nil {
		if err := c.Suppression.validate(); err != nil {
			return err
		}
	}
	if err := c.VDM.validate(); err != nil {
		return err
	}
	if err := checkARN(c.ArchiveARN, "ArchiveArn"); err != nil {
		return err
	}
	return checkTags(c.Tags)
}

func (d *Delivery) validate() error {
	switch d.TLSPolicy {
	case "":
		d.TLSPolicy = TLSOptional
	case TLSOptional, TLSRequire:
	default:
		return fault.New(fault.InvalidParameter, "Invalid TlsPolicy %q: must be REQUIRE or OPTIONAL.", d.TLSPolicy)
	}
	if d.MaxDeliverySeconds != 0 && (d.MaxDeliverySeconds < MinDeliverySeconds || d.MaxDeliverySeconds > MaxDeliverySeconds) {
		return fault.New(fault.InvalidParameter, "MaxDeliverySeconds must be between %d and %d.", MinDeliverySeconds, MaxDeliverySeconds)
	}
	if len(d.SendingPoolName) > 64 || strings.ContainsFunc(d.SendingPoolName, isControl) {
		return fault.New(fault.InvalidParameter, "Invalid SendingPoolName %q.", d.SendingPoolName)
	}
	return nil
}

func (t *Tracking) validate() error {
	switch t.HTTPSPolicy {
	case "":
		t.HTTPSPolicy = HTTPSOptional
	case HTTPSRequire, HTTPSRequireOpenOnly, HTTPSOptional:
	default:
		return fault.New(fault.InvalidParameter, "Invalid HttpsPolicy %q: must be REQUIRE, REQUIRE_OPEN_ONLY or OPTIONAL.", t.HTTPSPolicy)
	}
	t.CustomRedirectDomain = strings.TrimSuffix(strings.ToLower(t.CustomRedirectDomain), ".")
	if t.CustomRedirectDomain != "" && !validDomain(t.CustomRedirectDomain) {
		return fault.New(fault.InvalidParameter, "Invalid custom redirect domain %s.", t.CustomRedirectDomain)
	}
	return nil
}

func (s *Suppression) validate() error {
	var reasons []string
	for _, r := range s.Reasons {
		if r != ReasonBounce && r != ReasonComplaint {
			return fault.New(fault.InvalidParameter, "Invalid suppression reason %q: must be BOUNCE or COMPLAINT.", r)
		}
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	slices.Sort(reasons)
	s.Reasons = reasons
	if v := s.Validation; v != nil {
		if v.ConditionThresholdEnabled != Enabled && v.ConditionThresholdEnabled != Disabled {
			return fault.New(fault.InvalidParameter, "Invalid ConditionThresholdEnabled %q: must be ENABLED or DISABLED.", v.ConditionThresholdEnabled)
		}
		switch v.ConfidenceVerdictThreshold {
		case "", "MEDIUM", "HIGH", "MANAGED":
		default:
			return fault.New(fault.InvalidParameter, "Invalid ConfidenceVerdictThreshold %q: must be MEDIUM, HIGH or MANAGED.", v.ConfidenceVerdictThreshold)
		}
	}
	return nil
}

func (v VDM) validate() error {
	for _, o := range []struct{ name, v string }{{"EngagementMetrics", v.EngagementMetrics}, {"OptimizedSharedDelivery", v.OptimizedSharedDelivery}} {
		if o.v != "" && o.v != Enabled && o.v != Disabled {
			return fault.New(fault.InvalidParameter, "Invalid %s %q: must be ENABLED or DISABLED.", o.name, o.v)
		}
	}
	return nil
}

func checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return fault.New(fault.InvalidParameter, "Too many tags: at most %d.", maxTags)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return fault.New(fault.InvalidParameter, "Invalid tag %q: keys are 1 to 128 characters, values at most 256.", t.Key)
		}
		if seen[t.Key] {
			return fault.New(fault.InvalidParameter, "Duplicate tag key %q.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// validDomain is a host name check: dot-separated labels of letters, digits
// and hyphens (RFC 1123 §2.1), at least two of them.
func validDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// arn is an Amazon Resource Name split into its parts:
// arn:partition:service:region:account-id:resource.
type arn struct{ partition, service, region, account, resource string }

func parseARN(s string) (arn, bool) {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] == "" || p[5] == "" || strings.ContainsFunc(s, isControl) {
		return arn{}, false
	}
	return arn{partition: p[1], service: p[2], region: p[3], account: p[4], resource: p[5]}, true
}

// checkARN accepts "" or a syntactically valid ARN.
func checkARN(s, member string) error {
	if s == "" {
		return nil
	}
	if _, ok := parseARN(s); !ok {
		return fault.New(fault.InvalidParameter, "Invalid %s %s: not an ARN.", member, s)
	}
	return nil
}

// clone returns a deep copy, so cached sets are never shared.
func (c *ConfigSet) clone() *ConfigSet {
	cp := *c
	if c.Tracking != nil {
		t := *c.Tracking
		cp.Tracking = &t
	}
	if c.Suppression != nil {
		s := Suppression{Reasons: slices.Clone(c.Suppression.Reasons)}
		if c.Suppression.Validation != nil {
			v := *c.Suppression.Validation
			s.Validation = &v
		}
		cp.Suppression = &s
	}
	cp.Tags = slices.Clone(c.Tags)
	return &cp
}

func notFound(name string) error {
	return fault.Named(fault.ConfigSetNotFound, name, "Configuration set <%s> does not exist.", name)
}
