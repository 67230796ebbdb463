package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Wire names (AWS General Reference, "Signature Version 4 signing process").
const (
	algorithm       = "AWS4-HMAC-SHA256"
	terminator      = "aws4_request"
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"

	hdrAuthorization = "Authorization"
	hdrAmzDate       = "X-Amz-Date"
	hdrDate          = "Date"
	hdrSecurityToken = "X-Amz-Security-Token"
	hdrContentSHA256 = "X-Amz-Content-Sha256"

	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qSecurityToken = "X-Amz-Security-Token"

	// maxPresignExpires is SigV4's one-week ceiling on X-Amz-Expires.
	maxPresignExpires = 604800
)

// authorization is a parsed "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…" header. A component that was absent has its has* flag false;
// present-but-empty components are kept empty (AWS accepts an empty
// SignedHeaders at parse time and fails it later on the host check).
type authorization struct {
	algorithm     string
	credential    string
	signedHeaders string
	signature     string

	hasCredential, hasSignedHeaders, hasSignature bool
}

// parseAuthorization parses the Authorization header. Components are
// separated by commas and/or whitespace, in any order; unknown components are
// ignored and a repeated one keeps its last value. It fails only when a
// component has no '='; missing components are reported by missing().
func parseAuthorization(h string) (authorization, *Error) {
	var a authorization
	h = strings.TrimSpace(h)
	alg, rest, _ := strings.Cut(h, " ")
	a.algorithm = alg
	for rest != "" {
		var part string
		part, rest = nextAuthPart(rest)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return authorization{}, errNoEqualSign(key, h)
		}
		switch key {
		case "Credential":
			a.credential, a.hasCredential = value, true
		case "SignedHeaders":
			a.signedHeaders, a.hasSignedHeaders = value, true
		case "Signature":
			a.signature, a.hasSignature = value, true
		}
	}
	return a, nil
}

// nextAuthPart splits off the first component of s at a comma, space or tab.
func nextAuthPart(s string) (part, rest string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == ' ' || c == '\t' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// missing lists, in AWS's order and wording, what an Authorization header
// lacks.
func (a authorization) missing() []string {
	var m []string
	if !a.hasCredential || a.credential == "" {
		m = append(m, "Authorization header requires 'Credential' parameter.")
	}
	if !a.hasSignature || a.signature == "" {
		m = append(m, "Authorization header requires 'Signature' parameter.")
	}
	if !a.hasSignedHeaders {
		m = append(m, "Authorization header requires 'SignedHeaders' parameter.")
	}
	return m
}

// credential is "<AKID>/<YYYYMMDD>/<region>/<service>/aws4_request".
type credential struct {
	accessKeyID, date, region, service, terminator string
}

// scope is the credential scope of the string to sign.
func (c credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + c.terminator
}

// parseCredential splits a credential into its five elements. Trailing
// slashes are ignored, as AWS does.
func parseCredential(s string) (credential, *Error) {
	parts := strings.Split(strings.TrimRight(s, "/"), "/")
	if len(parts) != 5 {
		return credential{}, errBadCredential(s)
	}
	return credential{parts[0], parts[1], parts[2], parts[3], parts[4]}, nil
}

// parseAmzDate parses an ISO-8601 basic-format timestamp (X-Amz-Date).
func parseAmzDate(s string) (time.Time, *Error) {
	t, err := time.Parse(amzDateLayout, s)
	if err != nil || len(s) != len(amzDateLayout) {
		return time.Time{}, errBadDate(s)
	}
	return t, nil
}

// requestDate finds the request time of a header-signed request:
// X-Amz-Date, else Date. Date may be ISO-8601 basic format or an HTTP date
// (RFC 9110 §5.6.7); either way the string to sign carries the basic format.
// fromAmz reports whether X-Amz-Date was used.
func requestDate(h http.Header) (t time.Time, present, fromAmz bool, err *Error) {
	if v := h.Get(hdrAmzDate); v != "" {
		t, err = parseAmzDate(v)
		return t, true, true, err
	}
	v := h.Get(hdrDate)
	if v == "" {
		return time.Time{}, false, false, nil
	}
	if t, perr := parseAmzDate(v); perr == nil {
		return t, true, false, nil
	}
	if t, perr := http.ParseTime(v); perr == nil {
		return t.UTC(), true, false, nil
	}
	return time.Time{}, true, false, errBadDate(v)
}

// presigned holds the X-Amz-* parameters of a query-signed request.
type presigned struct {
	algorithm, credential, date, signedHeaders, signature, securityToken string
	expires                                                              time.Duration // 0 when X-Amz-Expires is absent
}

// parsePresigned reads the presigned parameters from a decoded query. Every
// one of the five required parameters that is missing or empty is reported
// in one message, as AWS does.
func parsePresigned(q []queryPair) (presigned, *Error) {
	get := func(k string) string { v, _ := queryGet(q, k); return v }
	p := presigned{
		algorithm:     get(qAlgorithm),
		credential:    get(qCredential),
		date:          get(qDate),
		signedHeaders: get(qSignedHeaders),
		signature:     get(qSignature),
		securityToken: get(qSecurityToken),
	}
	var msg []string
	for _, f := range []struct{ name, v string }{
		{qAlgorithm, p.algorithm}, {qCredential, p.credential}, {qSignature, p.signature},
		{qSignedHeaders, p.signedHeaders}, {qDate, p.date},
	} {
		if f.v == "" {
			msg = append(msg, "AWS query-string parameters must include '"+f.name+"'.")
		}
	}
	if len(msg) > 0 {
		msg = append(msg, msgReexamineQuery)
		return presigned{}, newError(IncompleteSignature, strings.Join(msg, " "))
	}
	if v, ok := queryGet(q, qExpires); ok {
		d, err := parseExpires(v)
		if err != nil {
			return presigned{}, err
		}
		p.expires = d
	}
	return p, nil
}

// parseExpires validates X-Amz-Expires: whole seconds in 1..604800. The
// texts follow S3's for the same checks [Sesame: SES's are unknown].
func parseExpires(s string) (time.Duration, *Error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return 0, newError(IncompleteSignature, "X-Amz-Expires should be a number")
	case n < 1:
		return 0, newError(IncompleteSignature, "X-Amz-Expires must be greater than zero")
	case n > maxPresignExpires:
		return 0, newError(IncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	return time.Duration(n) * time.Second, nil
}
