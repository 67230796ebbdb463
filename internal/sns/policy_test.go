package sns_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/sns"
)

// schedule lists a policy's delays for retries 1…NumRetries, and checks
// that there is no retry after them.
func schedule(t *testing.T, p sns.RetryPolicy) []float64 {
	t.Helper()
	var out []float64
	for n := 1; n <= p.NumRetries; n++ {
		d, ok := p.Delay(n)
		if !ok {
			t.Fatalf("no retry %d of %d", n, p.NumRetries)
		}
		out = append(out, d)
	}
	if _, ok := p.Delay(p.NumRetries + 1); ok {
		t.Fatalf("a retry after the last (%d)", p.NumRetries)
	}
	return out
}

func TestRetryPolicyPhases(t *testing.T) {
	base := sns.RetryPolicy{MinDelayTarget: 2, MaxDelayTarget: 20, NumRetries: 9, NumNoDelayRetries: 2, NumMinDelayRetries: 1, NumMaxDelayRetries: 2}
	tests := []struct {
		backoff string
		want    []float64
	}{
		// 2 immediate, 1 at min, 4 backoff (j = 1…4 of 4), 2 at max.
		{"linear", []float64{0, 0, 2, 6.5, 11, 15.5, 20, 20, 20}},
		{"arithmetic", []float64{0, 0, 2, 2 + 18*2.0/20, 2 + 18*6.0/20, 2 + 18*12.0/20, 20, 20, 20}},
		{"exponential", []float64{0, 0, 2, 2, 4, 8, 16, 20, 20}},
	}
	for _, tt := range tests {
		p := base
		p.BackoffFunction = tt.backoff
		if err := p.Validate("p"); err != nil {
			t.Fatalf("%s: %v", tt.backoff, err)
		}
		got := schedule(t, p)
		for i := range got {
			if diff := got[i] - tt.want[i]; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("%s: retry %d waits %v, want %v (schedule %v)", tt.backoff, i+1, got[i], tt.want[i], got)
			}
		}
	}
	// geometric: a constant ratio from min to max over the backoff phase.
	p := base
	p.BackoffFunction = "geometric"
	got := schedule(t, p)
	ratio := got[4] / got[3]
	for i := 4; i < 7; i++ {
		if r := got[i] / got[i-1]; r-ratio > 1e-9 || ratio-r > 1e-9 {
			t.Errorf("geometric ratio %v at retry %d, want %v (schedule %v)", r, i+1, ratio, got)
		}
	}
	if got[6] != 20 {
		t.Errorf("geometric backoff ends at %v, want max 20", got[6])
	}
}

func TestDefaultRetryPolicy(t *testing.T) {
	p := sns.DefaultRetryPolicy()
	if err := p.Validate("default"); err != nil {
		t.Fatal(err)
	}
	got := schedule(t, p)
	total := 0.0
	for i, d := range got {
		total += d
		if i > 0 && d < got[i-1] {
			t.Errorf("retry %d waits less (%v) than the one before (%v)", i+1, d, got[i-1])
		}
	}
	if got[0] != 0 || got[2] != 0 || got[3] != 1 {
		t.Errorf("schedule starts %v, want 3 immediate retries then 1 s", got[:5])
	}
	// About a day of retries: more than 20 hours, less than two days.
	if total < 20*3600 || total > 48*3600 {
		t.Errorf("default policy retries for %.1f h", total/3600)
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	ok := sns.RetryPolicy{MinDelayTarget: 1, MaxDelayTarget: 10, NumRetries: 3, BackoffFunction: "linear"}
	bad := map[string]func(*sns.RetryPolicy){
		"numRetries":     func(p *sns.RetryPolicy) { p.NumRetries = 101 },
		"minDelayTarget": func(p *sns.RetryPolicy) { p.MinDelayTarget = 0 },
		"maxDelayTarget": func(p *sns.RetryPolicy) { p.MaxDelayTarget = 3601 },
		"min > max":      func(p *sns.RetryPolicy) { p.MinDelayTarget = 11 },
		"phases":         func(p *sns.RetryPolicy) { p.NumNoDelayRetries, p.NumMaxDelayRetries = 2, 2 },
		"backoff":        func(p *sns.RetryPolicy) { p.BackoffFunction = "cubic" },
	}
	if err := ok.Validate("p"); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range bad {
		p := ok
		mutate(&p)
		err := p.Validate("p")
		if !fault.Is(err, fault.InvalidParameter) || !strings.HasPrefix(err.Error(), "Invalid parameter: DeliveryPolicy: p.") {
			t.Errorf("%s: %v, want an InvalidParameter naming the policy", name, err)
		}
	}
}

// TestEffectiveDeliveryPolicy: a subscription's policy wins over its
// topic's unless the topic disables overrides; both are validated when set.
func TestEffectiveDeliveryPolicy(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(t)
	e.run()
	ctx := context.Background()
	topicARN, subARN := e.subscribe(t, rec, "policies")

	effective := func() (retries int, contentType string) {
		t.Helper()
		attrs, err := e.svc.SubscriptionAttributes(ctx, account, subARN)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			HealthyRetryPolicy sns.RetryPolicy `json:"healthyRetryPolicy"`
			RequestPolicy      struct {
				HeaderContentType string `json:"headerContentType"`
			} `json:"requestPolicy"`
		}
		if err := json.Unmarshal([]byte(attrs["EffectiveDeliveryPolicy"]), &p); err != nil {
			t.Fatalf("EffectiveDeliveryPolicy %q: %v", attrs["EffectiveDeliveryPolicy"], err)
		}
		return p.HealthyRetryPolicy.NumRetries, p.RequestPolicy.HeaderContentType
	}
	if n, ct := effective(); n != sns.DefaultRetryPolicy().NumRetries || ct != "text/plain; charset=UTF-8" {
		t.Errorf("default: %d retries, %q", n, ct)
	}
	topicPolicy := `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":7},"disableSubscriptionOverrides":false}}`
	if err := e.svc.SetTopicAttribute(ctx, account, topicARN, "DeliveryPolicy", topicPolicy); err != nil {
		t.Fatal(err)
	}
	if n, _ := effective(); n != 7 {
		t.Errorf("topic policy: %d retries, want 7", n)
	}
	subPolicy := `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":2},"requestPolicy":{"headerContentType":"application/json"}}`
	if err := e.svc.SetSubscriptionAttribute(ctx, account, subARN, "DeliveryPolicy", subPolicy); err != nil {
		t.Fatal(err)
	}
	if n, ct := effective(); n != 2 || ct != "application/json" {
		t.Errorf("subscription policy: %d retries, %q; want 2, application/json", n, ct)
	}
	if err := e.svc.SetTopicAttribute(ctx, account, topicARN, "DeliveryPolicy", strings.Replace(topicPolicy, `"disableSubscriptionOverrides":false`, `"disableSubscriptionOverrides":true`, 1)); err != nil {
		t.Fatal(err)
	}
	if n, ct := effective(); n != 7 || ct != "text/plain; charset=UTF-8" {
		t.Errorf("overrides disabled: %d retries, %q; want the topic's 7", n, ct)
	}
	for _, bad := range []string{`{"http":{"defaultHealthyRetryPolicy":{"numRetries":500}}}`, `{"htp":{}}`, `not json`} {
		if err := e.svc.SetTopicAttribute(ctx, account, topicARN, "DeliveryPolicy", bad); !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("topic DeliveryPolicy %s: %v, want InvalidParameter", bad, err)
		}
	}
	if err := e.svc.SetSubscriptionAttribute(ctx, account, subARN, "DeliveryPolicy", `{"requestPolicy":{"headerContentType":"image/png"}}`); !fault.Is(err, fault.InvalidParameter) {
		t.Errorf("subscription content type image/png: %v, want InvalidParameter", err)
	}
}
