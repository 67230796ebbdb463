package tracking

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// maxDepth bounds multipart nesting, as a defence against hostile input.
const maxDepth = 32

// walker rewrites the HTML parts of a MIME tree.
type walker struct {
	edit  htmlEdit
	stats htmlStats
}

// entity rewrites one entity (a message or a body part) and returns it, or
// b itself when nothing changed.
func (w *walker) entity(b []byte, depth int) []byte {
	if depth > maxDepth {
		return b
	}
	header, body, ok := splitEntity(b)
	if !ok {
		return b
	}
	ct := fieldValue(header, "Content-Type")
	if ct == "" {
		return b // text/plain (RFC 2045 §5.2)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return b
	}
	switch {
	case mt == "multipart/signed" || mt == "multipart/encrypted":
		return b
	case strings.HasPrefix(mt, "multipart/"):
		nb := w.multipart(body, params["boundary"], depth+1)
		if nb == nil {
			return b
		}
		return concat(b[:len(b)-len(body)], nb)
	case mt == "text/html":
		if d, _, _ := mime.ParseMediaType(fieldValue(header, "Content-Disposition")); d == "attachment" {
			return b
		}
		cs := strings.ToLower(params["charset"])
		if strings.HasPrefix(cs, "utf-16") || strings.HasPrefix(cs, "utf-32") {
			return b // not ASCII-compatible: the scanner cannot read it
		}
		return w.html(b, header, body)
	}
	return b
}

// html rewrites a text/html entity.
func (w *walker) html(b, header, body []byte) []byte {
	decoded, ok := decodeBody(body, fieldValue(header, "Content-Transfer-Encoding"))
	if !ok {
		return b
	}
	out, st := rewriteHTML(decoded, w.edit)
	if !st.changed() {
		return b
	}
	w.stats.links += st.links
	w.stats.pixels += st.pixels
	var qp bytes.Buffer
	qw := quotedprintable.NewWriter(&qp)
	qw.Write(out)
	qw.Close()
	enc := qp.Bytes()
	eol := lineEnding(b)
	if eol == "\n" {
		enc = bytes.ReplaceAll(enc, []byte("\r\n"), []byte("\n"))
	}
	sep := b[len(header) : len(b)-len(body)]
	return concat(setField(header, "Content-Transfer-Encoding", "quoted-printable", eol), sep, enc)
}

// multipart rewrites the parts of a multipart body (RFC 2046 §5.1.1) and
// returns the new body, or nil when nothing changed. The preamble, the
// delimiters, the epilogue and every unchanged part are kept byte for byte.
func (w *walker) multipart(body []byte, boundary string, depth int) []byte {
	if boundary == "" || len(boundary) > 200 {
		return nil
	}
	delim := []byte("--" + boundary)
	type span struct{ from, to int }
	var parts []span
	partStart := -1
	for pos := 0; pos < len(body); {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		if end >= 0 {
			next = pos + end + 1
		}
		line := body[pos:next]
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r\n")
			closing := bytes.Equal(rest, []byte("--"))
			if closing || len(rest) == 0 {
				if partStart >= 0 {
					// The line break before a delimiter belongs to it.
					to := pos
					if to > partStart && body[to-1] == '\n' {
						to--
						if to > partStart && body[to-1] == '\r' {
							to--
						}
					}
					parts = append(parts, span{partStart, to})
				}
				partStart = -1
				if closing {
					break
				}
				partStart = next
			}
		}
		pos = next
	}
	if partStart >= 0 && partStart < len(body) { // no closing delimiter: take the rest
		parts = append(parts, span{partStart, len(body)})
	}
	var out []byte
	last := 0
	for _, p := range parts {
		if p.from >= p.to {
			continue
		}
		nb := w.entity(body[p.from:p.to], depth)
		if bytes.Equal(nb, body[p.from:p.to]) {
			continue
		}
		out = append(out, body[last:p.from]...)
		out = append(out, nb...)
		last = p.to
	}
	if out == nil {
		return nil
	}
	return append(out, body[last:]...)
}

// decodeBody undoes a Content-Transfer-Encoding (RFC 2045 §6).
func decodeBody(body []byte, cte string) ([]byte, bool) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return body, true
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		return b, err == nil
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, body)
		b, err := base64.StdEncoding.DecodeString(string(clean))
		return b, err == nil
	}
	return nil, false
}

// splitEntity splits an entity at the empty line after its header fields
// (RFC 5322 §2.1). header keeps the last field's line break; the empty line
// is b[len(header):len(b)-len(body)]. ok is false without an empty line.
func splitEntity(b []byte) (header, body []byte, ok bool) {
	for pos := 0; pos < len(b); {
		switch {
		case bytes.HasPrefix(b[pos:], []byte("\r\n")):
			return b[:pos], b[pos+2:], true
		case b[pos] == '\n':
			return b[:pos], b[pos+1:], true
		}
		end := bytes.IndexByte(b[pos:], '\n')
		if end < 0 {
			return nil, nil, false
		}
		pos += end + 1
	}
	return nil, nil, false
}

// field is one header field: its name and the bytes it spans, with its
// continuation lines and line break.
type field struct {
	name     string
	from, to int
}

func fields(header []byte) []field {
	var fs []field
	for pos := 0; pos < len(header); {
		end := bytes.IndexByte(header[pos:], '\n')
		next := len(header)
		if end >= 0 {
			next = pos + end + 1
		}
		if (header[pos] == ' ' || header[pos] == '\t') && len(fs) > 0 {
			fs[len(fs)-1].to = next // folded continuation (RFC 5322 §2.2.3)
		} else {
			name, _, _ := bytes.Cut(header[pos:next], []byte(":"))
			fs = append(fs, field{name: strings.TrimSpace(string(name)), from: pos, to: next})
		}
		pos = next
	}
	return fs
}

// fieldValue is the unfolded value of the first field called name.
func fieldValue(header []byte, name string) string {
	for _, f := range fields(header) {
		if strings.EqualFold(f.name, name) {
			_, v, _ := bytes.Cut(header[f.from:f.to], []byte(":"))
			v = bytes.ReplaceAll(v, []byte("\r\n"), nil)
			v = bytes.ReplaceAll(v, []byte("\n"), nil)
			return strings.TrimSpace(string(v))
		}
	}
	return ""
}

// setField replaces the fields called name by one "name: value", in the
// place of the first, or adds it at the end.
func setField(header []byte, name, value, eol string) []byte {
	line := []byte(name + ": " + value + eol)
	out := make([]byte, 0, len(header)+len(line))
	last, done := 0, false
	for _, f := range fields(header) {
		if !strings.EqualFold(f.name, name) {
			continue
		}
		out = append(out, header[last:f.from]...)
		if !done {
			out = append(out, line...)
			done = true
		}
		last = f.to
	}
	out = append(out, header[last:]...)
	if !done {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, eol...)
		}
		out = append(out, line...)
	}
	return out
}

// lineEnding is the line break b uses: CRLF unless its first one is a bare LF.
func lineEnding(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i > 0 && b[i-1] != '\r' {
		return "\n"
	}
	return "\r\n"
}

func concat(bs ...[]byte) []byte {
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	out := make([]byte, 0, n)
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}
