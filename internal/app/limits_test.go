package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

func simpleSend(from string, to ...string) *ses.SendEmailInput {
	return &ses.SendEmailInput{
		Source:      aws.String(from),
		Destination: &sestypes.Destination{ToAddresses: to},
		Message:     &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}}},
	}
}

// The sandbox's one recipient per second holds under a concurrent burst: the
// check and the count are one step, so exactly one send gets through.
func TestSandboxRateIsAtomic(t *testing.T) {
	s := stack.Start(t)
	s.VerifyEmail(t, "me@example.com")
	// Verification mail does not count; let the bucket refill after setup.
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, throttled := 0, 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SES.SendEmail(context.Background(), simpleSend("me@example.com", "success@simulator.amazonses.com"))
			mu.Lock()
			defer mu.Unlock()
			var ae smithy.APIError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &ae) && ae.ErrorCode() == "Throttling" && ae.ErrorMessage() == "Maximum sending rate exceeded.":
				throttled++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || throttled != n-1 {
		t.Fatalf("accepted %d, throttled %d; want 1 and %d", ok, throttled, n-1)
	}
}

// The 24-hour quota counts recipients, not calls, and mailbox-simulator
// recipients do not count (SES-BEHAVIOR §6.2).
func TestDailyQuotaCountsRecipients(t *testing.T) {
	s := stack.Start(t)
	s.VerifyEmail(t, "me@example.com")
	s.VerifyEmail(t, "a@example.com")
	s.VerifyEmail(t, "b@example.com")
	if err := s.App.Accounts.SetQuota(context.Background(), account.RootAccountID, 3, 1000); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.SES.SendEmail(ctx, simpleSend("me@example.com", "a@example.com", "b@example.com")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SES.SendEmail(ctx, simpleSend("me@example.com", "success@simulator.amazonses.com")); err != nil {
		t.Fatalf("simulator send counted against the daily quota: %v", err)
	}
	if _, err := s.SES.SendEmail(ctx, simpleSend("me@example.com", "a@example.com")); err != nil {
		t.Fatal(err)
	}
	_, err := s.SES.SendEmail(ctx, simpleSend("me@example.com", "b@example.com"))
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" || ae.ErrorMessage() != "Daily message quota exceeded." {
		t.Fatalf("fourth recipient: %v", err)
	}
	q, err := s.SES.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Max24HourSend != 3 || q.SentLast24Hours != 3 || q.MaxSendRate != 1000 {
		t.Fatalf("quota = %+v", q)
	}
}

// More than 50 recipients is refused.
func TestRecipientLimit(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	var to []string
	for i := range 51 {
		to = append(to, fmt.Sprintf("r%d@example.net", i))
	}
	_, err := s.SES.SendEmail(context.Background(), simpleSend("me@example.com", to...))
	var rejected *sestypes.MessageRejected
	if !errors.As(err, &rejected) || rejected.ErrorMessage() != "Recipient count exceeds 50." {
		t.Fatalf("51 recipients: %v", err)
	}
}
