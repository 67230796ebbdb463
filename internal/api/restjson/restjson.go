// Package restjson is the REST-JSON protocol codec of the SES v2 API
// (2019-09-27): a router from the generated operation table's requestUri
// templates, binding of path labels, query string, headers and JSON body to
// the generated v2wire input shapes, JSON rendering of outputs, and
// x-amzn-ErrorType errors (SES-BEHAVIOR.md §1.3). Everything is driven by the
// generated `aws` struct tags.
package restjson

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/sesamehq/sesame/internal/api/apierr"
)

// WriteError renders e: its status (400 for a sender fault and 500 otherwise
// when unset), header x-amzn-ErrorType: <Code> (which SDKs map to the
// modelled exception), and body {"message":"…"} plus e's Fields as string
// members. No "__type" is sent: the header already names the type, and
// botocore and aws-sdk-go-v2 read it first. A nil e is written as
// InternalServiceErrorException.
func WriteError(w http.ResponseWriter, e *apierr.Error, requestID string) {
	if e == nil {
		e = InternalError()
	}
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
		if e.Sender {
			status = http.StatusBadRequest
		}
	}
	w.Header().Set("x-amzn-ErrorType", e.Code)
	writeJSON(w, status, MarshalError(e), requestID)
}

// MarshalError returns the JSON body WriteError sends for e.
func MarshalError(e *apierr.Error) []byte {
	var b bytes.Buffer
	b.WriteString(`{"message":`)
	b.Write(jsonString(e.Message))
	for _, f := range e.Fields {
		if f.Name == "" || f.Name == "message" {
			continue
		}
		b.WriteByte(',')
		b.Write(jsonString(f.Name))
		b.WriteByte(':')
		b.Write(jsonString(f.Value))
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeJSON(w http.ResponseWriter, status int, body []byte, requestID string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if requestID != "" {
		h.Set("x-amzn-RequestId", requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// jsonString encodes s as a JSON string (invalid UTF-8 becomes U+FFFD).
func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// BadRequest is SES v2's answer to a malformed or invalid request.
func BadRequest(message string) *apierr.Error {
	return &apierr.Error{Status: 400, Code: "BadRequestException", Message: message, Sender: true}
}

// UnknownOperation is the answer to a path no operation has.
func UnknownOperation() *apierr.Error {
	return &apierr.Error{Status: 404, Code: "UnknownOperationException", Message: "The requested operation is not supported.", Sender: true}
}

// MethodNotAllowed is the answer to a known path with a method no operation
// has; the caller sets the Allow header from Router.Methods.
func MethodNotAllowed(method string) *apierr.Error {
	return apierr.New(405, "MethodNotAllowedException", "The method %s is not allowed for this resource.", method)
}

// InternalError is the answer to an unexpected server-side failure.
func InternalError() *apierr.Error {
	return &apierr.Error{Status: 500, Code: "InternalServiceErrorException", Message: "The request processing has failed because of an unknown error, exception or failure."}
}
