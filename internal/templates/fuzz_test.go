package templates

import (
	"testing"

	"github.com/mailgun/raymond/v2/lexer"
	"github.com/mailgun/raymond/v2/parser"
)

// FuzzRender feeds arbitrary templates and data through the whole path a
// CreateTemplate and a send take: it must never panic, never accept a
// template raymond's parser refuses (that would leak the parser's lexer
// goroutine, see checkGrammar), and every failure must be an *Error.
func FuzzRender(f *testing.F) {
	seeds := []struct{ tpl, data string }{
		{"Hello {{name}}", `{"name":"x"}`},
		{"{{#each a as |x i|}}{{i}}{{x.b}}{{else}}none{{/each}}", `{"a":[{"b":1}]}`},
		{"{{#if a}}{{b}}{{else if c}}{{d}}{{else}}e{{/if}}", `{"c":true,"d":null}`},
		{"{{#with a}}{{../b}}{{@root.c}}{{/with}}", `{"a":{},"b":2,"c":3}`},
		{"{{#*inline \"p\"}}[{{x}}]{{/inline}}{{> p x=1}}", `{}`},
		{"{{lookup a (lookup b c)}}", `{"a":{"k":1},"b":{"c":"k"},"c":"c"}`},
		{"{{{{raw}}}}{{x}}{{{{/raw}}}}", `{}`},
		{"{{#each a}}{{#each ../a}}{{@../index}}{{/each}}{{/each}}", `{"a":[1,2,3]}`},
		{"{{> (lookup . \"n\")}}", `{"n":"p"}`},
		{"{{a.[0].b}} {{#a}}{{/a}} {{^a}}{{/a}} {{!c}} {{!-- d --}} \\{{e}}", `{"a":[{"b":1}]}`},
		{"{{#if}}{{/if}}{{/x}}{{", "[1]"},
	}
	for _, s := range seeds {
		f.Add(s.tpl, s.data)
	}
	f.Fuzz(func(t *testing.T, tpl, data string) {
		if checkGrammar(lexer.Collect(tpl)) == nil {
			if _, err := parser.Parse(tpl); err != nil {
				t.Fatalf("grammar accepted %q, raymond refused it: %v", tpl, err)
			}
		}
		c, err := Compile(&Template{Subject: tpl, Text: tpl, HTML: tpl})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Compile(%q): %T %v", tpl, err, err)
			}
			return
		}
		d, err := ParseData(data)
		if err != nil {
			return
		}
		if _, err := c.Render(d); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Render(%q, %q): %T %v", tpl, data, err, err)
			}
		}
		_ = Preview(Rendered{Subject: tpl, Text: data, HTML: tpl})
	})
}
