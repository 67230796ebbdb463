package templates

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/raymond/v2/lexer"
	"github.com/mailgun/raymond/v2/parser"
)

// The recognizer accepts exactly what raymond's parser accepts, on sources
// that exercise every rule of the grammar. (Refused sources are not given to
// the parser here: that is the leak the recognizer prevents.)
func TestGrammarAcceptsWhatRaymondParses(t *testing.T) {
	valid := []string{
		"", "plain text", "{{a}}", "{{{a}}}", "{{&a}}", "{{~a~}}", "{{a.b.c}}", "{{a/b}}", "{{./a}}", "{{this.a}}", "{{../a}}",
		"{{../../a.b}}", "{{@index}}", "{{@root.a.b}}", "{{@../index}}", "{{[a b].[c]}}", "{{a.[0]}}", "{{\"lit\"}}", "{{1}}", "{{1.5}}",
		"{{-2}}", "{{true}}", "{{false}}", "{{f a \"s\" 1 true (g b) k=v k2=(h c)}}", "{{#if a}}x{{/if}}", "{{#if a}}x{{else}}y{{/if}}",
		"{{#if a}}x{{^}}y{{/if}}", "{{#if a}}x{{else if b}}y{{else if c}}z{{else}}w{{/if}}", "{{^a}}x{{/a}}", "{{^a}}x{{else}}y{{/a}}",
		"{{#each a as |x i|}}{{x}}{{/each}}", "{{#with a as |b|}}{{b}}{{/with}}", "{{#a.b}}x{{/a.b}}", "{{#[a b]}}x{{/[a b]}}",
		"{{#\"s\"}}x{{/\"s\"}}", "{{#1}}x{{/1}}", "{{{{raw}}}} {{x}} {{{{/raw}}}}", "{{> p}}", "{{> p a}}", "{{> p k=v}}", "{{> (f a)}}",
		"{{> \"p\"}}", "{{! c }}", "{{!-- c --}}", "\\{{a}}", "\\\\{{a}}", "a\n{{#if b}}\n  c\n{{/if}}\n", "{{#each a~}} {{~/each}}",
		"{{a (b (c d) e=f)}}", "{{#a}}{{#b}}{{/b}}{{/a}}", "{{#if a}}{{else if b as |c|}}{{/if}}",
	}
	for _, src := range valid {
		if _, err := parser.Parse(src); err != nil {
			t.Fatalf("test source %q is not valid Handlebars for raymond: %v", src, err)
		}
		if err := checkGrammar(lexer.Collect(src)); err != nil {
			t.Errorf("grammar refused %q: %v", src, err)
		}
	}
	invalid := []string{
		"{{", "{{a", "{{a}", "{{#if a}}", "{{/if}}", "{{#if a}}{{/unless}}", "{{#if a}}{{else}}{{else}}{{/if}}", "{{a.this}}",
		"{{a/..}}", "{{(a)}}", "{{#each a as ||}}{{/each}}", "{{{a}}", "{{a=}}", "{{> }}", "{{{{raw}}}}{{{{/raw}}}}",
		"{{{{raw}}}}x{{{{/other}}}}", "{{0x1F}}", "{{1i}}", "{{\"unterminated}}", "{{[open}}", "{{!-- unclosed", "{{else}}",
		"{{#*inline \"x\"}}{{/inline}}", "{{a}}}", "{{@}}",
	}
	for _, src := range invalid {
		if err := checkGrammar(lexer.Collect(src)); err == nil {
			t.Errorf("grammar accepted %q", src)
		}
	}
}

// Refused templates leave no goroutine behind (raymond's parser would leave
// its lexer's).
func TestCompileDoesNotLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	body := "{{#if a}}" + strings.Repeat("{{b}} text ", 50) // never closed
	for i := 0; i < 50; i++ {
		if _, err := Compile(&Template{Subject: "s", Text: body}); err == nil {
			t.Fatal("unclosed block accepted")
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Fatalf("%d goroutines after 50 refused templates, %d before", n, before)
	}
}

func TestCompileValidation(t *testing.T) {
	big := strings.Repeat("x", MaxTemplateSize)
	for _, tc := range []struct {
		name string
		t    Template
		want string
	}{
		{"no subject", Template{Text: "t"}, "The subject part of the template must not be empty."},
		{"no body", Template{Subject: "s"}, "The template must have a text part or an HTML part."},
		{"too big", Template{Subject: "s", Text: big}, "Template size exceeds the limit of 500 KB."},
		{"not utf-8", Template{Subject: "s", Text: "\xff"}, "The template is not valid UTF-8."},
		{"syntax", Template{Subject: "s", HTML: "{{#if a}}x"}, "The HTML part of the template is not valid: Parse error on line 1: Expecting OpenEndBlock, got: 'EOF'"},
		{"bad partial", Template{Subject: "{{#*inline \"p\"}}x", Text: "t"}, `The subject part of the template is not valid: inline partial "p" is not closed with {{/inline}}`},
	} {
		_, err := Compile(&tc.t)
		e, ok := err.(*Error)
		if !ok || e.Kind != InvalidTemplate || e.Message != tc.want {
			t.Errorf("%s: err = %v, want InvalidTemplate %q", tc.name, err, tc.want)
		}
	}
	if _, err := Compile(&Template{Subject: "Hi {{name}}", HTML: "<p>{{name}}</p>"}); err != nil {
		t.Errorf("valid template refused: %v", err)
	}
}
