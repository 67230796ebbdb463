package v2wire

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsproto"
)

func TestOperationTable(t *testing.T) {
	ops := Operations()
	if len(ops) != 110 {
		t.Fatalf("%d operations, the SES v2 model has 110", len(ops))
	}
	for _, op := range ops {
		if !strings.HasPrefix(op.RequestURI, "/v2/email/") || op.Method == "" {
			t.Errorf("%s: http %s %s", op.Name, op.Method, op.RequestURI)
		}
		if op.ResultWrapper != "" || !op.HasOutput() || op.Input == "" {
			t.Errorf("%s: %+v", op.Name, op)
		}
		in, ok := NewInput(op.Name)
		if !ok {
			t.Fatalf("%s: no input", op.Name)
		}
		if got := reflect.TypeOf(in).Elem().Name(); got != op.Input {
			t.Errorf("%s: input type %s, want %s", op.Name, got, op.Input)
		}
		checkTags(t, reflect.TypeOf(in), map[reflect.Type]bool{})
		// Every {Label} of the route is bound by a uri member.
		members, _ := awsproto.Members(reflect.TypeOf(in).Elem())
		for _, m := range members {
			if m.Location == awsproto.LocURI && !strings.Contains(op.RequestURI, "{"+m.Name+"}") {
				t.Errorf("%s: uri member %s not in %s", op.Name, m.Name, op.RequestURI)
			}
		}
	}
	op, ok := LookupOperation("GetEmailIdentity")
	if !ok || op.Method != "GET" || op.RequestURI != "/v2/email/identities/{EmailIdentity}" || op.Output != "GetEmailIdentityResponse" {
		t.Errorf("GetEmailIdentity: %+v", op)
	}
}

func checkTags(t *testing.T, typ reflect.Type, seen map[reflect.Type]bool) {
	t.Helper()
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || awsproto.IsTimestamp(typ) || seen[typ] {
		return
	}
	seen[typ] = true
	members, err := awsproto.Members(typ)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != typ.NumField() {
		t.Errorf("%v: %d of %d fields tagged", typ, len(members), typ.NumField())
	}
	for _, m := range members {
		checkTags(t, typ.Field(m.Index).Type, seen)
	}
}

func TestUnimplemented(t *testing.T) {
	_, err := Invoke(context.Background(), Unimplemented{}, "GetAccount", &GetAccountRequest{})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != "BadRequestException" || ae.Status != 400 ||
		ae.Message != "Operation GetAccount is not implemented by Sesame yet." {
		t.Fatalf("%#v", err)
	}
}

// TestErrorConstructors checks codes and statuses against SES-BEHAVIOR.md
// Appendix C.2: the wire code is the shape name.
func TestErrorConstructors(t *testing.T) {
	for _, tc := range []struct {
		err    *apierr.Error
		code   string
		status int
		sender bool
	}{
		{ErrNotFound("m"), "NotFoundException", 404, true},
		{ErrConflict("m"), "ConflictException", 409, true},
		{ErrTooManyRequests("m"), "TooManyRequestsException", 429, true},
		{ErrConcurrentModification("m"), "ConcurrentModificationException", 500, false},
		{ErrInternalServiceError("m"), "InternalServiceErrorException", 500, false},
		{ErrMessageRejected("m"), "MessageRejected", 400, true},
		{ErrBadRequest("m"), "BadRequestException", 400, true},
		{ErrAlreadyExists("m"), "AlreadyExistsException", 400, true},
	} {
		e := tc.err
		if e.Code != tc.code || e.Status != tc.status || e.Sender != tc.sender || e.Message != "m" || e.Fields != nil {
			t.Errorf("%s: %#v", tc.code, e)
		}
	}
}
