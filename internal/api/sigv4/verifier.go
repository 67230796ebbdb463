// Package sigv4 verifies AWS Signature Version 4 on incoming API requests, in
// both the Authorization-header form and the presigned query form, and
// reports failures with SES's error kinds and texts (SES-BEHAVIOR.md §2).
//
// It is the server side of what aws-sdk-go-v2's aws/signer/v4 does on the
// client: the canonical request is rebuilt from the request exactly as
// received (non-S3 rules: the path encoded once more, no normalisation), the
// signing key is derived from the secret that Lookup returns, and the two
// signatures are compared in constant time.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultMaxSkew is SES's allowed clock skew for header-signed requests.
const DefaultMaxSkew = 5 * time.Minute

// Verifier checks SigV4 signatures for one region. Set the exported fields,
// then call Verify from any number of goroutines. A Verifier holds a signing
// key cache and must not be copied after first use.
type Verifier struct {
	// Region is the only region accepted in the credential scope.
	Region string
	// Services are the accepted scope services; the first is the one named
	// in the wrong-service message. Empty means {"ses"}.
	Services []string
	// Lookup returns the secret access key for an access key id, or an error
	// wrapping ErrUnknownKey when there is no such key. Any other error is
	// returned from Verify wrapped (an internal failure, not an auth one).
	Lookup func(ctx context.Context, accessKeyID string) (secret string, err error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is the allowed difference between the request date and Now;
	// zero means DefaultMaxSkew.
	MaxSkew time.Duration

	keys keyCache
}

// Result describes a request whose signature verified.
type Result struct {
	// AccessKeyID is the key that signed the request.
	AccessKeyID string
	// Service and Region are from the credential scope.
	Service, Region string
	// Presigned is true for the query-string form.
	Presigned bool
	// SessionToken is X-Amz-Security-Token, if sent (signed in both forms).
	// Verify does not check it; temporary credentials are the caller's.
	SessionToken string
	// Time is the request's signing time (X-Amz-Date or Date).
	Time time.Time
}

// Verify authenticates r, whose body the caller has already read into body
// (r.Body is not touched). It returns a *Error for every authentication
// failure, and another error only for a misconfigured Verifier or a Lookup
// failure other than ErrUnknownKey.
//
// Checks run in the order observed from AWS's request-authentication layer
// (SES-BEHAVIOR.md §2.2, §2.3): presence, completeness, date format, clock
// skew or expiry, signed headers, algorithm, credential shape, scope, access
// key, signature — so a stale request is "Signature expired" whatever else is
// wrong with it, which is what SDK clock-skew correction relies on.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (Result, error) {
	if v.Region == "" || v.Lookup == nil {
		return Result{}, errors.New("sigv4: Verifier needs Region and Lookup")
	}
	query := parseQuery(r.URL.RawQuery)
	authz := r.Header.Get(hdrAuthorization)
	_, hasAlg := queryGet(query, qAlgorithm)
	_, hasSig := queryGet(query, qSignature)
	switch {
	case authz != "" && hasAlg:
		return Result{}, newError(SignatureDoesNotMatch, msgBothForms)
	case authz != "":
		return v.verifyHeader(ctx, r, query, authz, body)
	case hasAlg || hasSig:
		return v.verifyPresigned(ctx, r, query, body)
	default:
		return Result{}, newError(MissingAuthenticationToken, msgMissingToken)
	}
}

// verifyHeader handles "Authorization: AWS4-HMAC-SHA256 Credential=…,
// SignedHeaders=…, Signature=…".
func (v *Verifier) verifyHeader(ctx context.Context, r *http.Request, query []queryPair, authz string, body []byte) (Result, error) {
	if !strings.HasPrefix(strings.TrimSpace(authz), "AWS4-") {
		// Another scheme (SigV2, Bearer, …) is no SigV4 token at all.
		return Result{}, newError(MissingAuthenticationToken, msgMissingToken)
	}
	a, perr := parseAuthorization(authz)
	if perr != nil {
		return Result{}, perr
	}
	date, hasDate, fromAmz, derr := requestDate(r.Header)
	if m := a.missing(); len(m) > 0 || !hasDate {
		if !hasDate {
			m = append(m, msgMissingDateHdr)
		}
		return Result{}, newError(IncompleteSignature, strings.Join(m, " "))
	}
	if derr != nil {
		return Result{}, derr
	}
	if err := v.checkSkew(date); err != nil {
		return Result{}, err
	}
	names := strings.Split(a.signedHeaders, ";")
	if !containsFold(names, "host") {
		return Result{}, newError(SignatureDoesNotMatch, msgHostNotSigned)
	}
	if fromAmz && !containsFold(names, hdrAmzDate) {
		return Result{}, newError(SignatureDoesNotMatch, msgDateNotSigned)
	}
	token := r.Header.Get(hdrSecurityToken)
	if token != "" && !containsFold(names, hdrSecurityToken) {
		return Result{}, newError(SignatureDoesNotMatch, msgTokenNotSigned)
	}
	return v.verifySignature(ctx, r, request{
		query: query, algorithm: a.algorithm, credential: a.credential,
		signedHeaders: a.signedHeaders, signature: a.signature,
		date: date, token: token,
	}, body)
}

// verifyPresigned handles the X-Amz-* query form.
func (v *Verifier) verifyPresigned(ctx context.Context, r *http.Request, query []queryPair, body []byte) (Result, error) {
	p, err := parsePresigned(query)
	if err != nil {
		return Result{}, err
	}
	date, err := parseAmzDate(p.date)
	if err != nil {
		return Result{}, err
	}
	if p.expires == 0 {
		// No X-Amz-Expires: hold it to the header form's window.
		if err := v.checkSkew(date); err != nil {
			return Result{}, err
		}
	} else {
		now := v.now()
		if now.Sub(date) > p.expires {
			return Result{}, errExpired(date, now, p.expires)
		}
		if skew := v.maxSkew(); date.Sub(now) > skew {
			return Result{}, errNotYetCurrent(date, now, skew)
		}
	}
	if !containsFold(strings.Split(p.signedHeaders, ";"), "host") {
		return Result{}, newError(SignatureDoesNotMatch, msgHostNotSigned)
	}
	return v.verifySignature(ctx, r, request{
		query: query, algorithm: p.algorithm, credential: p.credential,
		signedHeaders: p.signedHeaders, signature: p.signature,
		date: date, token: p.securityToken, presigned: true,
	}, body)
}

// request is what both forms hand to verifySignature.
type request struct {
	query                                           []queryPair
	algorithm, credential, signedHeaders, signature string
	token                                           string
	date                                            time.Time
	presigned                                       bool
}

// verifySignature checks the algorithm, the credential and its scope, looks
// the key up, and compares signatures (SES-BEHAVIOR.md §2.2 steps 2–5).
func (v *Verifier) verifySignature(ctx context.Context, r *http.Request, q request, body []byte) (Result, error) {
	if q.algorithm != algorithm {
		return Result{}, errBadAlgorithm(q.algorithm)
	}
	cred, err := parseCredential(q.credential)
	if err != nil {
		return Result{}, err
	}
	stamp := q.date.Format(amzDateLayout)
	service, serr := v.checkScope(cred, stamp)
	if serr != nil {
		return Result{}, serr
	}
	secret, lerr := v.lookup(ctx, cred.accessKeyID)
	if lerr != nil {
		return Result{}, lerr
	}
	hash, herr := payloadHash(r, body)
	if herr != nil {
		return Result{}, herr
	}
	canon, ok := canonicalRequest(r, q.query, q.signedHeaders, q.presigned, hash)
	if !ok {
		return Result{}, errSignatureMismatch()
	}
	canonSum := sha256.Sum256([]byte(canon))
	var sts strings.Builder
	sts.Grow(len(algorithm) + len(stamp) + 64 + 64)
	sts.WriteString(algorithm)
	sts.WriteByte('\n')
	sts.WriteString(stamp)
	sts.WriteByte('\n')
	sts.WriteString(cred.scope())
	sts.WriteByte('\n')
	sts.WriteString(hex.EncodeToString(canonSum[:]))

	key := v.keys.get(keyID{secret: secret, date: cred.date, region: cred.region, service: cred.service})
	want := hmacSHA256(key[:], sts.String())
	got, decErr := hex.DecodeString(q.signature)
	if decErr != nil || !hmac.Equal(got, want[:]) {
		return Result{}, errSignatureMismatch()
	}
	return Result{
		AccessKeyID:  cred.accessKeyID,
		Service:      service,
		Region:       cred.region,
		Presigned:    q.presigned,
		SessionToken: q.token,
		Time:         q.date,
	}, nil
}

// checkScope validates "<date>/<region>/<service>/aws4_request" against the
// request date and this Verifier, reporting every wrong element in one
// message as AWS does.
func (v *Verifier) checkScope(c credential, stamp string) (string, *Error) {
	services := v.services()
	var msg []string
	if c.region != v.Region {
		msg = append(msg, msgWrongRegion)
	}
	if !slices.Contains(services, c.service) {
		msg = append(msg, wrongServiceText(services[0]))
	}
	if c.terminator != terminator {
		msg = append(msg, wrongTerminatorText(c.terminator))
	}
	if c.date != stamp[:len(scopeDateLayout)] {
		msg = append(msg, scopeDateText(c.date, stamp[:len(scopeDateLayout)], stamp))
	}
	if len(msg) > 0 {
		return "", newError(SignatureDoesNotMatch, strings.Join(msg, " "))
	}
	return c.service, nil
}

func (v *Verifier) lookup(ctx context.Context, accessKeyID string) (string, error) {
	if accessKeyID == "" {
		return "", newError(InvalidClientTokenID, msgInvalidToken)
	}
	secret, err := v.Lookup(ctx, accessKeyID)
	switch {
	case errors.Is(err, ErrUnknownKey):
		return "", newError(InvalidClientTokenID, msgInvalidToken)
	case err != nil:
		return "", fmt.Errorf("sigv4: looking up access key: %w", err)
	case secret == "":
		// A key without a secret can sign nothing.
		return "", newError(InvalidClientTokenID, msgInvalidToken)
	}
	return secret, nil
}

// checkSkew rejects a request date more than MaxSkew from now
// (SES-BEHAVIOR.md §2.2 step 6).
func (v *Verifier) checkSkew(date time.Time) *Error {
	now, skew := v.now(), v.maxSkew()
	switch {
	case now.Sub(date) > skew:
		return errExpired(date, now, skew)
	case date.Sub(now) > skew:
		return errNotYetCurrent(date, now, skew)
	}
	return nil
}

// payloadHash is the hex SHA-256 of body. A hex X-Amz-Content-Sha256 header
// is honoured — it is what the client put in its canonical request — but it
// must match the body. Anything else in that header (UNSIGNED-PAYLOAD,
// STREAMING-…) is not accepted for SES: the body hash is used regardless,
// so such a signature cannot match.
func payloadHash(r *http.Request, body []byte) (string, *Error) {
	sum := sha256.Sum256(body)
	computed := hex.EncodeToString(sum[:])
	h := r.Header.Get(hdrContentSHA256)
	if len(h) != 2*sha256.Size {
		return computed, nil
	}
	if _, err := hex.DecodeString(h); err != nil {
		return computed, nil
	}
	if !strings.EqualFold(h, computed) {
		return "", errSignatureMismatch()
	}
	return h, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *Verifier) services() []string {
	if len(v.Services) > 0 {
		return v.Services
	}
	return []string{"ses"}
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
