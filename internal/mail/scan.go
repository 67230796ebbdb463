package mail

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// Bounds on the MIME walk, so a hostile message cannot make it expensive.
const (
	maxMIMEDepth = 32
	maxMIMEParts = 10000
)

// scanFilenames walks every MIME part of a message, nested multiparts and
// attached messages included, and refuses the first file name with a blocked
// extension (SES-BEHAVIOR §4.2). The walk is lenient: a part it cannot parse
// ends the walk of that branch without an error, as SES documents no
// rejection for malformed MIME.
func scanFilenames(fields []field, body []byte) error {
	get := func(name string) string {
		for _, f := range fields {
			if strings.EqualFold(f.name, name) {
				return f.value
			}
		}
		return ""
	}
	budget := maxMIMEParts
	return scanEntity(get, bytes.NewReader(body), 0, &budget)
}

func scanEntity(get func(string) string, body io.Reader, depth int, budget *int) error {
	ctype, cdisp := get("Content-Type"), get("Content-Disposition")
	for _, name := range partFilenames(ctype, cdisp) {
		if err := checkFilename(name); err != nil {
			return err
		}
	}
	if depth >= maxMIMEDepth {
		return nil
	}
	mediaType, params, _ := mime.ParseMediaType(ctype)
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		boundary := params["boundary"]
		if boundary == "" {
			return nil
		}
		mr := multipart.NewReader(body, boundary)
		for {
			if *budget--; *budget < 0 {
				return nil
			}
			part, err := mr.NextRawPart()
			if err != nil {
				return nil // io.EOF or malformed: nothing more to see
			}
			if err := scanEntity(part.Header.Get, part, depth+1, budget); err != nil {
				return err
			}
		}
	case mediaType == "message/rfc822" || mediaType == "message/global":
		if *budget--; *budget < 0 {
			return nil
		}
		br := bufio.NewReader(body)
		h, err := textproto.NewReader(br).ReadMIMEHeader()
		if err != nil {
			return nil
		}
		return scanEntity(h.Get, br, depth+1, budget)
	}
	return nil
}

// partFilenames returns the file names a part declares: the
// Content-Disposition filename (RFC 2183) and the Content-Type name, with
// RFC 2231 extended values decoded (by mime.ParseMediaType) and RFC 2047
// encoded-words decoded, as mail clients show them.
func partFilenames(ctype, cdisp string) []string {
	var names []string
	if n := mediaParam(cdisp, "filename"); n != "" {
		names = append(names, n)
	}
	if n := mediaParam(ctype, "name"); n != "" {
		names = append(names, n)
	}
	return names
}

// mediaParam returns a parameter of a Content-Type or Content-Disposition
// value. Values mime.ParseMediaType refuses are read leniently, since mail
// clients still show their file names.
func mediaParam(v, name string) string {
	if v == "" {
		return ""
	}
	var val string
	if _, params, err := mime.ParseMediaType(v); err == nil {
		val = params[name]
	} else {
		val = lenientParam(v, name)
	}
	if strings.Contains(val, "=?") {
		val = decodeText(val)
	}
	return val
}

// lenientParam finds name=value, name="value" or the RFC 2231 name*= form in a
// header value that does not parse strictly.
func lenientParam(v, name string) string {
	_, rest, _ := strings.Cut(v, ";")
	for _, p := range strings.Split(rest, ";") {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		switch k {
		case name:
			return strings.Trim(val, `"`)
		case name + "*":
			if _, enc, ok := strings.Cut(val, "''"); ok {
				val = enc
			}
			return pctDecode(strings.Trim(val, `"`))
		}
	}
	return ""
}

func pctDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
