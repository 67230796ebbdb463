package sigv4

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestKeyCacheBounded: the cache never holds more than two generations, and
// a hot key survives generation turnover.
func TestKeyCacheBounded(t *testing.T) {
	var c keyCache
	hot := keyID{secret: "hot", date: "20240101", region: "us-east-1", service: "ses"}
	want := deriveKey(hot.secret, hot.date, hot.region, hot.service)
	for i := range 5 * keyCacheGeneration {
		c.get(keyID{secret: fmt.Sprint("s", i), date: "20240101", region: "us-east-1", service: "ses"})
		if got := c.get(hot); got != want {
			t.Fatalf("hot key changed after %d insertions", i)
		}
		if n := c.len(); n > 2*keyCacheGeneration {
			t.Fatalf("cache holds %d keys, bound is %d", n, 2*keyCacheGeneration)
		}
	}
}

// TestRotatedSecret: the cache is keyed by secret, so after rotation the old
// secret's signatures fail and the new one's pass.
func TestRotatedSecret(t *testing.T) {
	secrets := map[string]string{testAKID: testSecret}
	v := newVerifier(signTime)
	v.Lookup = keys(secrets)
	r, body := signedV1(t, defaultSigning())
	if _, err := v.Verify(context.Background(), r, body); err != nil {
		t.Fatal(err)
	}
	secrets[testAKID] = "rotatedSecretrotatedSecretrotatedSecret00"
	wantErr(t, verifyErr(t, v, r, body), SignatureDoesNotMatch, msgSignatureDiffer)
	s := defaultSigning()
	s.secret = secrets[testAKID]
	r, body = signedV1(t, s)
	if _, err := v.Verify(context.Background(), r, body); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyConcurrent exercises one Verifier from many goroutines (run with
// -race), with access keys that share cache entries and keys that do not.
func TestVerifyConcurrent(t *testing.T) {
	const workers, rounds = 8, 50
	secrets := map[string]string{}
	for i := range 3 {
		secrets[fmt.Sprintf("AKID%04d", i)] = fmt.Sprintf("secret-%d", i)
	}
	type signed struct {
		r    *http.Request
		body []byte
		akid string
	}
	reqs := make([]signed, workers)
	for i := range reqs {
		s := defaultSigning()
		s.akid = fmt.Sprintf("AKID%04d", i%3)
		s.secret = secrets[s.akid]
		r, body := signedV1(t, s)
		reqs[i] = signed{r, body, s.akid}
	}
	v := newVerifier(signTime)
	v.Lookup = keys(secrets)

	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for _, s := range reqs {
		wg.Go(func() {
			for range rounds {
				res, err := v.Verify(context.Background(), s.r, s.body)
				if err == nil && res.AccessKeyID != s.akid {
					err = fmt.Errorf("AccessKeyID %q, want %q", res.AccessKeyID, s.akid)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := v.keys.len(); n != 3 {
		t.Errorf("cache holds %d keys, want one per secret (3)", n)
	}
}
