package v1wire

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/awsproto"
)

func TestOperationTable(t *testing.T) {
	ops := Operations()
	if len(ops) != 71 {
		t.Fatalf("%d operations, the SES v1 model has 71", len(ops))
	}
	for _, op := range ops {
		if op.Method != "POST" || op.RequestURI != "/" {
			t.Errorf("%s: http %s %s", op.Name, op.Method, op.RequestURI)
		}
		if op.HasOutput() != (op.ResultWrapper != "") {
			t.Errorf("%s: output %q but result wrapper %q", op.Name, op.Output, op.ResultWrapper)
		}
		in, ok := NewInput(op.Name)
		if !ok {
			t.Fatalf("%s: no input", op.Name)
		}
		want := op.Input
		if want == "" {
			want = op.Name + "Input"
		}
		if got := reflect.TypeOf(in).Elem().Name(); got != want {
			t.Errorf("%s: input type %s, want %s", op.Name, got, want)
		}
		checkTags(t, reflect.TypeOf(in), map[reflect.Type]bool{})
	}
	if _, ok := LookupOperation("NoSuchOp"); ok {
		t.Error("LookupOperation found NoSuchOp")
	}
	if _, ok := NewInput("NoSuchOp"); ok {
		t.Error("NewInput found NoSuchOp")
	}
}

func TestNoOutputOperations(t *testing.T) {
	// SES-BEHAVIOR.md §1.2 lists the operations without an output shape.
	for _, name := range []string{"VerifyEmailAddress", "DeleteVerifiedEmailAddress", "UpdateAccountSendingEnabled",
		"UpdateConfigurationSetReputationMetricsEnabled", "UpdateConfigurationSetSendingEnabled",
		"CreateCustomVerificationEmailTemplate", "UpdateCustomVerificationEmailTemplate", "DeleteCustomVerificationEmailTemplate"} {
		op, ok := LookupOperation(name)
		if !ok || op.HasOutput() {
			t.Errorf("%s: found %v, has output %v", name, ok, op.HasOutput())
		}
	}
	op, _ := LookupOperation("DeleteIdentity")
	if !op.HasOutput() || op.ResultWrapper != "DeleteIdentityResult" {
		t.Errorf("DeleteIdentity: %+v", op)
	}
}

// checkTags walks every struct type reachable from t and parses its tags.
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

type fakeSES struct{ Unimplemented }

func (fakeSES) VerifyEmailIdentity(_ context.Context, in *VerifyEmailIdentityRequest) (*VerifyEmailIdentityResponse, error) {
	if in.EmailAddress == "" {
		return nil, ErrMessageRejected("no address")
	}
	return nil, nil // a nil output is fine
}

func TestInvoke(t *testing.T) {
	ctx := context.Background()
	out, err := Invoke(ctx, fakeSES{}, "VerifyEmailIdentity", &VerifyEmailIdentityRequest{EmailAddress: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := out.(*VerifyEmailIdentityResponse); !ok || o == nil {
		t.Fatalf("output %#v", out)
	}
	_, err = Invoke(ctx, fakeSES{}, "VerifyEmailIdentity", &VerifyEmailIdentityRequest{})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != "MessageRejected" {
		t.Fatalf("error %v", err)
	}
	_, err = Invoke(ctx, fakeSES{}, "SendEmail", &SendEmailRequest{})
	if !errors.As(err, &ae) || ae.Code != "InvalidAction" || ae.Status != 400 || !ae.Sender ||
		ae.Message != "Operation SendEmail is not implemented by Sesame yet." {
		t.Fatalf("unimplemented: %#v", err)
	}
	if _, err := Invoke(ctx, fakeSES{}, "SendEmail", &SendRawEmailRequest{}); err == nil || errors.As(err, &ae) {
		t.Fatalf("wrong input type: %v", err)
	}
	if _, err := Invoke(ctx, fakeSES{}, "SendEmail", (*SendEmailRequest)(nil)); err == nil {
		t.Fatal("nil input accepted")
	}
	if _, err := Invoke(ctx, fakeSES{}, "Nope", nil); err == nil {
		t.Fatal("unknown operation accepted")
	}
}

// TestErrorConstructors checks the wire codes against SES-BEHAVIOR.md
// Appendix C.1, where the code is not always the shape name.
func TestErrorConstructors(t *testing.T) {
	for _, tc := range []struct {
		err    *apierr.Error
		code   string
		fields []apierr.Field
	}{
		{ErrAlreadyExists("m", "set1"), "AlreadyExists", []apierr.Field{{Name: "Name", Value: "set1"}}},
		{ErrTemplateDoesNotExist("m", "t1"), "TemplateDoesNotExist", []apierr.Field{{Name: "TemplateName", Value: "t1"}}},
		{ErrEventDestinationDoesNotExist("m", "cs", ""), "EventDestinationDoesNotExist", []apierr.Field{{Name: "ConfigurationSetName", Value: "cs"}}},
		{ErrMailFromDomainNotVerified("m"), "MailFromDomainNotVerifiedException", nil},
		{ErrAccountSendingPaused("m"), "AccountSendingPausedException", nil},
		{ErrTrackingOptionsDoesNotExist("m", "cs"), "TrackingOptionsDoesNotExistException", []apierr.Field{{Name: "ConfigurationSetName", Value: "cs"}}},
		{ErrMessageRejected("m"), "MessageRejected", nil},
		{ErrLimitExceeded("m"), "LimitExceeded", nil},
	} {
		e := tc.err
		if e.Code != tc.code || e.Status != 400 || !e.Sender || e.Message != "m" || !reflect.DeepEqual(e.Fields, tc.fields) {
			t.Errorf("%s: %#v", tc.code, e)
		}
	}
}

func TestOperationErrors(t *testing.T) {
	op, _ := LookupOperation("SendEmail")
	want := []string{"MessageRejected", "MailFromDomainNotVerifiedException", "ConfigurationSetDoesNotExistException",
		"ConfigurationSetSendingPausedException", "AccountSendingPausedException"}
	if !reflect.DeepEqual(op.Errors, want) {
		t.Errorf("SendEmail errors %v, want %v", op.Errors, want)
	}
}
