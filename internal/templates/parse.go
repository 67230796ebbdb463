package templates

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mailgun/raymond/v2/ast"
	"github.com/mailgun/raymond/v2/lexer"
	"github.com/mailgun/raymond/v2/parser"
)

// Compiled is a template parsed and ready to render any number of times; it
// is immutable, so one Compiled serves every destination of a bulk send.
type Compiled struct {
	name                string
	subject, text, html *part
}

// part is one parsed part (subject, text or HTML) with the inline partials
// it declares.
type part struct {
	program  *ast.Program
	partials map[string]*ast.Program
}

// Name is the template's name ("" for inline content).
func (c *Compiled) Name() string { return c.name }

// Compile checks a template's content as SES does when a template is stored
// or given inline and parses its parts. The name is not checked here: inline
// content has none, and the store checks names itself.
func Compile(t *Template) (*Compiled, error) {
	if err := t.checkContent(); err != nil {
		return nil, err
	}
	c := &Compiled{name: t.Name}
	for _, p := range []struct {
		dst  **part
		src  string
		what string
	}{{&c.subject, t.Subject, "subject"}, {&c.text, t.Text, "text"}, {&c.html, t.HTML, "HTML"}} {
		if p.src == "" {
			continue
		}
		parsed, err := parsePart(p.src)
		if err != nil {
			return nil, invalidTemplate(t.Name, "The %s part of the template is not valid: %s", p.what, err)
		}
		*p.dst = parsed
	}
	return c, nil
}

func parsePart(src string) (*part, error) {
	body, inline, err := extractInlinePartials(src)
	if err != nil {
		return nil, err
	}
	prog, err := parse(body)
	if err != nil {
		return nil, err
	}
	p := &part{program: prog}
	for _, d := range inline {
		prog, err := parse(d.body)
		if err != nil {
			return nil, fmt.Errorf("partial %q: %w", d.name, err)
		}
		if p.partials == nil {
			p.partials = make(map[string]*ast.Program)
		}
		p.partials[d.name] = prog // a later declaration wins, as in Handlebars
	}
	return p, nil
}

// parse parses one Handlebars source with raymond, never leaving a lexer
// goroutine behind (see checkGrammar) and never letting a panic out.
func parse(src string) (prog *ast.Program, err error) {
	if err := checkGrammar(lexer.Collect(src)); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, fmt.Errorf("template parser failed: %v", r)
		}
	}()
	return parser.Parse(src)
}

// Inline partials — {{#*inline "name"}}…{{/inline}} — are Handlebars
// decorators, which raymond's lexer does not know ("*" is not allowed after
// "{{#"). They are cut out of the source before parsing and parsed on
// their own; {{> name}} then finds them. A declaration alone on its lines
// takes those lines with it, as a standalone block does in Handlebars.
var (
	inlineOpen  = regexp.MustCompile(`\{\{~?#\*\s*inline\s+(?:"([^"]*)"|'([^']*)')\s*~?\}\}`)
	inlineClose = regexp.MustCompile(`\{\{~?/\s*inline\s*~?\}\}`)
)

type inlinePartial struct{ name, body string }

func extractInlinePartials(src string) (string, []inlinePartial, error) {
	if !strings.Contains(src, "inline") {
		return src, nil, nil
	}
	var out strings.Builder
	var found []inlinePartial
	rest := src
	for {
		open := inlineOpen.FindStringSubmatchIndex(rest)
		if open == nil {
			out.WriteString(rest)
			return out.String(), found, nil
		}
		var name string
		if open[2] >= 0 {
			name = rest[open[2]:open[3]]
		} else {
			name = rest[open[4]:open[5]]
		}
		after := rest[open[1]:]
		closing := inlineClose.FindStringIndex(after)
		if closing == nil {
			return "", nil, fmt.Errorf("inline partial %q is not closed with {{/inline}}", name)
		}
		body := after[:closing[0]]
		start, end := open[0], open[1]+closing[1]
		// Standalone tags: drop the declaration's own lines.
		start, end = standalone(rest, start, open[1], open[1]+closing[0], end)
		body = trimStandaloneBody(body)
		out.WriteString(rest[:start])
		found = append(found, inlinePartial{name: name, body: body})
		rest = rest[end:]
	}
}

// standalone widens [start, end) — an inline declaration whose opening tag
// ends at openEnd and whose closing tag starts at closeStart — over the
// blank text before the opening tag on its line and after the closing tag up
// to and including the line break, when both tags stand alone.
func standalone(s string, start, openEnd, closeStart, end int) (int, int) {
	lineStart := strings.LastIndexByte(s[:start], '\n') + 1
	if strings.Trim(s[lineStart:start], " \t") != "" {
		return start, end
	}
	if !blankToEOL(s[openEnd:]) {
		return start, end
	}
	closeLine := strings.LastIndexByte(s[:closeStart], '\n') + 1
	if strings.Trim(s[closeLine:closeStart], " \t") != "" {
		return start, end
	}
	tail := s[end:]
	i := 0
	for i < len(tail) && (tail[i] == ' ' || tail[i] == '\t') {
		i++
	}
	switch {
	case strings.HasPrefix(tail[i:], "\r\n"):
		return lineStart, end + i + 2
	case strings.HasPrefix(tail[i:], "\n"):
		return lineStart, end + i + 1
	case i == len(tail):
		return lineStart, end + i
	}
	return start, end
}

// blankToEOL reports whether s is blank up to its first line break.
func blankToEOL(s string) bool {
	line, _, _ := strings.Cut(s, "\n")
	return strings.Trim(line, " \t\r") == ""
}

// trimStandaloneBody removes the line break after a standalone opening tag
// and the indentation before a standalone closing tag.
func trimStandaloneBody(body string) string {
	if first, rest, ok := strings.Cut(body, "\n"); ok && strings.Trim(first, " \t\r") == "" {
		body = rest
	}
	if i := strings.LastIndexByte(body, '\n'); i >= 0 && strings.Trim(body[i+1:], " \t") == "" {
		body = body[:i+1]
	}
	return body
}
