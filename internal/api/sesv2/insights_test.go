package sesv2_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// GetMessageInsights reads the timeline: Send for every recipient, then a
// Delivery for one and a Bounce with its diagnostic for the other.
func TestGetMessageInsights(t *testing.T) {
	s := stack.Start(t, stack.SinkOptions(smtpsink.WithScript(smtpsink.RejectRcpt(
		&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "unknown user"}, "gone@example.net"))))
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	ctx := context.Background()
	out, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("me@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"here@example.net", "gone@example.net"}},
		Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("Grüße")},
			Body: &types.Body{Text: &types.Content{Data: aws.String("x")}}}},
		EmailTags: []types.MessageTag{{Name: aws.String("campaign"), Value: aws.String("spring")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ins, err := s.SESv2.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(ins.Subject) != "Grüße" || aws.ToString(ins.FromEmailAddress) != "me@example.com" || len(ins.EmailTags) != 1 || len(ins.Insights) != 2 {
			t.Fatalf("insights = %+v", ins)
		}
		got := map[string][]types.InsightsEvent{}
		for _, i := range ins.Insights {
			got[aws.ToString(i.Destination)] = i.Events
		}
		here, gone := got["here@example.net"], got["gone@example.net"]
		if len(here) == 2 && len(gone) == 2 {
			if here[0].Type != types.EventTypeSend || here[1].Type != types.EventTypeDelivery {
				t.Fatalf("delivered recipient events: %+v", here)
			}
			b := gone[1].Details.Bounce
			if gone[1].Type != types.EventTypeBounce || b.BounceType != types.BounceTypePermanent || aws.ToString(b.DiagnosticCode) != "smtp; 550 5.1.1 unknown user" {
				t.Fatalf("bounced recipient events: %+v %+v", gone, b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timeline incomplete: %+v", got)
		}
		time.Sleep(25 * time.Millisecond)
	}
	_, err = s.SESv2.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: aws.String("0100000000000000-00000000-0000-0000-0000-000000000000-000000")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown message: %v", err)
	}
}
