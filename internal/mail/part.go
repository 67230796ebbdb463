package mail

import (
	"bytes"
	"encoding/base64"
	"maps"
	"mime"
	"mime/quotedprintable"
	"path"
	"slices"
	"strings"
)

// part is one MIME entity: a leaf with an encoded body, or a multipart with
// children.
type part struct {
	header   []Header // values ready to write
	body     []byte   // leaf: encoded body
	boundary string   // multipart
	children []*part
}

func (p *part) size() int {
	n := len(p.body) + 256
	for _, c := range p.children {
		n += c.size() + len(p.boundary) + 8
	}
	return n
}

// write writes the entity's header fields, the empty line and its body. A
// multipart body is delimited per RFC 2046 §5.1.1: each CRLF before a
// boundary line belongs to the boundary.
func (p *part) write(b *bytes.Buffer) {
	for _, h := range p.header {
		writeField(b, h.Name, h.Value, true)
	}
	b.WriteString("\r\n")
	if p.children == nil {
		b.Write(p.body)
		return
	}
	for _, c := range p.children {
		b.WriteString("--" + p.boundary + "\r\n")
		c.write(b)
		b.WriteString("\r\n")
	}
	// The close delimiter's line ends with the CRLF of the enclosing
	// boundary, or of the message.
	b.WriteString("--" + p.boundary + "--")
}

func (bld Builder) multipart(subtype string, children ...*part) *part {
	boundary := bld.boundary()
	return &part{
		header:   []Header{{"Content-Type", formatMediaType("multipart/"+subtype, [2]string{"boundary", boundary})}},
		boundary: boundary,
		children: children,
	}
}

// bodyPart assembles the body entity:
//
//	mixed( alternative( text, related( html, inline... ) ), attachment... )
//
// with each level present only when needed. Inline attachments without an
// HTML body have nothing to be related to and go in the mixed part.
func (bld Builder) bodyPart(s Simple) (*part, error) {
	var inline, attached []*part
	for _, a := range s.Attachments {
		p, err := attachmentPart(a)
		if err != nil {
			return nil, err
		}
		if a.Disposition == DispositionInline && s.HTML.Data != "" {
			inline = append(inline, p)
		} else {
			attached = append(attached, p)
		}
	}
	var body *part
	switch {
	case s.HTML.Data != "":
		body = textPart("html", s.HTML)
		if len(inline) > 0 {
			body = bld.multipart("related", append([]*part{body}, inline...)...)
			// RFC 2387 §3.1: type names the root's media type.
			body.header[0].Value = formatMediaType("multipart/related",
				[2]string{"type", "text/html"}, [2]string{"boundary", body.boundary})
		}
		if s.Text.Data != "" {
			body = bld.multipart("alternative", textPart("plain", s.Text), body)
		}
	default:
		body = textPart("plain", s.Text)
	}
	if len(attached) > 0 {
		body = bld.multipart("mixed", append([]*part{body}, attached...)...)
	}
	return body, nil
}

// textPart encodes a text body in its charset with the transfer encoding that
// fits (bodyEncoding), CRLF line endings throughout.
func textPart(subtype string, c Content) *part {
	data, cs := encodeCharset(c.Data, c.Charset)
	text := normalizeCRLF([]byte(data))
	cte, body := encodeBody(text, true)
	return &part{
		header: []Header{
			{"Content-Type", formatMediaType("text/"+subtype, [2]string{"charset", cs.label})},
			{"Content-Transfer-Encoding", cte},
		},
		body: body,
	}
}

// encodeBody chooses a transfer encoding as JavaMail (which SES uses) does:
// 7bit for short-lined ASCII, quoted-printable when most octets are ASCII,
// base64 otherwise (RFC 2045 §6). text says whether line breaks are
// meaningful (kept as CRLF) or data (encoded).
func encodeBody(data []byte, text bool) (string, []byte) {
	special, lineLen, long := 0, 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if text && c == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
			lineLen = 0
			continue
		}
		if c == 0 || c >= 0x80 || c == '\r' || c == '\n' {
			special++
		}
		if lineLen++; lineLen > maxLine {
			long = true
		}
	}
	switch {
	case special == 0 && !long:
		return "7bit", data
	case special*3 <= len(data):
		return "quoted-printable", encodeQP(data, !text)
	default:
		return "base64", encodeBase64(data)
	}
}

func encodeQP(data []byte, binary bool) []byte {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Binary = binary
	_, _ = w.Write(data) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	return b.Bytes()
}

// encodeBase64 encodes data in lines of 76 characters (RFC 2045 §6.8). The
// last line has no CRLF: the one before the next boundary ends it.
func encodeBase64(data []byte) []byte {
	const raw = 57 // octets per 76-character line
	enc := base64.StdEncoding
	out := make([]byte, 0, enc.EncodedLen(len(data))+len(data)/raw*2)
	for len(data) > raw {
		out = enc.AppendEncode(out, data[:raw])
		out = append(out, '\r', '\n')
		data = data[raw:]
	}
	return enc.AppendEncode(out, data)
}

// attachmentPart builds the entity for a v2 attachment (RFC 2183
// Content-Disposition, RFC 2231 parameters, RFC 2392 Content-ID).
func attachmentPart(a Attachment) (*part, error) {
	if a.FileName == "" {
		return nil, contentErr("Attachment file name is required.")
	}
	if err := checkFilename(a.FileName); err != nil {
		return nil, err
	}
	// Lengths as in the model (AttachmentContentType, AttachmentContentId):
	// they also keep every header line within the limit.
	if len(a.ContentType) > 78 {
		return nil, contentErr("Content type of attachment '" + a.FileName + "' is longer than 78 characters.")
	}
	ctype := a.ContentType
	if ctype == "" {
		ctype = typeByExtension(path.Ext(a.FileName))
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil || strings.HasPrefix(mediaType, "multipart/") {
		return nil, contentErr("Invalid content type '" + ctype + "' for attachment '" + a.FileName + "'.")
	}
	ctParams := make([][2]string, 0, len(params)+1)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if k != "name" {
			ctParams = append(ctParams, [2]string{k, params[k]})
		}
	}
	ctParams = append(ctParams, [2]string{"name", a.FileName})

	disposition := "attachment"
	switch a.Disposition {
	case "", DispositionAttachment:
	case DispositionInline:
		disposition = "inline"
	default:
		return nil, contentErr("Invalid content disposition '" + string(a.Disposition) + "'.")
	}

	h := []Header{
		{"Content-Type", formatMediaType(mediaType, ctParams...)},
		{"Content-Disposition", formatMediaType(disposition, [2]string{"filename", a.FileName})},
	}
	if a.ContentID != "" {
		id := strings.TrimSuffix(strings.TrimPrefix(a.ContentID, "<"), ">")
		if id == "" || len(a.ContentID) > 78 || strings.ContainsAny(id, "<>") || !isPrintableASCII(id) {
			return nil, contentErr("Invalid content ID '" + a.ContentID + "'.")
		}
		h = append(h, Header{"Content-ID", "<" + id + ">"})
	}
	if a.Description != "" {
		h = append(h, Header{"Content-Description", encodeText(a.Description, "UTF-8")})
	}

	var cte string
	var body []byte
	switch a.TransferEncoding {
	case "", EncodingBase64:
		cte, body = "base64", encodeBase64(a.Data)
	case EncodingQuotedPrintable:
		cte, body = "quoted-printable", encodeQP(a.Data, !strings.HasPrefix(mediaType, "text/"))
	case EncodingSevenBit:
		data := normalizeCRLF(a.Data)
		if enc, _ := encodeBody(data, true); enc != "7bit" {
			return nil, contentErr("Attachment '" + a.FileName + "' is not 7-bit data with lines of at most 998 characters.")
		}
		cte, body = "7bit", data
	default:
		return nil, contentErr("Invalid content transfer encoding '" + string(a.TransferEncoding) + "'.")
	}
	h = append(h, Header{"Content-Transfer-Encoding", cte})
	return &part{header: h, body: body}, nil
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// typeByExtension maps common attachment extensions to media types. It does
// not use mime.TypeByExtension, which reads the host's mime.types files and
// would make output depend on the machine.
func typeByExtension(ext string) string {
	switch strings.ToLower(ext) {
	case ".pdf":
		return "application/pdf"
	case ".zip":
		return "application/zip"
	case ".gz":
		return "application/gzip"
	case ".json":
		return "application/json"
	case ".xml":
		return "application/xml"
	case ".doc":
		return "application/msword"
	case ".docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ".xls":
		return "application/vnd.ms-excel"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".ppt":
		return "application/vnd.ms-powerpoint"
	case ".pptx":
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	case ".odt":
		return "application/vnd.oasis.opendocument.text"
	case ".txt":
		return "text/plain"
	case ".csv":
		return "text/csv"
	case ".htm", ".html":
		return "text/html"
	case ".ics":
		return "text/calendar"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".svg":
		return "image/svg+xml"
	case ".mp3":
		return "audio/mpeg"
	case ".mp4":
		return "video/mp4"
	}
	return "application/octet-stream"
}
