package snsapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/sesamehq/sesame/internal/sns"
)

// What a subscriber fetches without a signature, as from SNS: the
// SubscribeURL (GET /?Action=ConfirmSubscription&TopicArn=…&Token=…) and the
// UnsubscribeURL (GET /?Action=Unsubscribe&SubscriptionArn=…) of an
// envelope, answered with SNS's XML; and the signing certificate at
// SigningCertURL (GET /sns/SimpleNotificationService-<hash>.pem).

// IsPublic reports whether r is one of those unsigned requests, carrying no
// SigV4 signature (no Authorization header, no X-Amz-Signature,
// X-Amz-Credential or X-Amz-Algorithm): a GET or HEAD of the certificate
// path, or a GET of / with Action ConfirmSubscription or Unsubscribe. The HTTP front sends
// these to ServePublic instead of verifying a signature; SES has no such
// actions, so the test cannot take an SES request.
func IsPublic(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("Authorization") != "" {
		return false
	}
	q := r.URL.Query()
	if q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Algorithm") {
		return false
	}
	if strings.HasPrefix(r.URL.Path, sns.CertPathPrefix) {
		return true
	}
	if r.URL.Path != "/" || r.Method != http.MethodGet { // a HEAD must not (un)subscribe
		return false
	}
	switch q.Get("Action") {
	case "ConfirmSubscription", "Unsubscribe":
		return true
	}
	return false
}

// ServePublic answers the requests IsPublic accepts.
func (h *Handler) ServePublic(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, sns.CertPathPrefix); ok {
		h.serveCertificate(w, r, name)
		return
	}
	requestID := uuid.NewString()
	q := r.URL.Query()
	switch action := q.Get("Action"); action {
	case "ConfirmSubscription":
		op := h.ops[action]
		arn, err := h.svc.ConfirmSubscription(r.Context(), "", q.Get("TopicArn"), q.Get("Token"), false)
		if err != nil {
			writeError(w, h.asAPIError(wireError(err, false), requestID), requestID)
			return
		}
		if err := writeResponse(w, op.op, &ConfirmSubscriptionOutput{SubscriptionArn: arn}, requestID); err != nil {
			writeError(w, h.asAPIError(err, requestID), requestID)
		}
	case "Unsubscribe":
		op := h.ops[action]
		if err := h.svc.Unsubscribe(r.Context(), "", q.Get("SubscriptionArn")); err != nil {
			writeError(w, h.asAPIError(wireError(err, false), requestID), requestID)
			return
		}
		if err := writeResponse(w, op.op, nil, requestID); err != nil {
			writeError(w, h.asAPIError(err, requestID), requestID)
		}
	default:
		writeError(w, invalidAction(action), requestID)
	}
}

// serveCertificate serves the signing certificate under its current name
// only; it is public by design (anyone verifies signatures with it).
func (h *Handler) serveCertificate(w http.ResponseWriter, r *http.Request, name string) {
	signer := h.svc.Signer()
	if name != signer.CertificateName() {
		http.NotFound(w, r)
		return
	}
	pem := signer.CertificatePEM()
	hdr := w.Header()
	hdr.Set("Content-Type", "application/x-x509-ca-cert")
	hdr.Set("Content-Length", strconv.Itoa(len(pem)))
	hdr.Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(pem)
	}
}
