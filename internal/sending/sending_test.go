package sending_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// An operator's change made through another handle on the database file —
// what `sesame admin` does from its own process — holds for the very next
// send: lifting the sandbox, pausing an account the send path keeps in
// memory, resuming it, and cutting its quota.
func TestOtherProcessChangesApplyToNextSend(t *testing.T) {
	s := stack.Start(t)
	s.VerifyEmail(t, "me@example.com")
	ctx := context.Background()
	db, err := store.Open(filepath.Join(s.Cfg.DataDir, "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin := account.New(db, false, nil)
	root := account.RootAccountID

	send := func() error {
		_, err := s.SES.SendEmail(ctx, &ses.SendEmailInput{
			Source:      aws.String("me@example.com"),
			Destination: &sestypes.Destination{ToAddresses: []string{"someone@example.net"}},
			Message: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")},
				Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}}},
		})
		return err
	}
	refused := func(step string, err error, code, message string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != message {
			t.Fatalf("%s: got %v, want %s %q", step, err, code, message)
		}
	}

	refused("in the sandbox", send(), "MessageRejected",
		"Email address is not verified. The following identities failed the check in region US-EAST-1: someone@example.net")
	if err := admin.ApproveProduction(ctx, root, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second send finds the account in memory
		if err := send(); err != nil {
			t.Fatalf("send %d after approval: %v", i+1, err)
		}
	}
	if err := admin.SetSendingEnabled(ctx, root, false); err != nil {
		t.Fatal(err)
	}
	refused("paused", send(), "AccountSendingPausedException", "Email sending is disabled for this account.")
	if err := admin.SetSendingEnabled(ctx, root, true); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Fatalf("send after resuming: %v", err)
	}
	if err := admin.SetQuota(ctx, root, 3, 1000); err != nil { // 3 sent so far
		t.Fatal(err)
	}
	refused("over the new quota", send(), "Throttling", "Daily message quota exceeded.")
}
