// Package snsapi is the AWS Query adapter of Sesame's SNS-compatible topics
// (API version 2010-03-31), so an unchanged sns SDK client — aws-sdk-go-v2,
// boto3 — works against Sesame with only its endpoint changed. It decodes a
// request into the hand-written wire shapes (wire.go) with the awsquery
// codec, calls internal/sns, and answers with SNS's XML documents and error
// codes (errors.go). It also serves what subscribers fetch without a
// signature: the SubscribeURL and UnsubscribeURL of SNS envelopes and the
// signing certificate (public.go).
package snsapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsproto"
	"github.com/sesamehq/sesame/internal/api/awsquery"
	"github.com/sesamehq/sesame/internal/api/caller"
	"github.com/sesamehq/sesame/internal/sns"
)

// The SNS protocol constants (SNS API Reference: API version and XML
// namespace of every response).
const (
	Version   = "2010-03-31"
	Namespace = "http://sns.amazonaws.com/doc/2010-03-31/"
)

// Handler answers SNS Query requests.
type Handler struct {
	svc *sns.Service
	ops map[string]operation
	log *slog.Logger
}

// New returns the adapter for svc.
func New(svc *sns.Service, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{svc: svc, ops: operations(), log: log}
}

// Serve answers one SNS request whose SigV4 signature (credential scope
// service "sns") the HTTP front has verified: ctx carries the caller
// (caller.With) and body is the request body the front has read and
// bounded. requestID goes into the response and x-amzn-RequestId.
func (h *Handler) Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte, requestID string) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("sns api: panic", "request_id", requestID, "panic", p, "stack", string(debug.Stack()))
			writeError(w, internalError(), requestID)
		}
	}()
	c, ok := caller.From(ctx)
	if !ok {
		h.log.Error("sns api: request without an authenticated caller", "request_id", requestID)
		writeError(w, internalError(), requestID)
		return
	}
	if r.URL.Path != "/" || (r.Method != http.MethodPost && r.Method != http.MethodGet) {
		writeError(w, apierr.New(http.StatusNotFound, "InvalidAction", "No SNS operation at %s %s.", r.Method, r.URL.Path), requestID)
		return
	}
	form, err := awsquery.ParseForm(r, body)
	if err != nil {
		writeError(w, h.asAPIError(err, requestID), requestID)
		return
	}
	op, err := h.resolve(form)
	if err != nil {
		writeError(w, h.asAPIError(err, requestID), requestID)
		return
	}
	in := op.newInput()
	if err := decode(form, in); err != nil {
		writeError(w, h.asAPIError(err, requestID), requestID)
		return
	}
	out, err := op.call(ctx, h, c.AccountID, in)
	if err != nil {
		writeError(w, h.asAPIError(wireError(err, op.tagging), requestID), requestID)
		return
	}
	if err := writeResponse(w, op.op, out, requestID); err != nil {
		h.log.Error("sns api: encoding a response", "request_id", requestID, "op", op.op.Name, "err", err)
		writeError(w, internalError(), requestID)
	}
}

// resolve finds the operation named by Action and checks Version.
func (h *Handler) resolve(form url.Values) (operation, error) {
	action := form.Get("Action")
	if action == "" {
		return operation{}, awsquery.MissingAction()
	}
	if v := form.Get("Version"); v != "" && v != Version {
		return operation{}, apierr.New(400, "NoSuchVersion", "The requested version (%s) of service AmazonSNS does not exist", v)
	}
	op, ok := h.ops[action]
	if !ok {
		return operation{}, invalidAction(action)
	}
	return op, nil
}

func invalidAction(action string) *apierr.Error {
	return apierr.New(400, "InvalidAction", "Could not find operation %s for version %s", action, Version)
}

// decode binds the form to in with the awsquery codec and turns its
// validation answers into SNS's: ValidationError for a model violation
// (SNS answers a missing member with AWS's "1 validation error detected:
// Value null at 'topicArn' failed to satisfy constraint: Member must not be
// null"), InvalidParameter for a value that does not parse.
func decode(form url.Values, in any) error {
	normalizeMessageAttributes(form)
	err := awsquery.Decode(form, in)
	if err == nil {
		return nil
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return err
	}
	if vs := awsproto.Validate(in); len(vs) > 0 {
		return &apierr.Error{Status: 400, Code: "ValidationError", Message: awsproto.ValidationMessage(vs), Sender: true}
	}
	return &apierr.Error{Status: 400, Code: "InvalidParameter", Message: ae.Message, Sender: true}
}

// normalizeMessageAttributes renames the entries of Publish's
// MessageAttributes map, which SNS's model sends as
// MessageAttributes.entry.N.Name and MessageAttributes.entry.N.Value.<member>
// (locationName Name/Value), to the key/value form the codec reads.
func normalizeMessageAttributes(form url.Values) {
	const prefix = "MessageAttributes.entry."
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		n, field, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		if _, err := strconv.Atoi(n); err != nil {
			continue
		}
		var renamed string
		switch {
		case field == "Name":
			renamed = prefix + n + ".key"
		case strings.HasPrefix(field, "Value."):
			renamed = prefix + n + ".value" + field[len("Value"):]
		default:
			continue
		}
		delete(form, k)
		form[renamed] = v
	}
}

// writeResponse renders out as SNS's <OpResponse> document.
func writeResponse(w http.ResponseWriter, op awsproto.Operation, out any, requestID string) error {
	body, err := awsquery.MarshalResponse(op, out, requestID)
	if err != nil {
		return err
	}
	writeXML(w, http.StatusOK, body, requestID)
	return nil
}

// writeError renders e as SNS's <ErrorResponse>.
func writeError(w http.ResponseWriter, e *apierr.Error, requestID string) {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeXML(w, status, awsquery.MarshalError(e, requestID), requestID)
}

// writeXML sends a document of the awsquery codec with its root element
// moved to SNS's namespace: the codec writes SES's, and the root's
// attribute is the first occurrence of it.
func writeXML(w http.ResponseWriter, status int, body []byte, requestID string) {
	body = bytes.Replace(body, []byte(`xmlns="`+awsquery.Namespace+`"`), []byte(`xmlns="`+Namespace+`"`), 1)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/xml")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	if requestID != "" {
		hdr.Set("x-amzn-RequestId", requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// asAPIError passes wire errors through; anything else is an internal
// error, logged here and never shown to the caller.
func (h *Handler) asAPIError(err error, requestID string) *apierr.Error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae
	}
	h.log.Error("sns api: internal error", "request_id", requestID, "err", err)
	return internalError()
}
