// Package httpapi is the HTTP front of the SES APIs: it gives every request
// an id, bounds its body, verifies its SigV4 signature, and hands it to the
// SES v1 (Query, POST /) or v2 (REST-JSON, /v2/email/…) codec, which decodes
// it into the generated input shape, calls the adapter through the generated
// dispatcher, and encodes the answer or the error.
package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/google/uuid"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsquery"
	"github.com/sesamehq/sesame/internal/api/caller"
	"github.com/sesamehq/sesame/internal/api/restjson"
	"github.com/sesamehq/sesame/internal/api/sigv4"
	"github.com/sesamehq/sesame/internal/api/v1wire"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

// MaxBody bounds a request body: a 40 MB v2 message, base64-encoded in JSON,
// with room for the rest of the request.
const MaxBody = 56 << 20

// Principal is what an access key resolves to.
type Principal struct {
	AccountID string
	UserName  string
}

// ServiceHandler serves the requests signed for another service on the same
// endpoint (SNS): the caller is in ctx, the body already read.
type ServiceHandler func(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte, requestID string)

// Handler serves SES v1 and v2, and hands requests signed for another
// service to its handler.
type Handler struct {
	verifier  *sigv4.Verifier
	principal func(ctx context.Context, accessKeyID string) (Principal, error)
	v1        v1wire.Service
	v2        v2wire.Service
	others    map[string]ServiceHandler // by SigV4 service name
	router    *restjson.Router
	log       *slog.Logger
}

// New returns the API handler. principal maps a verified access key to its
// account.
func New(verifier *sigv4.Verifier, principal func(context.Context, string) (Principal, error), v1 v1wire.Service, v2 v2wire.Service, others map[string]ServiceHandler, log *slog.Logger) (*Handler, error) {
	router, err := restjson.NewRouter(append(v2wire.Operations(), v2wire.RouteAliases()...))
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{verifier: verifier, principal: principal, v1: v1, v2: v2, others: others, router: router, log: log}, nil
}

// IsV2 reports whether a path belongs to the v2 API.
func IsV2(path string) bool { return strings.HasPrefix(path, "/v2/") }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	v2 := IsV2(r.URL.Path)
	fail := func(e *apierr.Error) {
		if v2 {
			restjson.WriteError(w, e, reqID)
		} else {
			awsquery.WriteError(w, e, reqID)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("api: panic", "request_id", reqID, "panic", p, "stack", string(debug.Stack()))
			fail(internalError(v2))
		}
	}()
	body, err := readBody(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(apierr.New(http.StatusRequestEntityTooLarge, requestTooLarge(v2), "Request body exceeds %d bytes.", MaxBody))
			return
		}
		fail(apierr.New(http.StatusBadRequest, badRequest(v2), "Could not read the request body."))
		return
	}
	ctx, service, err := h.authenticate(r, body)
	if err != nil {
		fail(h.authError(err, v2, reqID))
		return
	}
	if other, ok := h.others[service]; ok && !v2 {
		other(ctx, w, r, body, reqID)
		return
	}
	if v2 {
		h.serveV2(ctx, w, r, body, reqID)
	} else {
		h.serveV1(ctx, w, r, body, reqID)
	}
}

// readBody reads the request body, at most MaxBody bytes. With a
// Content-Length (every SDK sends one) the buffer is allocated once at its
// size instead of grown from 512 bytes; net/http ends the body there.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, MaxBody)
	if n := r.ContentLength; n > 0 && n <= MaxBody {
		buf := make([]byte, n)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(body)
}

// authenticate verifies the signature, puts the caller in the context, and
// says which service the request was signed for.
func (h *Handler) authenticate(r *http.Request, body []byte) (context.Context, string, error) {
	res, err := h.verifier.Verify(r.Context(), r, body)
	if err != nil {
		return nil, "", err
	}
	p, err := h.principal(r.Context(), res.AccessKeyID)
	if err != nil {
		return nil, "", err
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	return caller.With(r.Context(), caller.Caller{AccountID: p.AccountID, AccessKeyID: res.AccessKeyID, UserName: p.UserName, SourceIP: ip}), res.Service, nil
}

func (h *Handler) authError(err error, v2 bool, reqID string) *apierr.Error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		if v2 {
			typ, status := se.RESTType()
			return &apierr.Error{Status: status, Code: typ, Message: se.Message, Sender: true}
		}
		code, status := se.QueryCode()
		return &apierr.Error{Status: status, Code: code, Message: se.Message, Sender: true}
	}
	h.log.Error("api: authenticating", "request_id", reqID, "err", err)
	return internalError(v2)
}

func (h *Handler) serveV1(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte, reqID string) {
	if r.URL.Path != "/" || (r.Method != http.MethodPost && r.Method != http.MethodGet) {
		awsquery.WriteError(w, apierr.New(http.StatusNotFound, "InvalidAction", "No SES v1 operation at %s %s.", r.Method, r.URL.Path), reqID)
		return
	}
	form, err := awsquery.ParseForm(r, body)
	if err != nil {
		awsquery.WriteError(w, h.asAPIError(err, false, reqID), reqID)
		return
	}
	op, err := awsquery.Resolve(form, v1wire.LookupOperation)
	if err != nil {
		awsquery.WriteError(w, h.asAPIError(err, false, reqID), reqID)
		return
	}
	in, _ := v1wire.NewInput(op.Name)
	if err := awsquery.Decode(form, in); err != nil {
		awsquery.WriteError(w, h.asAPIError(err, false, reqID), reqID)
		return
	}
	out, err := v1wire.Invoke(ctx, h.v1, op.Name, in)
	if err != nil {
		awsquery.WriteError(w, h.asAPIError(err, false, reqID), reqID)
		return
	}
	if err := awsquery.WriteResponse(w, op, out, reqID); err != nil {
		h.log.Error("api: encoding v1 response", "request_id", reqID, "op", op.Name, "err", err)
	}
}

func (h *Handler) serveV2(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte, reqID string) {
	op, params, ok := h.router.Match(r.Method, r.URL.EscapedPath())
	if !ok {
		if methods := h.router.Methods(r.URL.EscapedPath()); len(methods) > 0 {
			restjson.WriteError(w, restjson.MethodNotAllowed(r.Method), reqID)
			return
		}
		restjson.WriteError(w, restjson.UnknownOperation(), reqID)
		return
	}
	in, _ := v2wire.NewInput(op.Name)
	if err := restjson.Decode(r, body, op, params, in); err != nil {
		restjson.WriteError(w, h.asAPIError(err, true, reqID), reqID)
		return
	}
	out, err := v2wire.Invoke(ctx, h.v2, op.Name, in)
	if err != nil {
		restjson.WriteError(w, h.asAPIError(err, true, reqID), reqID)
		return
	}
	if err := restjson.WriteResponse(w, op, out, reqID); err != nil {
		h.log.Error("api: encoding v2 response", "request_id", reqID, "op", op.Name, "err", err)
	}
}

// asAPIError passes wire errors through; anything else is an internal
// failure, logged here and never shown to the caller.
func (h *Handler) asAPIError(err error, v2 bool, reqID string) *apierr.Error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae
	}
	h.log.Error("api: internal error", "request_id", reqID, "err", err)
	return internalError(v2)
}

func internalError(v2 bool) *apierr.Error {
	if v2 {
		return restjson.InternalError()
	}
	return awsquery.InternalFailure()
}

func badRequest(v2 bool) string {
	if v2 {
		return "BadRequestException"
	}
	return "InvalidParameterValue"
}

func requestTooLarge(v2 bool) string {
	if v2 {
		return "BadRequestException"
	}
	return "RequestEntityTooLarge"
}
