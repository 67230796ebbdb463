package mail

import (
	"bufio"
	"crypto/sha256"
	"strings"
)

// relaxedHeader appends the relaxed canonical form of a header field (RFC
// 6376 §3.4.2): name in lower case, folding removed, whitespace runs as one
// space, no whitespace around the colon or at the end, then CRLF.
func relaxedHeader(dst, raw []byte) []byte {
	colon := 0
	for colon < len(raw) && raw[colon] != ':' {
		colon++
	}
	name := strings.TrimRight(string(raw[:colon]), " \t")
	dst = append(dst, strings.ToLower(name)...)
	dst = append(dst, ':')
	space := false
	wrote := false
	for _, c := range raw[min(colon+1, len(raw)):] {
		switch c {
		case '\r', '\n':
			continue
		case ' ', '\t':
			space = true
			continue
		}
		if space && wrote {
			dst = append(dst, ' ')
		}
		space = false
		wrote = true
		dst = append(dst, c)
	}
	return append(dst, '\r', '\n')
}

// relaxedBodyHash returns the SHA-256 of a CRLF-normalised body in relaxed
// canonical form (RFC 6376 §3.4.4): whitespace runs as one space, none at
// line ends, no empty lines at the end, and a final CRLF unless the body is
// empty.
func relaxedBodyHash(body []byte) [sha256.Size]byte {
	h := sha256.New()
	w := bufio.NewWriterSize(h, 32*1024)
	emptyLines := 0
	for len(body) > 0 {
		end, next := lineAt(body, 0)
		line := body[:end]
		body = body[next:]
		// Trim trailing whitespace, then collapse the runs inside.
		n := len(line)
		for n > 0 && (line[n-1] == ' ' || line[n-1] == '\t') {
			n--
		}
		line = line[:n]
		if len(line) == 0 {
			emptyLines++
			continue
		}
		for ; emptyLines > 0; emptyLines-- {
			w.WriteString("\r\n")
		}
		space := false
		for _, c := range line {
			if c == ' ' || c == '\t' {
				space = true
				continue
			}
			if space {
				w.WriteByte(' ')
				space = false
			}
			w.WriteByte(c)
		}
		w.WriteString("\r\n")
	}
	w.Flush()
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
