package templates

import (
	"fmt"
	"strconv"

	"github.com/mailgun/raymond/v2/lexer"
)

// checkGrammar decides whether raymond's parser will accept a token stream,
// without running that parser.
//
// It exists because raymond's parser.Parse leaks: the parser reads tokens
// from a lexer goroutine over an unbuffered channel, and when it stops at a
// syntax error that goroutine stays blocked on its next send forever, holding
// the whole source. A template with a syntax error is ordinary user input
// here (CreateTemplate, v2 inline TemplateContent), so parse.go runs the
// lexer to its end with lexer.Collect, which never leaks, checks the tokens
// with this recognizer, and only hands sources that pass to parser.Parse.
//
// The recognizer is raymond v2.0.48's grammar (parser/parser.go), rule for
// rule, with the same one- and two-token look-ahead; it builds no tree. The
// fuzz target checks that it never accepts what the parser rejects.
type grammar struct {
	toks []lexer.Token // ends with TokenEOF or TokenError
	i    int
}

// grammarError is a syntax error, in words close to raymond's.
type grammarError struct {
	line int
	msg  string
}

func (e *grammarError) Error() string {
	return fmt.Sprintf("Parse error on line %d: %s", e.line, e.msg)
}

func checkGrammar(toks []lexer.Token) error {
	if len(toks) == 0 {
		return &grammarError{line: 1, msg: "no tokens"}
	}
	g := &grammar{toks: toks}
	if err := g.program(); err != nil {
		return err
	}
	tok, err := g.shift()
	if err != nil {
		return err
	}
	if tok.Kind != lexer.TokenEOF {
		return g.errAt(tok, "Syntax error")
	}
	return nil
}

// peek returns the token k places ahead; past the end, the final EOF or
// error token (raymond's buffer never grows past it either).
func (g *grammar) peek(k int) lexer.Token {
	if j := g.i + k; j < len(g.toks) {
		return g.toks[j]
	}
	return g.toks[len(g.toks)-1]
}

// have reports whether n tokens remain, as raymond's parser.have does.
func (g *grammar) have(n int) bool { return len(g.toks)-g.i >= n }

func (g *grammar) is(kind lexer.TokenKind) bool { return g.have(1) && g.peek(0).Kind == kind }

// shift consumes a token; an error token is a lexer error.
func (g *grammar) shift() (lexer.Token, error) {
	tok := g.peek(0)
	if g.i < len(g.toks) {
		g.i++
	}
	if tok.Kind == lexer.TokenError {
		return tok, g.errAt(tok, "Lexer error: "+tok.Val)
	}
	return tok, nil
}

func (g *grammar) expect(kind lexer.TokenKind) (lexer.Token, error) {
	tok, err := g.shift()
	if err != nil {
		return tok, err
	}
	if tok.Kind != kind {
		return tok, g.errAt(tok, fmt.Sprintf("Expecting %s, got: '%s'", kind, tok))
	}
	return tok, nil
}

func (g *grammar) errAt(tok lexer.Token, msg string) error {
	return &grammarError{line: tok.Line, msg: msg}
}

// program : statement*
func (g *grammar) program() error {
	for g.isStatement() {
		if err := g.statement(); err != nil {
			return err
		}
	}
	return nil
}

func (g *grammar) isStatement() bool {
	if !g.have(1) {
		return false
	}
	switch g.peek(0).Kind {
	case lexer.TokenOpen, lexer.TokenOpenUnescaped, lexer.TokenOpenBlock, lexer.TokenOpenInverse,
		lexer.TokenOpenRawBlock, lexer.TokenOpenPartial, lexer.TokenContent, lexer.TokenComment:
		return true
	}
	return false
}

// statement : mustache | block | rawBlock | partial | content | COMMENT
func (g *grammar) statement() error {
	switch g.peek(0).Kind {
	case lexer.TokenOpen, lexer.TokenOpenUnescaped:
		return g.mustache()
	case lexer.TokenOpenBlock:
		return g.block(false)
	case lexer.TokenOpenInverse:
		return g.block(true)
	case lexer.TokenOpenRawBlock:
		return g.rawBlock()
	case lexer.TokenOpenPartial:
		return g.partial()
	}
	// CONTENT or COMMENT
	_, err := g.shift()
	return err
}

// mustache : OPEN helperName param* hash? CLOSE
//
//	| OPEN_UNESCAPED helperName param* hash? CLOSE_UNESCAPED
func (g *grammar) mustache() error {
	open, err := g.shift()
	if err != nil {
		return err
	}
	closing := lexer.TokenClose
	if open.Kind == lexer.TokenOpenUnescaped {
		closing = lexer.TokenCloseUnescaped
	}
	if _, err := g.expression(); err != nil {
		return err
	}
	_, err = g.expect(closing)
	return err
}

// block : openBlock program inverseChain? closeBlock
// block : openInverse program inverseAndProgram? closeBlock
func (g *grammar) block(inverse bool) error {
	name, err := g.openBlock()
	if err != nil {
		return err
	}
	if err := g.program(); err != nil {
		return err
	}
	if inverse {
		if g.is(lexer.TokenInverse) {
			if err := g.inverseAndProgram(); err != nil {
				return err
			}
		}
	} else if g.is(lexer.TokenOpenInverseChain) || g.is(lexer.TokenInverse) {
		if err := g.inverseChain(); err != nil {
			return err
		}
	}
	return g.closeBlock(name)
}

// openBlock : (OPEN_BLOCK | OPEN_INVERSE | OPEN_INVERSE_CHAIN) helperName
// param* hash? blockParams? CLOSE; it returns the helper's canonical name.
func (g *grammar) openBlock() (string, error) {
	if _, err := g.shift(); err != nil {
		return "", err
	}
	name, err := g.expression()
	if err != nil {
		return "", err
	}
	if g.is(lexer.TokenOpenBlockParams) {
		if err := g.blockParams(); err != nil {
			return "", err
		}
	}
	_, err = g.expect(lexer.TokenClose)
	return name, err
}

// inverseChain : openInverseChain program inverseChain? | inverseAndProgram
func (g *grammar) inverseChain() error {
	if g.is(lexer.TokenInverse) {
		return g.inverseAndProgram()
	}
	if _, err := g.openBlock(); err != nil {
		return err
	}
	if err := g.program(); err != nil {
		return err
	}
	if g.is(lexer.TokenOpenInverseChain) || g.is(lexer.TokenInverse) {
		return g.inverseChain()
	}
	return nil
}

// inverseAndProgram : INVERSE program
func (g *grammar) inverseAndProgram() error {
	if _, err := g.shift(); err != nil {
		return err
	}
	return g.program()
}

// closeBlock : OPEN_ENDBLOCK helperName CLOSE, naming the open block.
func (g *grammar) closeBlock(open string) error {
	return g.endOf(open, lexer.TokenOpenEndBlock, lexer.TokenClose)
}

// endOf reads the end of a block — opening, the helper's name, closing
// tokens — and checks that it names the block that is open.
func (g *grammar) endOf(open string, opening, closing lexer.TokenKind) error {
	if _, err := g.expect(opening); err != nil {
		return err
	}
	tok := g.peek(0)
	name, err := g.helperName()
	if err != nil {
		return err
	}
	if name != open {
		return g.errAt(tok, fmt.Sprintf("%s doesn't match %s", open, name))
	}
	_, err = g.expect(closing)
	return err
}

// rawBlock : OPEN_RAW_BLOCK helperName param* hash? CLOSE_RAW_BLOCK CONTENT
// OPEN_END_RAW_BLOCK helperName CLOSE_RAW_BLOCK
func (g *grammar) rawBlock() error {
	if _, err := g.shift(); err != nil {
		return err
	}
	open, err := g.expression()
	if err != nil {
		return err
	}
	if _, err := g.expect(lexer.TokenCloseRawBlock); err != nil {
		return err
	}
	if _, err := g.expect(lexer.TokenContent); err != nil {
		return err
	}
	return g.endOf(open, lexer.TokenOpenEndRawBlock, lexer.TokenCloseRawBlock)
}

// partial : OPEN_PARTIAL (helperName | sexpr) param* hash? CLOSE
func (g *grammar) partial() error {
	if _, err := g.shift(); err != nil {
		return err
	}
	if err := g.param(); err != nil {
		return err
	}
	if err := g.paramsHash(); err != nil {
		return err
	}
	_, err := g.expect(lexer.TokenClose)
	return err
}

// expression : helperName param* hash?; it returns the helper's canonical
// name, which a block's closing tag must repeat.
func (g *grammar) expression() (string, error) {
	name, err := g.helperName()
	if err != nil {
		return "", err
	}
	return name, g.paramsHash()
}

// param* hash?
func (g *grammar) paramsHash() error {
	for g.isParam() {
		if err := g.param(); err != nil {
			return err
		}
	}
	for g.isHashSegment() {
		g.i += 2 // ID EQUALS
		if err := g.param(); err != nil {
			return err
		}
	}
	return nil
}

func (g *grammar) isParam() bool {
	return (g.is(lexer.TokenOpenSexpr) || g.isHelperName()) && !g.isHashSegment()
}

func (g *grammar) isHashSegment() bool {
	return g.have(2) && g.peek(0).Kind == lexer.TokenID && g.peek(1).Kind == lexer.TokenEquals
}

func (g *grammar) isHelperName() bool {
	switch g.peek(0).Kind {
	case lexer.TokenBoolean, lexer.TokenNumber, lexer.TokenString, lexer.TokenData, lexer.TokenID:
		return true
	}
	return false
}

// param : helperName | sexpr
func (g *grammar) param() error {
	if g.is(lexer.TokenOpenSexpr) {
		return g.sexpr()
	}
	_, err := g.helperName()
	return err
}

// sexpr : OPEN_SEXPR helperName param* hash? CLOSE_SEXPR
func (g *grammar) sexpr() error {
	if _, err := g.shift(); err != nil {
		return err
	}
	if _, err := g.expression(); err != nil {
		return err
	}
	_, err := g.expect(lexer.TokenCloseSexpr)
	return err
}

// blockParams : OPEN_BLOCK_PARAMS ID+ CLOSE_BLOCK_PARAMS
func (g *grammar) blockParams() error {
	if _, err := g.shift(); err != nil {
		return err
	}
	n := 0
	for g.is(lexer.TokenID) {
		g.i++
		n++
	}
	if n == 0 {
		return g.errAt(g.peek(0), "Expecting ID")
	}
	_, err := g.expect(lexer.TokenCloseBlockParams)
	return err
}

// helperName : path | dataName | STRING | NUMBER | BOOLEAN; it returns the
// name as ast.HelperNameStr would give it.
func (g *grammar) helperName() (string, error) {
	tok := g.peek(0)
	switch tok.Kind {
	case lexer.TokenBoolean:
		g.i++
		if tok.Val == "true" {
			return "true", nil
		}
		return "false", nil
	case lexer.TokenNumber:
		g.i++
		// raymond: an int if Atoi takes it, else a float, else an error.
		if n, err := strconv.Atoi(tok.Val); err == nil {
			return strconv.FormatFloat(float64(n), 'f', 0, 64), nil
		}
		f, err := strconv.ParseFloat(tok.Val, 64)
		if err != nil {
			return "", g.errAt(tok, "Failed to parse number: "+tok.Val)
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case lexer.TokenString:
		g.i++
		return tok.Val, nil
	case lexer.TokenData:
		g.i++
		return g.path("@")
	}
	return g.path("")
}

// path : ID (SEP ID)*; raymond refuses "..", "." and "this" after a named
// segment. The name is the path as written, brackets of a lone [segment]
// removed.
func (g *grammar) path(prefix string) (string, error) {
	tok, err := g.expect(lexer.TokenID)
	if err != nil {
		return "", err
	}
	original := prefix + tok.Val
	named := !isScopePart(tok.Val)
	for g.is(lexer.TokenSep) {
		sep, _ := g.shift()
		original += sep.Val
		tok, err := g.expect(lexer.TokenID)
		if err != nil {
			return "", err
		}
		original += tok.Val
		if isScopePart(tok.Val) {
			if named {
				return "", g.errAt(tok, "Invalid path: "+original)
			}
		} else {
			named = true
		}
	}
	if len(original) >= 2 && original[0] == '[' && original[len(original)-1] == ']' {
		original = original[1 : len(original)-1]
	}
	return original, nil
}

func isScopePart(s string) bool { return s == ".." || s == "." || s == "this" }
