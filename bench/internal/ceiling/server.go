package ceiling

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sesamehq/sesame/internal/api/sigv4"
	"github.com/sesamehq/sesame/internal/mail"
)

// maxBody bounds a request body, as Sesame's HTTP front does.
const maxBody = 56 << 20

// Handler answers SES v2 SendEmail (and, for the v1 modes, v1 SendEmail and
// SendRawEmail) by appending the request to the log.
type Handler struct {
	Log *Log
	// Verifier, when set, checks SigV4 signatures as Sesame does; nil skips
	// them (about 4 µs a request with a cached signing key, DESIGN.md §7).
	Verifier *sigv4.Verifier
}

// v2 SendEmail input (sesv2 SendEmailRequest), the fields a send needs.
type sendEmail struct {
	FromEmailAddress string
	Destination      struct{ ToAddresses, CcAddresses, BccAddresses []string }
	Content          struct {
		Simple *struct {
			Subject struct{ Data string }
			Body    struct{ Text, Html *struct{ Data string } }
		}
		Raw *struct{ Data []byte }
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/health" {
		io.WriteString(w, `{"status":"ok"}`+"\n")
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	if h.Verifier != nil {
		if _, err := h.Verifier.Verify(r.Context(), r, body); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
	}
	switch r.URL.Path {
	case "/v2/email/outbound-emails":
		h.v2(w, r, body)
	case "/":
		h.v1(w, r, body)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

func (h *Handler) v2(w http.ResponseWriter, r *http.Request, body []byte) {
	var in sendEmail
	if err := json.Unmarshal(body, &in); err != nil {
		v2Error(w, "BadRequestException", "Malformed request body.")
		return
	}
	d := in.Destination
	if in.Content.Raw == nil && (in.FromEmailAddress == "" || len(d.ToAddresses)+len(d.CcAddresses)+len(d.BccAddresses) == 0 || in.Content.Simple == nil) {
		v2Error(w, "BadRequestException", "A message needs a sender, a recipient and content.")
		return
	}
	id, err := h.append(r.Context(), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"MessageId":%q}`, id)
}

func (h *Handler) v1(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		v1Error(w, "InvalidParameterValue", "Malformed form.")
		return
	}
	action := form.Get("Action")
	switch {
	case action == "SendEmail" && form.Get("Source") != "" && form.Get("Destination.ToAddresses.member.1") != "":
	case action == "SendRawEmail" && form.Get("RawMessage.Data") != "":
	default:
		v1Error(w, "InvalidParameterValue", "Only a complete SendEmail or SendRawEmail is served.")
		return
	}
	id, err := h.append(r.Context(), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><%sResult><MessageId>%s</MessageId></%sResult></%sResponse>`,
		action, action, id, action, action)
}

// append makes a MessageId as Sesame does and stores it with the body.
func (h *Handler) append(ctx context.Context, body []byte) (string, error) {
	id := mail.NewMessageID(time.Now())
	rec := make([]byte, 0, len(id)+1+len(body))
	rec = append(append(append(rec, id...), '\n'), body...)
	return id, h.Log.Append(ctx, rec)
}

func v2Error(w http.ResponseWriter, code, msg string) {
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

func v1Error(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error></ErrorResponse>`, code, msg)
}
