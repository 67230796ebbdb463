// Package awsquery is the AWS Query protocol codec of the SES v1 API
// (2010-12-01): it binds form parameters (POST / body or GET query string) to
// the generated v1wire input shapes, renders outputs as the XML
// <OpResponse> documents SDKs parse, and renders *apierr.Error as
// <ErrorResponse>. Everything is driven by the generated `aws` struct tags;
// see SES-BEHAVIOR.md §1.2 for the wire rules followed here.
package awsquery

import (
	"mime"
	"net/http"
	"net/url"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsproto"
)

// The SES v1 protocol constants (model metadata.apiVersion, xmlNamespace).
const (
	Version   = "2010-12-01"
	Namespace = "http://ses.amazonaws.com/doc/2010-12-01/"
)

// ParseForm returns the parameters of a Query request: the URL query string
// merged with, for POST, the form-encoded body (read by the caller, who
// bounds its size). A body that is not form-encoded or does not parse is a
// MalformedQueryString error.
func ParseForm(r *http.Request, body []byte) (url.Values, error) {
	form, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, MalformedQueryString(err)
	}
	if r.Method != http.MethodPost || len(body) == 0 {
		return form, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, apierr.New(400, "MalformedQueryString", "The request body must be application/x-www-form-urlencoded.")
		}
	}
	bodyForm, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, MalformedQueryString(err)
	}
	for k, vs := range bodyForm {
		form[k] = append(form[k], vs...)
	}
	return form, nil
}

// Resolve finds the operation a request names with its Action parameter and
// checks its Version parameter; lookup is the wire package's
// LookupOperation. A missing Version is tolerated, as AWS does for SES.
func Resolve(form url.Values, lookup func(string) (awsproto.Operation, bool)) (awsproto.Operation, error) {
	action := form.Get("Action")
	if action == "" {
		return awsproto.Operation{}, MissingAction()
	}
	if v := form.Get("Version"); v != "" && v != Version {
		return awsproto.Operation{}, NoSuchVersion(v)
	}
	op, ok := lookup(action)
	if !ok {
		return awsproto.Operation{}, InvalidAction(action)
	}
	return op, nil
}
