package tracking

import (
	"html"
	"net/url"
	"strings"
)

// HTTPS policies of TrackingOptions.HttpsPolicy (v2 HttpsPolicy).
const (
	HTTPSRequire         = "REQUIRE"
	HTTPSRequireOpenOnly = "REQUIRE_OPEN_ONLY"
	HTTPSOptional        = "OPTIONAL"
)

// Paths of the tracking endpoints; the token follows.
const (
	OpenPath  = "/t/open/"
	ClickPath = "/t/click/"
)

// Options say how one message is tracked.
type Options struct {
	MessageID string
	// BaseURL is where the tracking endpoints are served when there is no
	// custom redirect domain: Sesame's public URL, e.g. "https://ses.example.com".
	BaseURL string
	// Domain is the configuration set's CustomRedirectDomain; "" uses BaseURL.
	// The domain must route to Sesame's HTTP listener.
	Domain string
	// HTTPSPolicy chooses the scheme of links on Domain (TrackingOptions
	// HttpsPolicy): REQUIRE, https for both; REQUIRE_OPEN_ONLY, https for
	// the pixel and the original link's scheme for clicks; OPTIONAL (or ""),
	// http for the pixel and the original link's scheme for clicks. BaseURL
	// keeps its own scheme.
	HTTPSPolicy string
	// Open adds the pixel; Click rewrites links.
	Open, Click bool
}

// Result is a rewritten message.
type Result struct {
	Data   []byte // the message; the input itself when nothing changed
	Links  int    // links rewritten
	Pixels int    // pixels added (one per HTML part)
}

// Rewrite applies open and click tracking to the HTML parts of a MIME
// message (RFC 2045, RFC 2046). Text parts, attachments (Content-Disposition:
// attachment), signed or encrypted multiparts (RFC 1847: changing them would
// break the signature) and parts it cannot decode are left alone. A part it
// changes is re-encoded as quoted-printable; every other byte of the message
// is kept. It never fails: what it cannot read it does not track.
func (s *Signer) Rewrite(msg []byte, o Options) Result {
	if !o.Open && !o.Click {
		return Result{Data: msg}
	}
	w := walker{edit: s.edit(o)}
	out := w.entity(msg, 0)
	return Result{Data: out, Links: w.stats.links, Pixels: w.stats.pixels}
}

// edit makes the HTML edit of a message: its pixel and its link rewriting.
func (s *Signer) edit(o Options) htmlEdit {
	var e htmlEdit
	if o.Open {
		u := o.base(o.HTTPSPolicy == HTTPSRequire || o.HTTPSPolicy == HTTPSRequireOpenOnly, "http") + OpenPath + s.OpenToken(o.MessageID)
		// SES's pixel: a 1×1 image, hidden, at the end of the body.
		e.pixel = []byte(`<img alt="" src="` + html.EscapeString(u) + `" width="1" height="1" border="0" style="display: none; width: 1px; height: 1px;">`)
	}
	if o.Click {
		e.click = func(l Link, scheme string) (string, bool) {
			return o.base(o.HTTPSPolicy == HTTPSRequire, scheme) + ClickPath + s.ClickToken(o.MessageID, l), true
		}
	}
	return e
}

// base is the URL prefix of tracking links: BaseURL, or the custom domain
// with https when forced and scheme otherwise.
func (o Options) base(forceHTTPS bool, scheme string) string {
	if o.Domain == "" {
		return strings.TrimSuffix(o.BaseURL, "/")
	}
	if forceHTTPS {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: o.Domain}).String()
}
