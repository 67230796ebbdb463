package templates

import (
	"strings"
	"testing"
)

func TestParseDataRefuses(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`[1,2]`, "Template data must be a JSON object."},
		{`"x"`, "Template data must be a JSON object."},
		{`{"a":}`, "Template data is not valid JSON: invalid character '}' looking for beginning of value."},
		{`{"a":1`, "Template data is not valid JSON: unexpected end of data."},
		{`{"a":1} {"b":2}`, "Template data is not valid JSON: unexpected data after the object."},
		{strings.Repeat("[", 150) + strings.Repeat("]", 150), "Template data is not valid JSON: nested too deeply."},
		{`{"a":"` + strings.Repeat("x", MaxDataSize) + `"}`, "Template data exceeds the maximum length of 262144."},
	} {
		_, err := ParseData(tc.data)
		e, ok := err.(*Error)
		if !ok || e.Kind != InvalidData || e.Message != tc.want {
			t.Errorf("ParseData(%.40q) = %v, want InvalidData %q", tc.data, err, tc.want)
		}
	}
	for _, ok := range []string{"", "  ", "{}", `{"a":[{"b":null}]}`} {
		if _, err := ParseData(ok); err != nil {
			t.Errorf("ParseData(%q): %v", ok, err)
		}
	}
}

// Bulk data: the destination's top-level members replace the defaults',
// whole (a nested object is not merged); neither input changes.
func TestMergeIsShallow(t *testing.T) {
	def, err := ParseData(`{"greeting":"Hello","name":"friend","address":{"city":"Paris","zip":"75001"}}`)
	if err != nil {
		t.Fatal(err)
	}
	over, err := ParseData(`{"name":"Ann","address":{"city":"Lyon"},"extra":1}`)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(&Template{Subject: "s", Text: "{{greeting}} {{name}} {{address.city}} {{extra}} [{{#each this}}{{@key}} {{/each}}]"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Render(def.Merge(over))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hello Ann Lyon 1 [greeting name address extra ]"; r.Text != want {
		t.Errorf("merged = %q, want %q", r.Text, want)
	}
	// The inputs are unchanged: the defaults still lack "extra", and the
	// replacement still lacks "greeting".
	for _, d := range []*Data{def, over, over.Merge(nil)} {
		if _, err := c.Render(d); err == nil {
			t.Errorf("rendering an input alone succeeded: Merge changed it")
		}
	}
}

// A member given twice keeps its first place and its last value.
func TestParseDataDuplicateKeys(t *testing.T) {
	got, err := renderText("{{#each this}}{{@key}}={{this}} {{/each}}", `{"a":1,"b":2,"a":3}`)
	if err != nil || got != "a=3 b=2 " {
		t.Errorf("got %q, %v", got, err)
	}
}
