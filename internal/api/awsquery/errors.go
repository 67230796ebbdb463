package awsquery

import (
	"net/http"
	"strconv"

	"github.com/sesamehq/sesame/internal/api/apierr"
)

// WriteError renders e as a Query <ErrorResponse> with e.Status (400 for a
// sender fault and 500 otherwise when unset); e's Fields become extra
// elements of <Error>, which SDKs read into the modelled exception (e.g.
// <Name> of AlreadyExists). A nil e is written as InternalFailure.
func WriteError(w http.ResponseWriter, e *apierr.Error, requestID string) {
	if e == nil {
		e = InternalFailure()
	}
	body := MarshalError(e, requestID)
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
		if e.Sender {
			status = http.StatusBadRequest
		}
	}
	writeXML(w, status, body, requestID)
}

// MarshalError returns the <ErrorResponse> document for e.
func MarshalError(e *apierr.Error, requestID string) []byte {
	var x xmlWriter
	x.openNS("ErrorResponse")
	x.open("Error")
	typ := "Receiver"
	if e.Sender {
		typ = "Sender"
	}
	x.leaf("Type", typ)
	x.leaf("Code", e.Code)
	x.leaf("Message", e.Message)
	for _, f := range e.Fields {
		if isXMLName(f.Name) {
			x.leaf(f.Name, f.Value)
		}
	}
	x.close("Error")
	x.leaf("RequestId", requestID)
	x.close("ErrorResponse")
	return x.bytes()
}

func writeXML(w http.ResponseWriter, status int, body []byte, requestID string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if requestID != "" {
		h.Set("x-amzn-RequestId", requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// The common errors of AWS Query services that no SES shape models
// (SES-BEHAVIOR.md §1.2).

// InvalidAction is the answer to an Action the API does not have.
func InvalidAction(action string) *apierr.Error {
	return apierr.New(400, "InvalidAction", "Could not find operation %s for version %s", action, Version)
}

// MissingAction is the answer to a request without an Action parameter.
func MissingAction() *apierr.Error {
	return apierr.New(400, "MissingAction", "The request must contain the parameter Action.")
}

// NoSuchVersion is the answer to a Version other than 2010-12-01.
func NoSuchVersion(version string) *apierr.Error {
	return apierr.New(400, "NoSuchVersion", "The requested version (%s) of service AmazonSimpleEmailService does not exist", version)
}

// MissingParameter reports an absent required parameter, by its Query name.
func MissingParameter(name string) *apierr.Error {
	return apierr.New(400, "MissingParameter", "The request must contain the parameter %s.", name)
}

// InvalidParameterValue reports a parameter that fails the model constraints
// or does not parse.
func InvalidParameterValue(message string) *apierr.Error {
	return &apierr.Error{Status: 400, Code: "InvalidParameterValue", Message: message, Sender: true}
}

// MalformedQueryString reports a form that does not parse; AWS answers 404.
func MalformedQueryString(err error) *apierr.Error {
	return apierr.New(404, "MalformedQueryString", "%v", err)
}

// Throttling reports a rate or quota breach, e.g. "Maximum sending rate
// exceeded." (SES-BEHAVIOR.md §6.3).
func Throttling(message string) *apierr.Error {
	return &apierr.Error{Status: 400, Code: "Throttling", Message: message, Sender: true}
}

// InternalFailure is the answer to an unexpected server-side failure.
func InternalFailure() *apierr.Error {
	return &apierr.Error{Status: 500, Code: "InternalFailure",
		Message: "The request processing has failed because of an unknown error, exception or failure."}
}

// ServiceUnavailable is the answer while the service cannot take requests.
func ServiceUnavailable() *apierr.Error {
	return &apierr.Error{Status: 503, Code: "ServiceUnavailable", Message: "Service is unable to handle request."}
}

// isXMLName reports whether s can be used as an element name as is; error
// fields come from generated constructors, but a hand-made one must not
// break the document.
func isXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') ||
			(i > 0 && (r == '-' || r == '.' || (r >= '0' && r <= '9')))
		if !ok {
			return false
		}
	}
	return true
}
