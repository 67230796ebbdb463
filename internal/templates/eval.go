package templates

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/mailgun/raymond/v2/ast"
)

// The evaluation is this package's own, over raymond's AST, rather than
// raymond's Template.Exec, because Exec cannot render as SES does:
//
//   - it HTML-escapes every {{value}}, and SES escapes nothing;
//   - it renders an absent value as "" and leaves no trace of it, where SES
//     fails with "Attribute 'x' is not present in the rendering data." — and
//     a second pass that guesses which references Exec resolved would have
//     to copy its scoping exactly;
//   - it resolves a name missing from an #each item against the enclosing
//     contexts (Mustache's rule), where Handlebars and SES do not;
//   - it walks a JSON object in Go's random map order, so one send could
//     render differently from the next;
//   - its helpers live in a process-wide registry, and {{log}} writes to a
//     process-wide logrus logger.
//
// The semantics below are Handlebars.js 4's, with SES's rule for absent
// attributes; the built-in helpers are Handlebars' own: if, unless, each,
// with, lookup and log.

// Rendering limits. A template is at most 500 KB and its data 256 KB, but
// nested #each blocks multiply; these keep one rendering's time and memory
// bounded.
const (
	maxOutput = 10 << 20 // bytes per part: the v1 message limit, far past any real email
	maxSteps  = 1_000_000
	maxDepth  = 64 // nested blocks and partials
)

// Rendered is a template's three parts rendered; Text or HTML is "" when the
// template has no such part.
type Rendered struct {
	Subject, Text, HTML string
}

// Render renders every part of c with d (nil: no data). A failure is an *Error of kind
// MissingAttribute or RenderFailed naming the template.
func (c *Compiled) Render(d *Data) (Rendered, error) {
	if d == nil {
		d = &Data{root: newObject(0)}
	}
	var r Rendered
	for _, p := range []struct {
		part *part
		dst  *string
	}{{c.subject, &r.Subject}, {c.text, &r.Text}, {c.html, &r.HTML}} {
		if p.part == nil {
			continue
		}
		s, err := render(p.part, d)
		if err != nil {
			err.Template = c.name
			return Rendered{}, err
		}
		*p.dst = s
	}
	return r, nil
}

// evaluator renders one part.
type evaluator struct {
	part    *part
	out     *strings.Builder
	written int
	ctx     []any            // context stack; the last is `this`, `../` steps back
	data    *frame           // @-variables: @root, @index, @key, @first, @last
	params  []map[string]any // block parameters (as |x i|), innermost last
	steps   int
	depth   int
}

// frame is one level of @-variables; a name not set here is looked up in
// the parent, as Handlebars' createFrame copies its parent.
type frame struct {
	vars   map[string]any
	parent *frame
}

func (f *frame) lookup(name string) (any, bool) {
	for ; f != nil; f = f.parent {
		if v, ok := f.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func render(p *part, d *Data) (string, *Error) {
	var b strings.Builder
	e := &evaluator{part: p, out: &b, ctx: []any{d.root}, data: &frame{vars: map[string]any{"root": d.root}}}
	if err := e.program(p.program); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (e *evaluator) program(prog *ast.Program) *Error {
	if prog == nil {
		return nil
	}
	for _, n := range prog.Body {
		if err := e.statement(n); err != nil {
			return err
		}
	}
	return nil
}

func (e *evaluator) step() *Error {
	e.steps++
	if e.steps > maxSteps {
		return renderFailed("The template is too complex to render.")
	}
	return nil
}

func (e *evaluator) write(s string) *Error {
	e.written += len(s)
	if e.written > maxOutput {
		return renderFailed("The rendered template exceeds %d bytes.", maxOutput)
	}
	e.out.WriteString(s)
	return nil
}

func (e *evaluator) statement(n ast.Node) *Error {
	if err := e.step(); err != nil {
		return err
	}
	switch n := n.(type) {
	case *ast.ContentStatement:
		return e.write(n.Value)
	case *ast.CommentStatement:
		return nil
	case *ast.MustacheStatement:
		v, ok, name, err := e.expression(n.Expression)
		if err != nil {
			return err
		}
		if !ok {
			return missingAttribute(name)
		}
		// {{x}} and {{{x}}} alike: SES inserts values verbatim.
		return e.write(text(v))
	case *ast.BlockStatement:
		return e.block(n)
	case *ast.PartialStatement:
		return e.partial(n)
	}
	return renderFailed("Unsupported template construct.")
}

// enter renders prog in a new scope: with ctx as `this` when push is set,
// with vars as @-variables, and with the block's parameters bound to args.
func (e *evaluator) enter(prog *ast.Program, push bool, ctx any, vars map[string]any, args ...any) *Error {
	if prog == nil {
		return nil
	}
	if e.depth >= maxDepth {
		return renderFailed("Blocks and partials are nested more than %d deep.", maxDepth)
	}
	e.depth++
	defer func() { e.depth-- }()
	if push {
		e.ctx = append(e.ctx, ctx)
		defer func() { e.ctx = e.ctx[:len(e.ctx)-1] }()
	}
	if vars != nil {
		e.data = &frame{vars: vars, parent: e.data}
		defer func() { e.data = e.data.parent }()
	}
	if len(prog.BlockParams) > 0 && len(args) > 0 {
		bp := make(map[string]any, len(prog.BlockParams))
		for i, name := range prog.BlockParams {
			if i < len(args) {
				bp[name] = args[i]
			}
		}
		e.params = append(e.params, bp)
		defer func() { e.params = e.params[:len(e.params)-1] }()
	}
	return e.program(prog)
}

// block renders {{#name …}}…{{else}}…{{/name}} and {{^name}}…{{/name}}.
func (e *evaluator) block(b *ast.BlockStatement) *Error {
	x := b.Expression
	name := x.HelperName()
	switch name {
	case "if", "unless":
		v, err := e.oneArgument(x, name)
		if err != nil {
			return err
		}
		includeZero, err := e.hashTruth(x.Hash, "includeZero")
		if err != nil {
			return err
		}
		// A condition may name an absent attribute: that is false, not an
		// error, and the branch not taken is never rendered (SES-BEHAVIOR §12).
		if truthy(v, includeZero) == (name == "if") {
			return e.enter(b.Program, false, nil, nil)
		}
		return e.enter(b.Inverse, false, nil, nil)
	case "each":
		v, err := e.oneArgument(x, name)
		if err != nil {
			return err
		}
		return e.each(b, v)
	case "with":
		v, err := e.oneArgument(x, name)
		if err != nil {
			return err
		}
		if empty(v) {
			return e.enter(b.Inverse, false, nil, nil)
		}
		return e.enter(b.Program, true, v, nil, v)
	case "lookup", "log":
		return renderFailed("The %s helper cannot be used as a block.", name)
	}
	if len(x.Params) > 0 || x.Hash != nil {
		return missingHelper(x)
	}
	// A section: Handlebars' blockHelperMissing.
	v, _, _, err := e.head(x)
	if err != nil {
		return err
	}
	switch t := v.(type) {
	case bool:
		if t {
			return e.enter(b.Program, false, nil, nil)
		}
	case nil:
	case []any:
		return e.each(b, v)
	default:
		return e.enter(b.Program, true, v, nil, v)
	}
	return e.enter(b.Inverse, false, nil, nil)
}

// each renders b's program once per element of an array or member of an
// object (in the data's order), with @index, @key, @first and @last, and
// b's inverse when there is nothing to walk.
func (e *evaluator) each(b *ast.BlockStatement, v any) *Error {
	var n int
	var at func(i int) (key, val any)
	switch t := v.(type) {
	case []any:
		n = len(t)
		at = func(i int) (any, any) { return json.Number(strconv.Itoa(i)), t[i] }
	case *object:
		n = len(t.keys)
		at = func(i int) (any, any) { return t.keys[i], t.vals[t.keys[i]] }
	}
	if n == 0 {
		return e.enter(b.Inverse, false, nil, nil)
	}
	for i := 0; i < n; i++ {
		if err := e.step(); err != nil {
			return err
		}
		key, val := at(i)
		vars := map[string]any{"index": json.Number(strconv.Itoa(i)), "key": key, "first": i == 0, "last": i == n-1}
		if err := e.enter(b.Program, true, val, vars, val, key); err != nil {
			return err
		}
	}
	return nil
}

func (e *evaluator) oneArgument(x *ast.Expression, helper string) (any, *Error) {
	if len(x.Params) != 1 {
		return nil, renderFailed("#%s requires exactly one argument.", helper)
	}
	v, _, _, err := e.param(x.Params[0])
	return v, err
}

func (e *evaluator) hashTruth(h *ast.Hash, key string) (bool, *Error) {
	if h == nil {
		return false, nil
	}
	for _, p := range h.Pairs {
		if p.Key == key {
			v, _, _, err := e.param(p.Val)
			return truthy(v, false), err
		}
	}
	return false, nil
}

// expression evaluates a mustache's expression: a helper call or a value.
// ok is false when the value is absent, and name is then what was looked up.
func (e *evaluator) expression(x *ast.Expression) (v any, ok bool, name string, err *Error) {
	switch h := x.HelperName(); h {
	case "lookup", "log":
		return e.call(h, x)
	case "if", "unless", "each", "with":
		return nil, false, "", renderFailed("The %s helper must be used as a block: {{#%s}}…{{/%s}}.", h, h, h)
	}
	if len(x.Params) > 0 || x.Hash != nil {
		return nil, false, "", missingHelper(x)
	}
	return e.head(x)
}

// head evaluates an expression without parameters. A literal head, as in
// {{"first name"}}, names a member of the current context, as in Handlebars.
func (e *evaluator) head(x *ast.Expression) (any, bool, string, *Error) {
	if p, ok := x.Path.(*ast.PathExpression); ok {
		v, ok := e.path(p)
		return v, ok, p.Original, nil
	}
	name, _ := ast.LiteralStr(x.Path)
	v, ok := member(e.ctx[len(e.ctx)-1], name)
	return v, ok, name, nil
}

// call runs an inline helper: lookup or log.
func (e *evaluator) call(helper string, x *ast.Expression) (any, bool, string, *Error) {
	if helper == "log" {
		return "", true, "", nil // Handlebars logs to the console; SES to nowhere
	}
	// {{lookup object key}}: both must be present, and so must the member.
	if len(x.Params) != 2 {
		return nil, false, "", renderFailed("lookup requires two arguments.")
	}
	obj, ok, name, err := e.param(x.Params[0])
	if err != nil || !ok {
		return nil, false, name, err
	}
	key, ok, name, err := e.param(x.Params[1])
	if err != nil || !ok {
		return nil, false, name, err
	}
	k := text(key)
	v, ok := member(obj, k)
	return v, ok, k, nil
}

// param evaluates a helper's parameter.
func (e *evaluator) param(n ast.Node) (any, bool, string, *Error) {
	switch n := n.(type) {
	case *ast.PathExpression:
		v, ok := e.path(n)
		return v, ok, n.Original, nil
	case *ast.StringLiteral:
		return n.Value, true, "", nil
	case *ast.NumberLiteral:
		return json.Number(n.Canonical()), true, "", nil
	case *ast.BooleanLiteral:
		return n.Value, true, "", nil
	case *ast.SubExpression:
		x := n.Expression
		if h := x.HelperName(); h == "lookup" || h == "log" {
			return e.call(h, x)
		}
		return nil, false, "", missingHelper(x)
	}
	return nil, false, "", renderFailed("Unsupported template expression.")
}

// path resolves a path expression: @data, a block parameter, or a member
// path from `this` or, with ../, an enclosing context. Unlike Mustache, a
// name absent from the current context is not looked for in the enclosing
// ones (Handlebars 4).
func (e *evaluator) path(p *ast.PathExpression) (any, bool) {
	parts := p.Parts
	var v any
	switch {
	case p.Data:
		f := e.data
		for i := 0; i < p.Depth && f != nil; i++ {
			f = f.parent
		}
		if f == nil || len(parts) == 0 {
			return nil, false
		}
		var ok bool
		if v, ok = f.lookup(segment(parts[0])); !ok {
			return nil, false
		}
		parts = parts[1:]
	case !p.Scoped && p.Depth == 0 && len(parts) > 0 && e.blockParam(parts[0]) != nil:
		v = e.blockParam(parts[0])[parts[0]]
		parts = parts[1:]
	default:
		i := len(e.ctx) - 1 - p.Depth
		if i < 0 {
			return nil, false
		}
		v = e.ctx[i]
	}
	for _, s := range parts {
		var ok bool
		if v, ok = member(v, segment(s)); !ok {
			return nil, false
		}
	}
	return v, true
}

// blockParam returns the innermost block-parameter scope binding name.
func (e *evaluator) blockParam(name string) map[string]any {
	for i := len(e.params) - 1; i >= 0; i-- {
		if _, ok := e.params[i][name]; ok {
			return e.params[i]
		}
	}
	return nil
}

// segment removes the brackets of a literal segment: [first name].
func segment(s string) string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

// partial renders {{> name}}, {{> name context}} or {{> name key=value}}
// from the part's inline partials, indented like the tag when it stands
// alone on its line.
func (e *evaluator) partial(n *ast.PartialStatement) *Error {
	var name string
	switch t := n.Name.(type) {
	case *ast.SubExpression:
		v, ok, nm, err := e.param(t)
		if err != nil {
			return err
		}
		if !ok {
			return missingAttribute(nm)
		}
		name = text(v)
	default:
		name, _ = ast.HelperNameStr(t)
	}
	prog := e.part.partials[name]
	if prog == nil {
		return renderFailed("The partial %s could not be found.", name)
	}
	if len(n.Params) > 1 {
		return renderFailed("Partial %s takes at most one context argument.", name)
	}
	ctx, push := e.ctx[len(e.ctx)-1], false
	if len(n.Params) == 1 {
		v, ok, nm, err := e.param(n.Params[0])
		if err != nil {
			return err
		}
		if !ok {
			return missingAttribute(nm)
		}
		ctx, push = v, true
	}
	if n.Hash != nil {
		// Hash arguments extend the partial's context (Handlebars).
		merged := newObject(len(n.Hash.Pairs))
		if o, ok := ctx.(*object); ok {
			for _, k := range o.keys {
				merged.set(k, o.vals[k])
			}
		}
		for _, p := range n.Hash.Pairs {
			v, ok, nm, err := e.param(p.Val)
			if err != nil {
				return err
			}
			if !ok {
				return missingAttribute(nm)
			}
			merged.set(p.Key, v)
		}
		ctx, push = merged, true
	}
	if n.Indent == "" {
		return e.enter(prog, push, ctx, nil)
	}
	outer := e.out
	var b strings.Builder
	e.out = &b
	err := e.enter(prog, push, ctx, nil)
	e.out = outer
	if err != nil {
		return err
	}
	indented := indent(b.String(), n.Indent)
	e.written -= b.Len()
	return e.write(indented)
}

// indent prefixes every line of s with ind, except an empty last line.
func indent(s, ind string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(ind)
			b.WriteString(l)
		}
	}
	return b.String()
}

func missingHelper(x *ast.Expression) *Error {
	name, _ := ast.HelperNameStr(x.Path)
	return renderFailed("Missing helper: \"%s\"", name)
}
