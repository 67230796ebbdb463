package sigv4

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The canonical request of SES-BEHAVIOR.md §2.2 step 2 (AWS General
// Reference, "Create a canonical request for Signature Version 4"):
//
//	METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HexPayloadHash

// canonicalRequest builds the canonical request of r. signedHeaders is the
// list exactly as the client sent it; names are looked up case-insensitively
// and written as given. skipSignature drops X-Amz-Signature from the query
// (presigned form). It fails only when a signed header is absent.
func canonicalRequest(r *http.Request, query []queryPair, signedHeaders string, skipSignature bool, payloadHash string) (string, bool) {
	var b strings.Builder
	b.Grow(256 + len(r.URL.RawQuery))
	b.WriteString(r.Method)
	b.WriteByte('\n')
	escapePath(&b, requestPath(r))
	b.WriteByte('\n')
	writeCanonicalQuery(&b, query, skipSignature)
	b.WriteByte('\n')
	if !writeCanonicalHeaders(&b, r, signedHeaders) {
		return "", false
	}
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), true
}

// requestPath is the path exactly as the client sent it, still
// percent-encoded: the request-target of a server request, else the URL's
// escaped path (a request built in-process). Empty means "/".
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if strings.HasPrefix(p, "/") {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return p
	}
	// Absolute-form, "*" or an in-process request: the URL's own view.
	if r.URL.Opaque != "" {
		// "//host/path" opaque form, as aws-sdk-go-v2's GetURIPath reads it.
		o := strings.TrimPrefix(r.URL.Opaque, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:]
		}
		return "/"
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// escapePath URI-encodes a path once more, keeping '/' and the RFC 3986
// unreserved characters. SES is not S3, so the already-encoded path is
// encoded again: "/a%40b" becomes "/a%2540b" (SES-BEHAVIOR.md §2.2).
func escapePath(b *strings.Builder, p string) {
	if p == "" {
		p = "/"
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

const upperHex = "0123456789ABCDEF"

// isUnreserved reports RFC 3986 §2.3 unreserved characters.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// queryPair is one decoded query parameter, in request order.
type queryPair struct{ key, value string }

// parseQuery splits a raw query into decoded pairs. It accepts everything:
// "+" is a space (as AWS and the SDKs treat it), a parameter without "=" has
// an empty value, and a component with a broken %-escape is kept literally
// (it then re-encodes to something the client cannot have signed).
func parseQuery(raw string) []queryPair {
	if raw == "" {
		return nil
	}
	pairs := make([]queryPair, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		pairs = append(pairs, queryPair{unescapeQuery(k), unescapeQuery(v)})
	}
	return pairs
}

func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// queryGet returns the first value of key, like url.Values.Get.
func queryGet(pairs []queryPair, key string) (string, bool) {
	for _, p := range pairs {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// writeCanonicalQuery writes the canonical query string: each name and value
// URI-encoded (space as %20, "~" kept), sorted by encoded name then encoded
// value — sorting after encoding, as SigV4 requires — joined by "&".
func writeCanonicalQuery(b *strings.Builder, pairs []queryPair, skipSignature bool) {
	enc := make([]queryPair, 0, len(pairs))
	for _, p := range pairs {
		if skipSignature && p.key == qSignature {
			continue
		}
		enc = append(enc, queryPair{encodeQuery(p.key), encodeQuery(p.value)})
	}
	slices.SortFunc(enc, func(x, y queryPair) int {
		return cmp.Or(strings.Compare(x.key, y.key), strings.Compare(x.value, y.value))
	})
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
}

// encodeQuery percent-encodes everything outside the unreserved set.
func encodeQuery(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	buf := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			buf = append(buf, c)
		} else {
			buf = append(buf, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return string(buf)
}

// writeCanonicalHeaders writes "name:value\n" for each signed header in the
// order given. Values are trimmed, inner runs of spaces collapsed, and
// repeated headers joined with ",". Host comes from the request line or Host
// header (which net/http moves to r.Host); Content-Length, which net/http may
// hold only in r.ContentLength, from there. It reports false when a signed
// header is absent from the request.
func writeCanonicalHeaders(b *strings.Builder, r *http.Request, signedHeaders string) bool {
	for name := range strings.SplitSeq(signedHeaders, ";") {
		b.WriteString(name)
		b.WriteByte(':')
		switch {
		case strings.EqualFold(name, "host"):
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			if host == "" {
				return false
			}
			writeHeaderValue(b, host)
		default:
			vals := r.Header.Values(name)
			if len(vals) == 0 && strings.EqualFold(name, "content-length") && r.ContentLength >= 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
			if len(vals) == 0 {
				return false
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(',')
				}
				writeHeaderValue(b, v)
			}
		}
		b.WriteByte('\n')
	}
	return true
}

// writeHeaderValue writes v trimmed of surrounding whitespace with every run
// of spaces collapsed to one.
func writeHeaderValue(b *strings.Builder, v string) {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
}
