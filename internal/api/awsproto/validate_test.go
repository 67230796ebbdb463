package awsproto

import (
	"strings"
	"testing"
)

type vInner struct {
	Mode string `aws:"Mode,req,enum=Require|Optional"`
}

type vSample struct {
	Name    string            `aws:"Name,req,min=2,max=4"`
	Count   *int64            `aws:"Count,min=1,max=50"`
	Ratio   *float64          `aws:"Ratio,max=1"`
	Inner   *vInner           `aws:"Inner,req"`
	Items   []vInner          `aws:"Items,max=2"`
	Words   []string          `aws:"Words,emax=3,eenum=abc|de"`
	Secret  string            `aws:"Secret,sens,max=3"`
	Filter  map[string]string `aws:"Filter,max=2,kenum=a|b,emin=2"`
	Blob    []byte            `aws:"Blob,max=2"`
	Flag    *bool             `aws:"Flag,req"`
	Entries map[string]vInner `aws:"Entries"`
}

func TestValidateValid(t *testing.T) {
	in := &vSample{Name: "ab", Count: ptr[int64](50), Ratio: ptr(1.0), Inner: &vInner{Mode: "Require"},
		Items: []vInner{{Mode: "Optional"}}, Words: []string{"abc"}, Secret: "xyz",
		Filter: map[string]string{"a": "zz"}, Blob: []byte{1, 2}, Flag: ptr(false)}
	if vs := Validate(in); vs != nil {
		t.Fatalf("violations: %s", ValidationMessage(vs))
	}
	if Validate(nil) != nil || Validate((*vSample)(nil)) != nil || Validate(3) != nil {
		t.Error("Validate of a non-struct reported violations")
	}
}

func TestValidateMessages(t *testing.T) {
	in := &vSample{
		Name:    "abcde",
		Count:   ptr[int64](0),
		Ratio:   ptr(1.5),
		Items:   []vInner{{Mode: "Require"}, {Mode: "Bogus"}, {}},
		Words:   []string{"abc", "xxxx"},
		Secret:  "hunter2",
		Filter:  map[string]string{"c": "1", "a": "22"},
		Blob:    []byte{1, 2, 3},
		Entries: map[string]vInner{"k1": {}},
	}
	want := []string{
		"Value 'abcde' at 'name' failed to satisfy constraint: Member must have length less than or equal to 4",
		"Value '0' at 'count' failed to satisfy constraint: Member must have value greater than or equal to 1",
		"Value '1.5' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1",
		"Value null at 'inner' failed to satisfy constraint: Member must not be null",
		"Value at 'items' failed to satisfy constraint: Member must have length less than or equal to 2",
		"Value 'Bogus' at 'items.2.member.mode' failed to satisfy constraint: Member must satisfy enum value set: [Require, Optional]",
		"Value null at 'items.3.member.mode' failed to satisfy constraint: Member must not be null",
		"Value 'xxxx' at 'words.2.member' failed to satisfy constraint: Member must satisfy enum value set: [abc, de]",
		"Value 'xxxx' at 'words.2.member' failed to satisfy constraint: Member must have length less than or equal to 3",
		"Value at 'secret' failed to satisfy constraint: Member must have length less than or equal to 3",
		"Value 'c' at 'filter' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy enum value set: [a, b]]",
		"Value '1' at 'filter.c' failed to satisfy constraint: Member must have length greater than or equal to 2",
		"Value 'AQID' at 'blob' failed to satisfy constraint: Member must have length less than or equal to 2",
		"Value null at 'flag' failed to satisfy constraint: Member must not be null",
		"Value null at 'entries.k1.mode' failed to satisfy constraint: Member must not be null",
	}
	vs := Validate(in)
	got := make([]string, len(vs))
	for i, v := range vs {
		got[i] = v.Message()
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if vs[6].QueryPath() != "Items.member.3.Mode" || !vs[6].Missing {
		t.Errorf("query path %q missing %v", vs[6].QueryPath(), vs[6].Missing)
	}
	msg := ValidationMessage(vs)
	if !strings.HasPrefix(msg, "15 validation errors detected: Value 'abcde' at 'name'") || !strings.Contains(msg, "length less than or equal to 4; Value '0'") {
		t.Errorf("message %q", msg)
	}
	if one := ValidationMessage(vs[:1]); !strings.HasPrefix(one, "1 validation error detected: ") {
		t.Errorf("message %q", one)
	}
	if ValidationMessage(nil) != "" {
		t.Error("message for no violations")
	}
}

func TestValidateEchoIsBounded(t *testing.T) {
	in := &vSample{Name: strings.Repeat("é", 1000), Inner: &vInner{Mode: "Require"}, Flag: ptr(true)}
	vs := Validate(in)
	if len(vs) != 1 || len(vs[0].Value) > maxEcho+3 || !strings.HasSuffix(vs[0].Value, "...") || !strings.HasPrefix(vs[0].Value, "éé") {
		t.Fatalf("%+v", vs)
	}
	if strings.ToValidUTF8(vs[0].Value, "?") != vs[0].Value {
		t.Error("truncation split a rune")
	}
}

func ptr[T any](v T) *T { return &v }

// A valid input is checked without allocating per member: the path is built
// in place and copied only into a violation.
func TestValidateValidDoesNotAllocatePerMember(t *testing.T) {
	in := &vSample{Name: "ab", Count: ptr[int64](50), Inner: &vInner{Mode: "Require"},
		Items: []vInner{{Mode: "Optional"}, {Mode: "Require"}}, Words: []string{"abc", "de"}, Flag: ptr(false)}
	if n := testing.AllocsPerRun(100, func() { Validate(in) }); n > 1 {
		t.Errorf("Validate of a valid input made %v allocations, want at most 1", n)
	}
}
