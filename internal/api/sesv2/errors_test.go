package sesv2

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/fault"
)

// TestWireErrorTable pins the mapping of every domain kind, including those
// no end-to-end test can provoke yet, to the v2 shape and status of
// SES-BEHAVIOR Appendix C.2.
func TestWireErrorTable(t *testing.T) {
	cases := []struct {
		kind   fault.Kind
		code   string
		status int
	}{
		{fault.InvalidParameter, "BadRequestException", 400},
		{fault.NotFound, "NotFoundException", 404},
		{fault.AlreadyExists, "AlreadyExistsException", 400},
		{fault.Conflict, "ConflictException", 409},
		{fault.MessageRejected, "MessageRejected", 400},
		{fault.RateExceeded, "TooManyRequestsException", 429},
		{fault.DailyQuotaExceeded, "LimitExceededException", 400},
		{fault.AccountSendingPaused, "SendingPausedException", 400},
		{fault.ConfigSetNotFound, "NotFoundException", 404},
		{fault.ConfigSetSendingPaused, "SendingPausedException", 400},
		{fault.MailFromNotVerified, "MailFromDomainNotVerifiedException", 400},
		{fault.TemplateNotFound, "NotFoundException", 404},
		{fault.FromNotVerified, "BadRequestException", 400},
		{fault.ProductionAccessNotGranted, "BadRequestException", 400},
		{fault.LimitExceeded, "LimitExceededException", 400},
		{fault.InvalidTemplateContent, "BadRequestException", 400},
		{fault.Internal, "InternalServiceErrorException", 500},
	}
	for _, c := range cases {
		const msg = "SES's words."
		err := wireError(fmt.Errorf("wrapped: %w", fault.New(c.kind, msg)))
		var ae *apierr.Error
		if !errors.As(err, &ae) {
			t.Errorf("kind %d: %v is not a wire error", c.kind, err)
			continue
		}
		if ae.Code != c.code || ae.Status != c.status || ae.Sender != (c.status < 500) {
			t.Errorf("kind %d → %s %d (sender %v), want %s %d", c.kind, ae.Code, ae.Status, ae.Sender, c.code, c.status)
		}
		want := msg
		if c.kind == fault.Internal {
			want = internalMessage // the domain's detail stays inside
		}
		if ae.Message != want {
			t.Errorf("kind %d message %q, want %q", c.kind, ae.Message, want)
		}
	}

	plain := errors.New("disk on fire")
	if err := wireError(plain); err != plain {
		t.Errorf("a non-domain error became %v; the front must see it to log it", err)
	}
	if err := wireError(nil); err != nil {
		t.Errorf("wireError(nil) = %v", err)
	}
}

// TestPageToken: tokens round-trip and foreign ones are refused.
func TestPageToken(t *testing.T) {
	for _, cursor := range []string{"a@example.com", "example.com", "ünïcode.example"} {
		tok := encodeToken(cursor)
		got, err := decodeToken(tok)
		if err != nil || got != cursor {
			t.Errorf("%q → %q → %q, %v", cursor, tok, got, err)
		}
	}
	if encodeToken("") != "" {
		t.Error("the last page has a token")
	}
	for _, bad := range []string{"%%%", "////", "/w"} {
		if _, err := decodeToken(bad); err == nil {
			t.Errorf("token %q accepted", bad)
		}
	}
}
