package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

const suppressedText = "Amazon SES did not send the message to this address because it is on the suppression list for your account."

// supEvent is one timeline entry decoded as SES's bounce or complaint object.
type supEvent struct {
	Type     string
	Bounce   supBounce
	Complain supComplaint
}

type supBounce struct {
	BounceType, BounceSubType, FeedbackID, ReportingMTA, Timestamp string
	BouncedRecipients                                              []struct{ EmailAddress, Action, Status, DiagnosticCode string }
}

type supComplaint struct {
	ComplainedRecipients                                                 []struct{ EmailAddress string }
	Timestamp, FeedbackID, UserAgent, ComplaintFeedbackType, ArrivalDate string
	ComplaintSubType                                                     *string
}

func supEvents(t *testing.T, s *stack.Stack, id string) []supEvent {
	t.Helper()
	evs, err := s.App.Queue.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]supEvent, len(evs))
	for i, e := range evs {
		out[i].Type = e.Type
		switch e.Type {
		case "Bounce":
			err = json.Unmarshal([]byte(e.Payload), &out[i].Bounce)
		case "Complaint":
			err = json.Unmarshal([]byte(e.Payload), &out[i].Complain)
		}
		if err != nil {
			t.Fatalf("%s event %s: %v", e.Type, e.Payload, err)
		}
	}
	return out
}

func supByRcpt(ds []queue.DeliveryState) map[string]queue.DeliveryState {
	m := make(map[string]queue.DeliveryState, len(ds))
	for _, d := range ds {
		m[d.Rcpt] = d
	}
	return m
}

func wantErr[T error](t *testing.T, err error, what string) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("%s: error %v (%T), want %T", what, err, err, target)
	}
}

// The v2 suppression operations through the SDK: upsert, lower-casing, typed
// errors, filters and pagination, and the account's reasons.
func TestSuppressionListAPI(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	put := func(addr string, r sesv2types.SuppressionListReason) {
		t.Helper()
		if _, err := s.SESv2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{EmailAddress: aws.String(addr), Reason: r}); err != nil {
			t.Fatalf("put %s: %v", addr, err)
		}
	}
	before := time.Now().Add(-time.Second)
	put("Alice@Example.COM", sesv2types.SuppressionListReasonBounce)
	got, err := s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("ALICE@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	d := got.SuppressedDestination
	if aws.ToString(d.EmailAddress) != "alice@example.com" || d.Reason != sesv2types.SuppressionListReasonBounce ||
		d.LastUpdateTime == nil || d.LastUpdateTime.Before(before) || d.Attributes != nil {
		t.Fatalf("destination = %+v", d)
	}
	put("alice@example.com", sesv2types.SuppressionListReasonComplaint)
	got, err = s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("alice@example.com")})
	if err != nil || got.SuppressedDestination.Reason != sesv2types.SuppressionListReasonComplaint {
		t.Fatalf("after upsert: %+v, %v", got, err)
	}

	_, err = s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("nobody@example.com")})
	wantErr[*sesv2types.NotFoundException](t, err, "get unknown")
	_, err = s.SESv2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{EmailAddress: aws.String("not an address"), Reason: sesv2types.SuppressionListReasonBounce})
	wantErr[*sesv2types.BadRequestException](t, err, "put bad address")
	_, err = s.SESv2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{EmailAddress: aws.String("x@example.com"), Reason: "SPAM"})
	wantErr[*sesv2types.BadRequestException](t, err, "put bad reason")

	if _, err := s.SESv2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("Alice@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("alice@example.com")})
	wantErr[*sesv2types.NotFoundException](t, err, "get deleted")
	_, err = s.SESv2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("alice@example.com")})
	wantErr[*sesv2types.NotFoundException](t, err, "delete twice")

	// Seven entries, every third a complaint; page through them three at a time.
	var want []string
	for i := range 7 {
		addr := fmt.Sprintf("user+%d@example.org", i)
		r := sesv2types.SuppressionListReasonBounce
		if i%3 == 0 {
			r = sesv2types.SuppressionListReasonComplaint
		}
		put(addr, r)
		want = append(want, addr)
	}
	list := func(in *sesv2.ListSuppressedDestinationsInput) []string {
		t.Helper()
		var addrs []string
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			out, err := s.SESv2.ListSuppressedDestinations(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if in.PageSize != nil && len(out.SuppressedDestinationSummaries) > int(*in.PageSize) {
				t.Fatalf("page of %d", len(out.SuppressedDestinationSummaries))
			}
			for _, sum := range out.SuppressedDestinationSummaries {
				if sum.LastUpdateTime == nil {
					t.Fatalf("summary without LastUpdateTime: %+v", sum)
				}
				addrs = append(addrs, aws.ToString(sum.EmailAddress))
			}
			if out.NextToken == nil {
				return addrs
			}
			in.NextToken = out.NextToken
		}
	}
	if got := list(&sesv2.ListSuppressedDestinationsInput{PageSize: aws.Int32(3)}); !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	complaints := list(&sesv2.ListSuppressedDestinationsInput{Reasons: []sesv2types.SuppressionListReason{sesv2types.SuppressionListReasonComplaint}})
	if !slices.Equal(complaints, []string{want[0], want[3], want[6]}) {
		t.Fatalf("complaints = %v", complaints)
	}
	both := list(&sesv2.ListSuppressedDestinationsInput{Reasons: []sesv2types.SuppressionListReason{
		sesv2types.SuppressionListReasonComplaint, sesv2types.SuppressionListReasonBounce}})
	if len(both) != 7 {
		t.Fatalf("both reasons = %v", both)
	}
	if got := list(&sesv2.ListSuppressedDestinationsInput{StartDate: aws.Time(time.Now().Add(time.Hour))}); len(got) != 0 {
		t.Fatalf("future StartDate listed %v", got)
	}
	if got := list(&sesv2.ListSuppressedDestinationsInput{EndDate: aws.Time(before)}); len(got) != 0 {
		t.Fatalf("past EndDate listed %v", got)
	}
	if got := list(&sesv2.ListSuppressedDestinationsInput{StartDate: aws.Time(before), EndDate: aws.Time(time.Now().Add(time.Minute))}); len(got) != 7 {
		t.Fatalf("window listed %v", got)
	}
	for _, tok := range []string{"garbage", "c3VwcHJlc3Npb246", "bm90LW91cnM6YUBi"} {
		_, err = s.SESv2.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{NextToken: aws.String(tok)})
		wantErr[*sesv2types.InvalidNextTokenException](t, err, "token "+tok)
	}
	_, err = s.SESv2.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{PageSize: aws.Int32(1001)})
	wantErr[*sesv2types.BadRequestException](t, err, "PageSize 1001")

	// The account's reasons, as GetAccount reports them.
	reasons := func(want ...sesv2types.SuppressionListReason) {
		t.Helper()
		// The account service caches accounts for up to a second.
		deadline := time.Now().Add(3 * time.Second)
		for {
			acct, err := s.SESv2.GetAccount(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := acct.SuppressionAttributes.SuppressedReasons
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("SuppressedReasons = %v, want %v", got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	reasons(sesv2types.SuppressionListReasonBounce, sesv2types.SuppressionListReasonComplaint)
	setReasons(t, s, sesv2types.SuppressionListReasonComplaint)
	reasons(sesv2types.SuppressionListReasonComplaint)
	setReasons(t, s)
	reasons()
	_, err = s.SESv2.PutAccountSuppressionAttributes(ctx, &sesv2.PutAccountSuppressionAttributesInput{SuppressedReasons: []sesv2types.SuppressionListReason{"SPAM"}})
	wantErr[*sesv2types.BadRequestException](t, err, "bad account reason")
}

func setReasons(t *testing.T, s *stack.Stack, rs ...sesv2types.SuppressionListReason) {
	t.Helper()
	if rs == nil {
		rs = []sesv2types.SuppressionListReason{}
	}
	if _, err := s.SESv2.PutAccountSuppressionAttributes(context.Background(), &sesv2.PutAccountSuppressionAttributesInput{SuppressedReasons: rs}); err != nil {
		t.Fatal(err)
	}
}

func sinkHas(s *stack.Stack, rcpt, msgID string) bool {
	for _, m := range s.Sink.Messages() {
		if slices.Contains(m.To, rcpt) && strings.Contains(string(m.Data), msgID) {
			return true
		}
	}
	return false
}

// A message to a suppressed address is accepted; that recipient bounces
// OnAccountSuppressionList without an attempt while the other is delivered.
// The list applies only for the reasons the account has chosen.
func TestSendToSuppressedAddress(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	ctx := context.Background()
	if _, err := s.SESv2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{
		EmailAddress: aws.String("blocked@example.net"), Reason: sesv2types.SuppressionListReasonBounce}); err != nil {
		t.Fatal(err)
	}
	rcptsBefore := s.Sink.Stats().Rcpts
	out, err := s.SES.SendEmail(ctx, simpleSend("me@example.com", "Blocked@Example.net", "ok@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	if id == "" {
		t.Fatal("no MessageId")
	}
	ds := supByRcpt(waitState(t, s, id))
	if b := ds["Blocked@Example.net"]; b.State != queue.Bounced || b.Attempts != 0 || b.Text != suppressedText {
		t.Fatalf("suppressed recipient: %+v", b)
	}
	if d := ds["ok@example.net"]; d.State != queue.Delivered {
		t.Fatalf("other recipient: %+v", d)
	}
	if !sinkHas(s, "ok@example.net", id) {
		t.Fatal("other recipient not at the sink")
	}
	if n := s.Sink.Stats().Rcpts - rcptsBefore; n != 1 {
		t.Fatalf("sink saw %d RCPT commands, want 1", n)
	}
	evs := supEvents(t, s, id)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "Send,Bounce,Delivery" {
		t.Fatalf("events = %v", types)
	}
	b := evs[1].Bounce
	if b.BounceType != "Permanent" || b.BounceSubType != "OnAccountSuppressionList" || b.FeedbackID == "" || b.Timestamp == "" ||
		len(b.BouncedRecipients) != 1 || b.BouncedRecipients[0].EmailAddress != "Blocked@Example.net" ||
		b.BouncedRecipients[0].Action != "failed" || b.BouncedRecipients[0].DiagnosticCode != suppressedText {
		t.Fatalf("bounce = %+v", b)
	}

	// Suppressing only complaints: the BOUNCE entry no longer stops mail.
	setReasons(t, s, sesv2types.SuppressionListReasonComplaint)
	out, err = s.SES.SendEmail(ctx, simpleSend("me@example.com", "blocked@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	if d := waitState(t, s, aws.ToString(out.MessageId)); d[0].State != queue.Delivered || !sinkHas(s, "blocked@example.net", aws.ToString(out.MessageId)) {
		t.Fatalf("with reasons [COMPLAINT]: %+v", d)
	}
	// No reasons at all: the list is off.
	setReasons(t, s)
	out2, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("me@example.com"),
		Destination:      &sesv2types.Destination{ToAddresses: []string{"blocked@example.net"}},
		Content: &sesv2types.EmailContent{Simple: &sesv2types.Message{Subject: &sesv2types.Content{Data: aws.String("s")},
			Body: &sesv2types.Body{Text: &sesv2types.Content{Data: aws.String("b")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := waitState(t, s, aws.ToString(out2.MessageId)); d[0].State != queue.Delivered {
		t.Fatalf("with no reasons: %+v", d)
	}
}

// A 550 from the receiving server puts the address on the list with the
// message's id; the next message to it is not attempted.
func TestHardBounceAutoSuppressed(t *testing.T) {
	reject := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	s := stack.Start(t, stack.SinkOptions(smtpsink.WithScript(smtpsink.RejectRcpt(reject, "gone@example.net", "lost@example.net"))))
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	ctx := context.Background()
	out, err := s.SES.SendEmail(ctx, simpleSend("me@example.com", "gone@example.net", "here@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	if d := supByRcpt(waitState(t, s, id))["gone@example.net"]; d.State != queue.Bounced {
		t.Fatalf("gone: %+v", d)
	}
	got, err := s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("gone@example.net")})
	if err != nil {
		t.Fatal(err)
	}
	d := got.SuppressedDestination
	var feedback string
	for _, e := range supEvents(t, s, id) {
		if e.Type == "Bounce" {
			feedback = e.Bounce.FeedbackID
		}
	}
	if d.Reason != sesv2types.SuppressionListReasonBounce || d.Attributes == nil || aws.ToString(d.Attributes.MessageId) != id ||
		feedback == "" || aws.ToString(d.Attributes.FeedbackId) != feedback {
		t.Fatalf("entry = %+v (attributes %+v), message %s feedback %s", d, d.Attributes, id, feedback)
	}
	if _, err := s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("here@example.net")}); err == nil {
		t.Fatal("delivered recipient suppressed")
	}

	rcpts := s.Sink.Stats().Rcpts
	out, err = s.SES.SendEmail(ctx, simpleSend("me@example.com", "gone@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	id2 := aws.ToString(out.MessageId)
	if d := waitState(t, s, id2); d[0].State != queue.Bounced || d[0].Text != suppressedText {
		t.Fatalf("second send: %+v", d)
	}
	if evs := supEvents(t, s, id2); len(evs) != 2 || evs[1].Bounce.BounceSubType != "OnAccountSuppressionList" {
		t.Fatalf("second send events = %+v", evs)
	}
	if s.Sink.Stats().Rcpts != rcpts {
		t.Fatal("the suppressed address was tried again")
	}

	// Without BOUNCE among the account's reasons, a hard bounce adds nothing.
	setReasons(t, s, sesv2types.SuppressionListReasonComplaint)
	out, err = s.SES.SendEmail(ctx, simpleSend("me@example.com", "lost@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	if d := waitState(t, s, aws.ToString(out.MessageId)); d[0].State != queue.Bounced {
		t.Fatalf("lost: %+v", d)
	}
	_, err = s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("lost@example.net")})
	wantErr[*sesv2types.NotFoundException](t, err, "bounce with reasons [COMPLAINT]")
}

// Complaints and bounces reported after delivery (ARF, DSN) are recorded in
// SES's shape and suppress the address; a DSN received twice bounces once.
func TestLateFeedbackSuppresses(t *testing.T) {
	s := stack.Start(t)
	s.ApproveProduction(t)
	s.VerifyEmail(t, "me@example.com")
	ctx := context.Background()
	out, err := s.SES.SendEmail(ctx, simpleSend("me@example.com", "angry@example.net", "later@example.net", "fine@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	waitState(t, s, id)
	arrival := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	if err := s.App.Queue.RecordComplaint(ctx, id, []string{"ANGRY@example.net", "stranger@example.net"}, "abuse", "ExampleISP/1.0", arrival); err != nil {
		t.Fatal(err)
	}
	bounce := queue.AsyncBounce{BounceType: "Permanent", BounceSubType: "General", ReportingMTA: "dns; mx.example.net",
		Recipients: []queue.BouncedRecipient{{Rcpt: "later@example.net", Status: "5.1.1", DiagnosticCode: "smtp; 550 5.1.1 gone"}}}
	for range 2 {
		if err := s.App.Queue.RecordBounce(ctx, id, bounce); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.App.Queue.RecordBounce(ctx, "no-such-message", bounce); !errors.Is(err, queue.ErrNoMessage) {
		t.Fatalf("unknown message: %v", err)
	}
	var complaints, bounces []supEvent
	for _, e := range supEvents(t, s, id) {
		switch e.Type {
		case "Complaint":
			complaints = append(complaints, e)
		case "Bounce":
			bounces = append(bounces, e)
		}
	}
	if len(complaints) != 1 || len(bounces) != 1 {
		t.Fatalf("%d complaints, %d bounces", len(complaints), len(bounces))
	}
	c := complaints[0].Complain
	if len(c.ComplainedRecipients) != 1 || c.ComplainedRecipients[0].EmailAddress != "angry@example.net" || c.ComplaintFeedbackType != "abuse" ||
		c.UserAgent != "ExampleISP/1.0" || c.ArrivalDate != "2025-05-01T10:00:00.000Z" || c.FeedbackID == "" || c.ComplaintSubType != nil {
		t.Fatalf("complaint = %+v", c)
	}
	b := bounces[0].Bounce
	if b.BounceType != "Permanent" || b.ReportingMTA != "dns; mx.example.net" || len(b.BouncedRecipients) != 1 ||
		b.BouncedRecipients[0].EmailAddress != "later@example.net" || b.BouncedRecipients[0].Action != "failed" {
		t.Fatalf("bounce = %+v", b)
	}
	if d := supByRcpt(waitState(t, s, id)); d["later@example.net"].State != queue.Bounced || d["fine@example.net"].State != queue.Delivered {
		t.Fatalf("deliveries = %+v", d)
	}
	for addr, want := range map[string]sesv2types.SuppressionListReason{"angry@example.net": "COMPLAINT", "later@example.net": "BOUNCE"} {
		got, err := s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(addr)})
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if got.SuppressedDestination.Reason != want || aws.ToString(got.SuppressedDestination.Attributes.MessageId) != id {
			t.Fatalf("%s: %+v", addr, got.SuppressedDestination)
		}
	}
	_, err = s.SESv2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("fine@example.net")})
	wantErr[*sesv2types.NotFoundException](t, err, "fine")
}
