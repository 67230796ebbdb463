package tracking

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Event is one open or click seen by the endpoints (SES-BEHAVIOR §8.3).
type Event struct {
	Kind      Kind
	MessageID string
	IPAddress string
	UserAgent string
	At        time.Time
	Link      Link // clicks only
}

// pixelGIF is a 1×1 transparent GIF89a.
var pixelGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

const (
	// pending bounds the events waiting to be recorded; past it, events are
	// dropped (and logged) rather than slowing the redirect.
	pending = 1024
	// recordTimeout bounds one write of an event.
	recordTimeout = 10 * time.Second
)

// Handler serves the open pixel and the click redirect. It answers at once
// and records the event in the background (Run), so that a click redirects
// to the original link even when event storage is slow or down.
type Handler struct {
	signer  *Signer
	record  func(context.Context, Event) error
	now     func() time.Time
	log     *slog.Logger
	pending chan Event
}

// NewHandler returns the endpoints' handler; record stores one event (it is
// called from Run, one event at a time).
func NewHandler(s *Signer, record func(context.Context, Event) error, now func() time.Time, log *slog.Logger) *Handler {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{signer: s, record: record, now: now, log: log, pending: make(chan Event, pending)}
}

// Open serves GET /t/open/{token}: the pixel, and an Open event.
func (h *Handler) Open(w http.ResponseWriter, r *http.Request) {
	t, err := h.signer.Parse(r.PathValue("token"))
	if err != nil || t.Kind != KindOpen {
		http.NotFound(w, r)
		return
	}
	h.enqueue(r, t)
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	w.Write(pixelGIF)
}

// Click serves GET /t/click/{token}: a 302 to the original link, and a
// Click event.
func (h *Handler) Click(w http.ResponseWriter, r *http.Request) {
	t, err := h.signer.Parse(r.PathValue("token"))
	if err != nil || t.Kind != KindClick {
		http.NotFound(w, r)
		return
	}
	h.enqueue(r, t)
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	// Location is a URI (RFC 9110 §10.2.2): characters outside ASCII are
	// percent-encoded as UTF-8 (RFC 3987 §3.1); everything else is the
	// original link byte for byte.
	w.Header().Set("Location", escapeNonASCII(t.Link.URL))
	w.WriteHeader(http.StatusFound)
}

func (h *Handler) enqueue(r *http.Request, t Token) {
	e := Event{Kind: t.Kind, MessageID: t.MessageID, IPAddress: clientIP(r), UserAgent: r.UserAgent(), At: h.now().UTC(), Link: t.Link}
	select {
	case h.pending <- e:
	default:
		h.log.Warn("tracking: too many events waiting to be recorded; dropping one", "msg_id", e.MessageID, "kind", string(e.Kind))
	}
}

// Run records events until ctx ends, then records those already waiting.
func (h *Handler) Run(ctx context.Context) {
	for {
		select {
		case e := <-h.pending:
			h.store(e)
		case <-ctx.Done():
			for {
				select {
				case e := <-h.pending:
					h.store(e)
				default:
					return
				}
			}
		}
	}
}

func (h *Handler) store(e Event) {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := h.record(ctx, e); err != nil {
		h.log.Error("tracking: recording an event", "msg_id", e.MessageID, "kind", string(e.Kind), "err", err)
	}
}

// clientIP is the peer's address. Sesame does not trust X-Forwarded-For: a
// proxy in front of it would be the reported address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func escapeNonASCII(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		case c < 0x20 || c == 0x7f || c == ' ':
			// Not valid in a header value, nor in a URI.
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
