package tracking

import (
	"bytes"
	"html"
	"strings"
)

// MaxLinkLength is the longest link that is tracked; longer ones are left
// as they are (SES-BEHAVIOR §9: SES does not track links over 2048
// characters).
const MaxLinkLength = 2048

// Limits of a link tag (SES-BEHAVIOR §9: each ≤ 256 characters of
// [A-Za-z0-9_-]).
const maxTagLength = 256

// htmlEdit is what rewriteHTML does to one HTML document.
type htmlEdit struct {
	// click returns the tracking URL of a link, or false to leave it.
	click func(l Link, scheme string) (string, bool)
	// pixel is the <img> inserted before </body>, or at the end; nil for none.
	pixel []byte
}

// htmlStats counts what rewriteHTML changed.
type htmlStats struct{ links, pixels, attrs int }

func (s htmlStats) changed() bool { return s.links+s.pixels+s.attrs > 0 }

// rewriteHTML rewrites the <a href> links of an HTML document and adds the
// pixel. It is a tolerant scanner, not a parser: it finds start tags outside
// comments and raw-text elements (script, style, …), and it edits only the
// bytes of the <a> tags it changes, so the rest of the document is copied
// unchanged, whatever its validity or charset (ASCII-compatible ones; the
// caller skips UTF-16 and UTF-32).
func rewriteHTML(src []byte, e htmlEdit) ([]byte, htmlStats) {
	var st htmlStats
	out := make([]byte, 0, len(src)+len(src)/4+len(e.pixel))
	bodyEnd := -1 // offset in out of the last </body
	i := 0
scan:
	for i < len(src) {
		j := bytes.IndexByte(src[i:], '<')
		if j < 0 {
			break
		}
		j += i
		out = append(out, src[i:j]...)
		rest := src[j:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				i = j
				break scan
			}
			end += 4 + 3
			out = append(out, rest[:end]...)
			i = j + end
			continue
		case len(rest) > 2 && rest[1] == '/' && isAlpha(rest[2]):
			name, _ := tagName(rest[2:])
			if name == "body" {
				bodyEnd = len(out)
			}
			out = append(out, '<')
			i = j + 1
			continue
		case len(rest) > 1 && isAlpha(rest[1]):
		default:
			out = append(out, '<')
			i = j + 1
			continue
		}
		name, n := tagName(rest[1:])
		attrs, end, ok := parseAttrs(rest, 1+n)
		if !ok { // an unterminated tag: leave the rest as it is
			i = j
			break scan
		}
		tag := rest[:end]
		if name == "a" {
			tag = rewriteAnchor(tag, attrs, e, &st)
		}
		out = append(out, tag...)
		i = j + end
		if rawText[name] {
			// Skip to the element's end tag: its content is not markup.
			k := indexFold(src[i:], "</"+name)
			if k < 0 {
				break scan
			}
			out = append(out, src[i:i+k]...)
			i += k
		}
	}
	out = append(out, src[i:]...)
	if e.pixel != nil {
		if bodyEnd < 0 {
			out = append(out, e.pixel...)
		} else {
			out = append(out[:bodyEnd], append(append([]byte(nil), e.pixel...), out[bodyEnd:]...)...)
		}
		st.pixels++
	}
	return out, st
}

// rawText are elements whose content is text, not markup (HTML Living
// Standard §13.1.2: raw text and escapable raw text elements).
var rawText = map[string]bool{"script": true, "style": true, "textarea": true, "title": true, "xmp": true, "iframe": true,
	"noembed": true, "noframes": true, "plaintext": true}

// attr is one attribute of a tag, as byte offsets into the tag.
type attr struct {
	start      int // the whitespace before the name
	name       string
	valStart   int // the value, with its quotes; valStart == valEnd: no value
	valEnd     int
	end        int
	valueBytes []byte // the value without quotes, entities not decoded
}

// tagName reads a tag name, lowercased, and its length.
func tagName(b []byte) (string, int) {
	n := 0
	for n < len(b) && !isSpace(b[n]) && b[n] != '/' && b[n] != '>' {
		n++
	}
	return strings.ToLower(string(b[:n])), n
}

// parseAttrs reads the attributes of the tag starting at tag[0] == '<' from
// offset i, and returns them with the offset just past the closing '>'.
func parseAttrs(tag []byte, i int) ([]attr, int, bool) {
	var attrs []attr
	for {
		start := i
		for i < len(tag) && (isSpace(tag[i]) || tag[i] == '/') {
			i++
		}
		if i >= len(tag) {
			return nil, 0, false
		}
		if tag[i] == '>' {
			return attrs, i + 1, true
		}
		ns := i
		for i < len(tag) && !isSpace(tag[i]) && tag[i] != '/' && tag[i] != '>' && (tag[i] != '=' || i == ns) {
			i++
		}
		a := attr{start: start, name: strings.ToLower(string(tag[ns:i]))}
		k := i
		for k < len(tag) && isSpace(tag[k]) {
			k++
		}
		if k < len(tag) && tag[k] == '=' {
			k++
			for k < len(tag) && isSpace(tag[k]) {
				k++
			}
			if k >= len(tag) {
				return nil, 0, false
			}
			a.valStart = k
			if q := tag[k]; q == '"' || q == '\'' {
				e := bytes.IndexByte(tag[k+1:], q)
				if e < 0 {
					return nil, 0, false
				}
				a.valueBytes = tag[k+1 : k+1+e]
				k += e + 2
			} else {
				for k < len(tag) && !isSpace(tag[k]) && tag[k] != '>' {
					k++
				}
				a.valueBytes = tag[a.valStart:k]
			}
			a.valEnd = k
			i = k
		} else {
			a.valStart, a.valEnd = i, i
		}
		a.end = i
		attrs = append(attrs, a)
	}
}

// rewriteAnchor returns an <a> tag with its href tracked (unless it has
// ses:no-track) and the ses:no-track and ses:tags attributes removed.
func rewriteAnchor(tag []byte, attrs []attr, e htmlEdit, st *htmlStats) []byte {
	href, noTrack := -1, false
	var tags []Tag
	for k, a := range attrs {
		switch a.name {
		case "href":
			if href < 0 { // the first one wins (HTML §13.2.5.33)
				href = k
			}
		case "ses:no-track":
			noTrack = true
		case "ses:tags":
			tags = append(tags, parseTags(html.UnescapeString(string(a.valueBytes)))...)
		}
	}
	type edit struct {
		from, to int
		with     string
	}
	var edits []edit
	for _, a := range attrs {
		if a.name == "ses:no-track" || a.name == "ses:tags" {
			edits = append(edits, edit{a.start, a.end, ""})
			st.attrs++
		}
	}
	if href >= 0 && !noTrack && e.click != nil {
		a := attrs[href]
		// HTML strips leading and trailing ASCII whitespace from a URL
		// (URL Standard, "basic URL parser").
		link := strings.Trim(html.UnescapeString(string(a.valueBytes)), " \t\n\f\r")
		if scheme, ok := trackable(link); ok {
			if u, ok := e.click(Link{URL: link, Tags: tags}, scheme); ok {
				edits = append(edits, edit{a.valStart, a.valEnd, `"` + html.EscapeString(u) + `"`})
				st.links++
			}
		}
	}
	if len(edits) == 0 {
		return tag
	}
	// Edits are in attribute order except the href one; sort by position.
	for x := 1; x < len(edits); x++ {
		for y := x; y > 0 && edits[y].from < edits[y-1].from; y-- {
			edits[y], edits[y-1] = edits[y-1], edits[y]
		}
	}
	out := make([]byte, 0, len(tag)+64)
	last := 0
	for _, ed := range edits {
		out = append(out, tag[last:ed.from]...)
		out = append(out, ed.with...)
		last = ed.to
	}
	return append(out, tag[last:]...)
}

// trackable reports whether a link is tracked — http and https only, not
// mailto or relative links, and not longer than MaxLinkLength — and its
// scheme.
func trackable(link string) (string, bool) {
	if len(link) > MaxLinkLength {
		return "", false
	}
	scheme, rest, ok := strings.Cut(link, ":")
	if !ok || !strings.HasPrefix(rest, "//") || len(rest) == 2 {
		return "", false
	}
	scheme = strings.ToLower(scheme)
	return scheme, scheme == "http" || scheme == "https"
}

// parseTags reads a ses:tags value, "name1:value1;name2:value2;". Pairs that
// break SES's rules (names and values of 1–256 characters of
// [A-Za-z0-9_-]) are dropped: a bad tag must not lose the click.
func parseTags(v string) []Tag {
	var tags []Tag
	for _, pair := range strings.Split(v, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validTagPart(name) || !validTagPart(value) {
			continue
		}
		tags = append(tags, Tag{Name: name, Value: value})
	}
	return tags
}

func validTagPart(s string) bool {
	if s == "" || len(s) > maxTagLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// indexFold is bytes.Index for an ASCII needle, ignoring case.
func indexFold(b []byte, needle string) int {
	n := len(needle)
next:
	for i := 0; i+n <= len(b); i++ {
		for k := range n {
			if lower(b[i+k]) != lower(needle[k]) {
				continue next
			}
		}
		return i
	}
	return -1
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
