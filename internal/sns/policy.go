package sns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime"
)

// Delivery policies, in SNS's DeliveryPolicy JSON ("Amazon SNS message
// delivery retries", SNS Developer Guide). A topic's policy is
//
//	{"http": {"defaultHealthyRetryPolicy": {…}, "disableSubscriptionOverrides": false,
//	          "defaultThrottlePolicy": {…}, "defaultRequestPolicy": {"headerContentType": "…"}}}
//
// and a subscription's
//
//	{"healthyRetryPolicy": {…}, "throttlePolicy": {…}, "requestPolicy": {"headerContentType": "…"}}
//
// Sesame applies the retry policy and the request content type; the
// throttle policy is validated and stored but not enforced.

// RetryPolicy is SNS's healthyRetryPolicy. After a failed attempt, retry n
// (1-based, up to NumRetries) waits:
//
//	n ≤ NumNoDelayRetries                          no delay
//	… the next NumMinDelayRetries                  MinDelayTarget
//	… the backoff phase (the retries left over)    MinDelayTarget → MaxDelayTarget
//	… the last NumMaxDelayRetries                  MaxDelayTarget
//
// AWS does not publish the backoff curves; Sesame's, for backoff retry j of
// m with f = j/m, are: linear min+(max−min)·f; arithmetic min+(max−min)·
// j(j+1)/(m(m+1)) (steps that grow by a constant amount); geometric
// min·(max/min)^f (a constant ratio); exponential min·2^(j−1) (doubling),
// each capped at MaxDelayTarget. Delays are in seconds.
type RetryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// DefaultRetryPolicy is Sesame's policy for topics and subscriptions that
// set none [Sesame choice]. AWS's HTTP default (3 retries 20 s apart) loses
// an event after a minute of subscriber downtime; Sesame's: 3 immediate
// retries, 2 after 1 s, then doubling from 1 s to an hour, then hourly — 41
// attempts over about a day, like SES's own retry horizon for mail.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MinDelayTarget: 1, MaxDelayTarget: 3600, NumRetries: 40,
		NumNoDelayRetries: 3, NumMinDelayRetries: 2, NumMaxDelayRetries: 10,
		BackoffFunction: "exponential",
	}
}

// SNS's limits on a retry policy.
const (
	maxRetries     = 100
	maxDelayTarget = 3600
)

// Validate checks p against SNS's limits; what names the policy in the
// message (e.g. "healthyRetryPolicy").
func (p RetryPolicy) Validate(what string) error {
	bad := func(format string, args ...any) error {
		return invalid("DeliveryPolicy: %s.%s", what, fmt.Sprintf(format, args...))
	}
	switch {
	case p.NumRetries < 0 || p.NumRetries > maxRetries:
		return bad("numRetries must be between 0 and %d", maxRetries)
	case p.MinDelayTarget < 1:
		return bad("minDelayTarget must be greater than or equal to 1")
	case p.MaxDelayTarget > maxDelayTarget:
		return bad("maxDelayTarget must be less than or equal to %d", maxDelayTarget)
	case p.MinDelayTarget > p.MaxDelayTarget:
		return bad("minDelayTarget must be less than or equal to maxDelayTarget")
	case p.NumNoDelayRetries < 0 || p.NumMinDelayRetries < 0 || p.NumMaxDelayRetries < 0:
		return bad("the retry counts must not be negative")
	case p.NumNoDelayRetries+p.NumMinDelayRetries+p.NumMaxDelayRetries > p.NumRetries:
		return bad("numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries")
	}
	switch p.BackoffFunction {
	case "", "linear", "arithmetic", "geometric", "exponential": // "": linear, SNS's default
		return nil
	}
	return bad("backoffFunction must be one of linear, arithmetic, geometric, exponential")
}

// normalized spells out SNS's default backoff function.
func (p RetryPolicy) normalized() RetryPolicy {
	if p.BackoffFunction == "" {
		p.BackoffFunction = "linear"
	}
	return p
}

// Delay returns how many seconds retry n (1-based) waits after the failed
// attempt before it; ok is false when the policy has no retry n.
func (p RetryPolicy) Delay(n int) (seconds float64, ok bool) {
	if n < 1 || n > p.NumRetries {
		return 0, false
	}
	lo, hi := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	backoff := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	switch {
	case n <= p.NumNoDelayRetries:
		return 0, true
	case n <= p.NumNoDelayRetries+p.NumMinDelayRetries:
		return lo, true
	case n > p.NumRetries-p.NumMaxDelayRetries:
		return hi, true
	}
	j := float64(n - p.NumNoDelayRetries - p.NumMinDelayRetries) // 1…backoff
	m := float64(backoff)
	var d float64
	switch p.BackoffFunction {
	case "arithmetic":
		d = lo + (hi-lo)*j*(j+1)/(m*(m+1))
	case "geometric":
		d = lo * math.Pow(hi/lo, j/m)
	case "exponential":
		d = lo * math.Pow(2, j-1)
	default: // linear
		d = lo + (hi-lo)*j/m
	}
	return math.Min(d, hi), true
}

// throttlePolicy and requestPolicy are the other parts of a policy.
type throttlePolicy struct {
	MaxReceivesPerSecond int `json:"maxReceivesPerSecond"`
}

type requestPolicy struct {
	HeaderContentType string `json:"headerContentType"`
}

// defaultContentType is what SNS sends HTTP(S) subscribers.
const defaultContentType = "text/plain; charset=UTF-8"

type topicHTTPPolicy struct {
	DefaultHealthyRetryPolicy    *RetryPolicy    `json:"defaultHealthyRetryPolicy,omitempty"`
	DisableSubscriptionOverrides bool            `json:"disableSubscriptionOverrides"`
	DefaultThrottlePolicy        *throttlePolicy `json:"defaultThrottlePolicy,omitempty"`
	DefaultRequestPolicy         *requestPolicy  `json:"defaultRequestPolicy,omitempty"`
}

type topicPolicy struct {
	HTTP *topicHTTPPolicy `json:"http,omitempty"`
}

type subscriptionPolicy struct {
	HealthyRetryPolicy *RetryPolicy    `json:"healthyRetryPolicy,omitempty"`
	ThrottlePolicy     *throttlePolicy `json:"throttlePolicy,omitempty"`
	RequestPolicy      *requestPolicy  `json:"requestPolicy,omitempty"`
}

// decodePolicy parses a DeliveryPolicy document strictly; "" is no policy.
func decodePolicy(text string, into any) error {
	if text == "" {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader([]byte(text)))
	d.DisallowUnknownFields()
	if err := d.Decode(into); err != nil {
		return invalid("DeliveryPolicy: %v", err)
	}
	if d.More() {
		return invalid("DeliveryPolicy: trailing data after the JSON object")
	}
	return nil
}

// parseTopicPolicy validates a topic's DeliveryPolicy.
func parseTopicPolicy(text string) (topicPolicy, error) {
	var p topicPolicy
	if err := decodePolicy(text, &p); err != nil {
		return p, err
	}
	if p.HTTP == nil {
		return p, nil
	}
	if rp := p.HTTP.DefaultHealthyRetryPolicy; rp != nil {
		if err := rp.Validate("http.defaultHealthyRetryPolicy"); err != nil {
			return p, err
		}
	}
	if err := validateThrottle(p.HTTP.DefaultThrottlePolicy, "http.defaultThrottlePolicy"); err != nil {
		return p, err
	}
	return p, validateRequest(p.HTTP.DefaultRequestPolicy, "http.defaultRequestPolicy")
}

// parseSubscriptionPolicy validates a subscription's DeliveryPolicy.
func parseSubscriptionPolicy(text string) (subscriptionPolicy, error) {
	var p subscriptionPolicy
	if err := decodePolicy(text, &p); err != nil {
		return p, err
	}
	if p.HealthyRetryPolicy != nil {
		if err := p.HealthyRetryPolicy.Validate("healthyRetryPolicy"); err != nil {
			return p, err
		}
	}
	if err := validateThrottle(p.ThrottlePolicy, "throttlePolicy"); err != nil {
		return p, err
	}
	return p, validateRequest(p.RequestPolicy, "requestPolicy")
}

func validateThrottle(t *throttlePolicy, what string) error {
	if t != nil && t.MaxReceivesPerSecond < 1 {
		return invalid("DeliveryPolicy: %s.maxReceivesPerSecond must be greater than or equal to 1", what)
	}
	return nil
}

// validateRequest allows the content types SNS lets a policy choose.
func validateRequest(r *requestPolicy, what string) error {
	if r == nil {
		return nil
	}
	mt, _, err := mime.ParseMediaType(r.HeaderContentType)
	if err == nil {
		switch mt {
		case "text/plain", "application/json", "application/xml":
			return nil
		}
	}
	return invalid("DeliveryPolicy: %s.headerContentType %q is not supported", what, r.HeaderContentType)
}

// effectivePolicy is what applies to one subscription's deliveries.
type effectivePolicy struct {
	Retry       RetryPolicy
	ContentType string
	Throttle    *throttlePolicy
}

// effective combines a topic's and a subscription's policies (both already
// validated when set) over def: the subscription's parts win unless the
// topic disables overrides. A member a retry policy leaves out is 0, as in
// SNS (minDelayTarget, maxDelayTarget and numRetries must be given).
func effective(topicText, subText string, def RetryPolicy) effectivePolicy {
	e := effectivePolicy{Retry: def, ContentType: defaultContentType}
	tp, _ := parseTopicPolicy(topicText)
	sp, _ := parseSubscriptionPolicy(subText)
	overrides := true
	if h := tp.HTTP; h != nil {
		if rp := h.DefaultHealthyRetryPolicy; rp != nil {
			e.Retry = rp.normalized()
		}
		if h.DefaultRequestPolicy != nil {
			e.ContentType = h.DefaultRequestPolicy.HeaderContentType
		}
		e.Throttle = h.DefaultThrottlePolicy
		overrides = !h.DisableSubscriptionOverrides
	}
	if overrides {
		if rp := sp.HealthyRetryPolicy; rp != nil {
			e.Retry = rp.normalized()
		}
		if sp.RequestPolicy != nil {
			e.ContentType = sp.RequestPolicy.HeaderContentType
		}
		if sp.ThrottlePolicy != nil {
			e.Throttle = sp.ThrottlePolicy
		}
	}
	return e
}

// topicJSON renders the EffectiveDeliveryPolicy attribute of a topic.
func (e effectivePolicy) topicJSON(disableOverrides bool) string {
	return mustJSON(topicPolicy{HTTP: &topicHTTPPolicy{
		DefaultHealthyRetryPolicy:    &e.Retry,
		DisableSubscriptionOverrides: disableOverrides,
		DefaultThrottlePolicy:        e.Throttle,
		DefaultRequestPolicy:         &requestPolicy{HeaderContentType: e.ContentType},
	}})
}

// subscriptionJSON renders the EffectiveDeliveryPolicy of a subscription.
func (e effectivePolicy) subscriptionJSON() string {
	return mustJSON(subscriptionPolicy{
		HealthyRetryPolicy: &e.Retry,
		ThrottlePolicy:     e.Throttle,
		RequestPolicy:      &requestPolicy{HeaderContentType: e.ContentType},
	})
}

// mustJSON marshals values built from plain structs and maps, which cannot
// fail.
func mustJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}
