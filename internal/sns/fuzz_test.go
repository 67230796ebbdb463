package sns

import "testing"

// FuzzARN: ARN parsing never panics, and what parses formats back to the
// same text.
func FuzzARN(f *testing.F) {
	f.Add("arn:aws:sns:us-east-1:123456789012:events")
	f.Add("arn:aws:sns:us-east-1:123456789012:events:3f1b8ab5-2a5b-4a1e-9e55-b1c1bd4d0c43")
	f.Add("arn:aws:sns:::")
	f.Fuzz(func(t *testing.T, s string) {
		if r, ok := parseTopicARN(s); ok && r.arn() != s {
			t.Errorf("topic %q formats as %q", s, r.arn())
		}
		if r, ok := parseSubscriptionARN(s); ok && r.arn() != s {
			t.Errorf("subscription %q formats as %q", s, r.arn())
		}
	})
}

// FuzzDeliveryPolicy: any policy document is accepted or refused with an
// error; an accepted retry policy yields finite, ordered-phase delays.
func FuzzDeliveryPolicy(f *testing.F) {
	f.Add(`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":60,"numRetries":10,"backoffFunction":"geometric"}}}`)
	f.Add(`{"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":5,"numRetries":3,"numMaxDelayRetries":3},"requestPolicy":{"headerContentType":"application/json"}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		tp, err1 := parseTopicPolicy(doc)
		sp, err2 := parseSubscriptionPolicy(doc)
		if err1 != nil && err2 != nil {
			return
		}
		var policies []*RetryPolicy
		if err1 == nil && tp.HTTP != nil {
			policies = append(policies, tp.HTTP.DefaultHealthyRetryPolicy)
		}
		if err2 == nil {
			policies = append(policies, sp.HealthyRetryPolicy)
		}
		for _, p := range policies {
			if p == nil {
				continue
			}
			for n := 1; n <= p.NumRetries; n++ {
				d, ok := p.Delay(n)
				if !ok || d < 0 || d > float64(p.MaxDelayTarget) || d != d {
					t.Fatalf("%s: retry %d: %v %v", doc, n, d, ok)
				}
			}
		}
	})
}
