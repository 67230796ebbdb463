package feedback

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// ErrNotReport is returned (wrapped) when a message is not a report of the
// kind asked for: not a multipart/report, or one of another report-type.
// Anything else that goes wrong is an error about a malformed report.
var ErrNotReport = errors.New("feedback: not a report of this kind")

// maxDepth bounds the search for a multipart/report inside other multipart
// entities (a report forwarded as part of a multipart/mixed).
const maxDepth = 3

// Field is one header field of the message a report returns, its name as
// written and its value unfolded.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// report is a multipart/report (RFC 6522) as the parsers need it: the
// body of its machine-readable part and the header of the message it
// returns, if any.
type report struct {
	status   []byte // the body of the report's machine-readable part
	original Header // the returned message's header; nil when none
}

// isOriginal reports whether a part of media type mt returns the reported
// message or its header: RFC 3464 §2 (message/rfc822,
// text/rfc822-headers), RFC 6533 §6 (message/global,
// message/global-headers), and the message/rfc822-headers some MTAs write.
func isOriginal(mt string) bool {
	switch mt {
	case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
		return true
	}
	return false
}

// readReport finds the multipart/report of reportType in msg — the message
// itself, or a part of it at most maxDepth levels down — and reads the
// first part of one of statusTypes and the returned message's header.
func readReport(msg []byte, reportType string, statusTypes ...string) (*report, error) {
	e, err := message.Read(bytes.NewReader(msg))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("feedback: reading the message header: %w", err)
	}
	rep, err := findReport(e, reportType, statusTypes, 0)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		return nil, fmt.Errorf("%w: no multipart/report; report-type=%s", ErrNotReport, reportType)
	}
	return rep, nil
}

// findReport walks e depth first; nil, nil means not found.
func findReport(e *message.Entity, reportType string, statusTypes []string, depth int) (*report, error) {
	mt, params, _ := e.Header.ContentType()
	mr := e.MultipartReader()
	if mr == nil {
		return nil, nil
	}
	if mt == "multipart/report" {
		switch rt := params["report-type"]; {
		case strings.EqualFold(rt, reportType):
			return readParts(mr, reportType, statusTypes)
		case rt == "":
			// report-type is required (RFC 6522 §3); without it, the
			// report is of this kind if it has the part that says so.
			rep, err := readParts(mr, reportType, statusTypes)
			if err != nil {
				return nil, nil
			}
			return rep, nil
		default:
			// A report of another kind (a DSN when asked for a feedback
			// report, an MDN): its parts are not searched.
			return nil, nil
		}
	}
	if depth >= maxDepth {
		return nil, nil
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			// Malformed multipart around whatever we were looking for:
			// there is no report to be found in it.
			return nil, nil
		}
		rep, err := findReport(p, reportType, statusTypes, depth+1)
		if rep != nil || err != nil {
			return rep, err
		}
	}
}

// readParts reads a multipart/report's parts (RFC 6522 §3: a
// human-readable part, the machine-readable part, optionally the returned
// message).
func readParts(mr message.MultipartReader, reportType string, statusTypes []string) (*report, error) {
	var rep report
	found := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			if found {
				break // a truncated returned message does not spoil the report
			}
			return nil, fmt.Errorf("feedback: malformed %s report: %w", reportType, err)
		}
		mt, _, _ := p.Header.ContentType()
		switch {
		case !found && slices.Contains(statusTypes, mt):
			body, err := io.ReadAll(p.Body)
			if err != nil {
				return nil, fmt.Errorf("feedback: reading the %s part: %w", mt, err)
			}
			rep.status, found = body, true
		case rep.original == nil && isOriginal(mt):
			rep.original = readOriginal(p.Body)
		}
	}
	if !found {
		return nil, fmt.Errorf("feedback: %s report without a %s part", reportType, statusTypes[0])
	}
	return &rep, nil
}

// readOriginal reads the header of a returned message (or the header block
// of text/rfc822-headers). A malformed line ends it; what came before is
// kept. The result is non-nil, so that an empty header still counts as the
// returned message.
func readOriginal(body io.Reader) Header {
	h, _ := textproto.ReadHeader(bufio.NewReader(body))
	out := make(Header, 0, h.Len())
	for fs := h.Fields(); fs.Next(); {
		// The name as written (go-message canonicalises Key).
		name := fs.Key()
		if raw, err := fs.Raw(); err == nil {
			if n, _, ok := bytes.Cut(raw, []byte{':'}); ok {
				name = string(bytes.TrimSpace(n))
			}
		}
		out = append(out, Field{Name: name, Value: clean(fs.Value())})
	}
	return out
}

// Header is a returned message's header: its fields in order.
type Header []Field

// Get returns the first value of the named field (any case), "" if none.
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// MessageID returns the id in a Message-ID field value (RFC 5322 §3.6.4),
// without its angle brackets; a value without brackets (RFC 5965's own
// example has one) is taken whole up to white space.
func MessageID(v string) string {
	v = stripComments(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	if f := strings.Fields(v); len(f) > 0 {
		return strings.Trim(f[0], "<>")
	}
	return ""
}
