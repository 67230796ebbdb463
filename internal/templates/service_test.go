package templates

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

func newService(t *testing.T) *Service {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return New(Config{Region: "us-east-1"}, db, func() time.Time { return now })
}

func TestServiceLifecycle(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	const acct, other = "111111111111", "222222222222"
	tpl := Template{Name: "Welcome", Subject: "Hi {{name}}", Text: "Hello {{name}}"}
	if err := s.Create(ctx, acct, tpl); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, acct, tpl); !fault.Is(err, fault.AlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := s.Create(ctx, acct, Template{Name: "bad name!", Subject: "s", Text: "t"}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("bad name: %v", err)
	}
	// Templates are per account.
	if _, err := s.Get(ctx, other, "Welcome"); !fault.Is(err, fault.TemplateNotFound) {
		t.Fatalf("other account sees the template: %v", err)
	}
	got, err := s.Get(ctx, acct, "Welcome")
	if err != nil || got.Subject != "Hi {{name}}" || got.HTML != "" || got.CreatedAt.IsZero() {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if err := s.Update(ctx, acct, Template{Name: "Welcome", Subject: "New {{name}}", HTML: "<p>{{name}}</p>"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, acct, Template{Name: "Nope", Subject: "s", Text: "t"}); !fault.Is(err, fault.TemplateNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	out, err := s.TestRender(ctx, acct, "Welcome", `{"name":"<Ann>"}`)
	if err != nil || out != "Subject: New <Ann>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n<p><Ann></p>\r\n" {
		t.Fatalf("TestRender = %q, %v", out, err)
	}
	_, err = s.TestRender(ctx, acct, "Welcome", `{}`)
	var e *Error
	if !errors.As(err, &e) || e.Kind != MissingAttribute || e.Template != "Welcome" {
		t.Fatalf("TestRender without data: %v", err)
	}
	_, err = s.TestRender(ctx, acct, "Welcome", `{`)
	if !errors.As(err, &e) || e.Kind != InvalidData || e.Template != "Welcome" {
		t.Fatalf("TestRender with bad JSON: %v", err)
	}
	existed, err := s.Delete(ctx, acct, "Welcome")
	if err != nil || !existed {
		t.Fatalf("Delete = %v, %v", existed, err)
	}
	if existed, err := s.Delete(ctx, acct, "Welcome"); err != nil || existed {
		t.Fatalf("second Delete = %v, %v", existed, err)
	}
}

func TestServiceListPages(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for i := 4; i >= 0; i-- {
		if err := s.Create(ctx, "a", Template{Name: fmt.Sprintf("t%d", i), Subject: "s", Text: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	after := ""
	for page := 0; page < 10; page++ {
		ts, next, err := s.List(ctx, "a", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, tpl := range ts {
			names = append(names, tpl.Name)
		}
		if next == "" {
			break
		}
		after = next
	}
	if fmt.Sprint(names) != "[t0 t1 t2 t3 t4]" {
		t.Fatalf("pages = %v", names)
	}
}

func TestLookupByARN(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if err := s.Create(ctx, "111111111111", Template{Name: "T1", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	arn := s.ARN("111111111111", "T1")
	if arn != "arn:aws:ses:us-east-1:111111111111:template/T1" {
		t.Fatalf("ARN = %s", arn)
	}
	for _, tc := range []struct {
		name, arn string
		kind      fault.Kind
	}{
		{"", arn, -1},
		{"T1", arn, -1},
		{"T1", "", -1},
		{"T2", arn, fault.InvalidParameter},
		{"", "arn:aws:ses:eu-west-1:111111111111:template/T1", fault.TemplateNotFound},
		{"", "arn:aws:ses:us-east-1:999999999999:template/T1", fault.TemplateNotFound},
		{"", "arn:aws:ses:us-east-1:111111111111:identity/T1", fault.InvalidParameter},
		{"", "not an arn", fault.InvalidParameter},
		{"", "", fault.InvalidParameter},
	} {
		c, err := s.Lookup(ctx, "111111111111", tc.name, tc.arn)
		switch {
		case tc.kind == -1 && (err != nil || c.Name() != "T1"):
			t.Errorf("Lookup(%q, %q) = %v", tc.name, tc.arn, err)
		case tc.kind != -1 && !fault.Is(err, tc.kind):
			t.Errorf("Lookup(%q, %q) = %v, want kind %d", tc.name, tc.arn, err, tc.kind)
		}
	}
}
