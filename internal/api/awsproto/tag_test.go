package awsproto

import (
	"reflect"
	"testing"
)

func TestParseTag(t *testing.T) {
	m, err := ParseTag("Reason,loc=querystring,req,sens,ts=iso8601,min=1,max=64,enum=A|B,emin=2,emax=3,eenum=x|y,kmin=4,kmax=5,kenum=k")
	if err != nil {
		t.Fatal(err)
	}
	want := Member{
		Name: "Reason", Location: LocQueryString, Required: true, Sensitive: true, TimestampFormat: "iso8601",
		Constraints: Constraints{Enum: []string{"A", "B"}, Min: 1, Max: 64, HasMin: true, HasMax: true},
		Elem:        Constraints{Enum: []string{"x", "y"}, Min: 2, Max: 3, HasMin: true, HasMax: true},
		Key:         Constraints{Enum: []string{"k"}, Min: 4, Max: 5, HasMin: true, HasMax: true},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
	for _, bad := range []string{"", ",req", "X,loc=body", "X,ts=unix", "X,min=one", "X,min", "X,bogus=1", "X,enum"} {
		if _, err := ParseTag(bad); err == nil {
			t.Errorf("ParseTag(%q) accepted", bad)
		}
	}
}

func TestMembers(t *testing.T) {
	type shape struct {
		A        string `aws:"A,req"`
		skipped  string //nolint:unused // unexported fields are skipped
		Untagged string
		B        *int64 `aws:"BName,loc=uri"`
	}
	ms, err := Members(reflect.TypeFor[shape]())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Field != "A" || ms[0].Index != 0 || !ms[0].Required ||
		ms[1].Field != "B" || ms[1].Name != "BName" || ms[1].Index != 3 || ms[1].Location != LocURI {
		t.Errorf("%+v", ms)
	}
	if _, err := Members(reflect.TypeFor[int]()); err == nil {
		t.Error("Members(int) accepted")
	}
	type broken struct {
		X string `aws:"X,wat"`
	}
	if _, err := Members(reflect.TypeFor[broken]()); err == nil {
		t.Error("bad tag accepted")
	}
	_ = shape{skipped: ""}
}
