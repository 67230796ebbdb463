package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Content is a text with the charset SES is asked to send it in (v1
// Content{Data, Charset}, v2 Content). An empty charset means UTF-8.
type Content struct {
	Data, Charset string
}

// Simple is the content of a v1 SendEmail or v2 Simple/Template send that SES
// turns into MIME (SES-BEHAVIOR §4.1). Bcc recipients are envelope-only and
// have no field here: Build never writes a Bcc header.
type Simple struct {
	// From is the sender as given (v1 Source, v2 FromEmailAddress), e.g.
	// `"Jöhn" <j@example.com>`.
	From string
	// To, Cc and ReplyTo hold one address each, as given.
	To, Cc, ReplyTo []string
	Subject         Content
	Text, HTML      Content
	// Headers are v2 custom headers, written after the standard ones.
	Headers []Header
	// Attachments are v2 attachments.
	Attachments []Attachment
	// MessageID is the Message-ID header value (see MessageIDHeader); Date
	// the Date header. Either is omitted when empty.
	MessageID string
	Date      time.Time
}

// Disposition is a v2 AttachmentContentDisposition.
type Disposition string

// Attachment dispositions.
const (
	DispositionAttachment Disposition = "ATTACHMENT"
	DispositionInline     Disposition = "INLINE"
)

// TransferEncoding is a v2 AttachmentContentTransferEncoding.
type TransferEncoding string

// Attachment transfer encodings.
const (
	EncodingBase64          TransferEncoding = "BASE64"
	EncodingQuotedPrintable TransferEncoding = "QUOTED_PRINTABLE"
	EncodingSevenBit        TransferEncoding = "SEVEN_BIT"
)

// Attachment is a v2 Attachment (model shape Attachment).
type Attachment struct {
	Data     []byte
	FileName string
	// ContentType defaults to one guessed from the file name's extension.
	ContentType string
	// Disposition defaults to ATTACHMENT. INLINE attachments go with the
	// HTML part in a multipart/related (RFC 2387).
	Disposition      Disposition
	ContentID        string
	Description      string
	TransferEncoding TransferEncoding // defaults to BASE64
}

// Builder builds MIME messages. The zero value is ready to use.
type Builder struct {
	// Boundary returns a new multipart boundary; nil means random. Tests
	// inject a deterministic one for golden files.
	Boundary func() string
}

// Build builds the MIME message for s with random boundaries; see
// Builder.Build.
func Build(s Simple) ([]byte, error) { return Builder{}.Build(s) }

// Build builds the MIME message for s (RFC 5322, RFC 2045–2047): CRLF line
// endings, no line over 998 octets, non-ASCII header text as RFC 2047
// encoded-words, bodies in 7bit, quoted-printable or base64, whichever fits;
// text and HTML as multipart/alternative, attachments in multipart/mixed and
// inline ones in multipart/related. Errors are *AddressError for an address
// SES refuses and *ContentError for content it refuses.
func (bld Builder) Build(s Simple) ([]byte, error) {
	from, err := ParseAddress(s.From)
	if err != nil {
		return nil, err
	}
	to, err := parseEach(s.To)
	if err != nil {
		return nil, err
	}
	cc, err := parseEach(s.Cc)
	if err != nil {
		return nil, err
	}
	replyTo, err := parseEach(s.ReplyTo)
	if err != nil {
		return nil, err
	}
	if err := checkCustomHeaders(s.Headers); err != nil {
		return nil, err
	}
	body, err := bld.bodyPart(s)
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	b.Grow(1024 + body.size())
	if !s.Date.IsZero() {
		writeField(&b, "Date", formatDate(s.Date), false)
	}
	writeField(&b, "From", from.format(s.Subject.Charset), true)
	if len(replyTo) > 0 {
		writeField(&b, "Reply-To", formatList(replyTo, s.Subject.Charset), true)
	}
	if len(to) > 0 {
		writeField(&b, "To", formatList(to, s.Subject.Charset), true)
	}
	if len(cc) > 0 {
		writeField(&b, "Cc", formatList(cc, s.Subject.Charset), true)
	}
	if s.MessageID != "" {
		if strings.ContainsAny(s.MessageID, "\r\n") {
			return nil, contentErr("Message-ID must not contain line breaks.")
		}
		writeField(&b, "Message-ID", s.MessageID, false)
	}
	if s.Subject.Data != "" {
		writeField(&b, "Subject", encodeText(s.Subject.Data, s.Subject.Charset), false)
	}
	writeField(&b, "MIME-Version", "1.0", false)
	for _, h := range s.Headers {
		// Validated: at most 998 octets, written as given.
		b.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	body.write(&b)
	if body.children != nil {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

func parseEach(list []string) ([]Address, error) {
	out := make([]Address, 0, len(list))
	for _, s := range list {
		a, err := ParseAddress(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func formatList(list []Address, charsetName string) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.format(charsetName)
	}
	return strings.Join(parts, ", ")
}

// formatDate formats t for a Date header (RFC 5322 §3.3), in UTC as SES does.
func formatDate(t time.Time) string {
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
}

// checkCustomHeaders applies the v2 MessageHeader rules (model shapes
// MessageHeaderName/MessageHeaderValue: printable ASCII, name ≤ 126 without
// a colon, value ≤ 995, together ≤ 996), refuses headers SES writes itself,
// and refuses a second single-occurrence header (SES-BEHAVIOR §4.2).
func checkCustomHeaders(hs []Header) error {
	seen := make(map[string]bool, len(hs))
	for _, h := range hs {
		if !validFieldName(h.Name) || len(h.Name) > 126 {
			return contentErr("Invalid header name '" + h.Name + "'.")
		}
		if len(h.Value) > 995 || len(h.Name)+len(h.Value) > 996 {
			return contentErr("Header '" + h.Name + "' is too long.")
		}
		for i := 0; i < len(h.Value); i++ {
			if c := h.Value[i]; c < ' ' || c > '~' {
				return contentErr("Invalid value for header '" + h.Name + "'.")
			}
		}
		// Content-Transfer-Encoding is not on SES's list, but Build writes it.
		if reservedCustomHeader(h.Name) || strings.EqualFold(h.Name, "Content-Transfer-Encoding") {
			return contentErr("Header '" + h.Name + "' is set by SES and cannot be a custom header.")
		}
		if canon, single := singleOccurrence(h.Name); single {
			if seen[canon] {
				return contentErr("Duplicate header '" + canon + "'.")
			}
			seen[canon] = true
		}
	}
	return nil
}

// boundary returns a new multipart boundary. "=_" cannot occur in
// quoted-printable or base64 output (RFC 2045 §6.7), and 128 random bits
// keep it out of 7bit text.
func (bld Builder) boundary() string {
	if bld.Boundary != nil {
		return bld.Boundary()
	}
	var r [16]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "=_" + hex.EncodeToString(r[:])
}
