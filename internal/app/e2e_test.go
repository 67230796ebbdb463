package app_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/sesamehq/sesame/internal/dns"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// An address becomes verified only through its link; a tampered link
// verifies nothing.
func TestEmailVerifiedByLink(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	const addr = "alice@example.com"
	if _, err := s.SES.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(addr)}); err != nil {
		t.Fatal(err)
	}
	status := func() sestypes.VerificationStatus {
		out, err := s.SES.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{addr, "unknown@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := out.VerificationAttributes["unknown@example.com"]; ok {
			t.Error("unknown identity reported")
		}
		return out.VerificationAttributes[addr].VerificationStatus
	}
	if got := status(); got != sestypes.VerificationStatusPending {
		t.Fatalf("status = %s, want Pending", got)
	}
	link := s.VerificationLink(t, addr, 0)
	tampered := strings.Replace(link, "token=", "token=00", 1)
	resp, err := http.Get(tampered)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || status() != sestypes.VerificationStatusPending {
		t.Fatalf("tampered link: %s, status %s", resp.Status, status())
	}
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("link: %s", resp.Status)
	}
	if got := status(); got != sestypes.VerificationStatusSuccess {
		t.Fatalf("status after link = %s", got)
	}
	// The link is single-use.
	resp, _ = http.Get(link)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("second use: %s", resp.Status)
	}
}

// The whole spine: a domain verified by Easy DKIM CNAMEs, a send through the
// v1 API, delivery to the relay, and a DKIM signature that verifies through
// DNS — the CNAME in the test's zone, the key served by Sesame's own zone.
func TestSendDeliveredDKIMSigned(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	dk, err := s.SES.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if len(dk.DkimTokens) != 3 {
		t.Fatalf("tokens = %v", dk.DkimTokens)
	}
	for _, tok := range dk.DkimTokens {
		s.DNS.AddCNAME(tok+"._domainkey.example.com", tok+"."+stack.DKIMZone)
	}
	waitV1(t, s, "example.com")
	s.VerifyEmail(t, "bob@example.net")

	out, err := s.SES.SendEmail(ctx, &ses.SendEmailInput{
		Source:      aws.String("Ünïcode Sender <news@example.com>"),
		Destination: &sestypes.Destination{ToAddresses: []string{"bob@example.net"}},
		Message: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Grüße")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Hallo Bob")}, Html: &sestypes.Content{Data: aws.String("<p>Hallo Bob</p>")}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	var got []byte
	deadline := time.Now().Add(15 * time.Second)
	for got == nil && time.Now().Before(deadline) {
		for _, m := range s.Sink.Messages() {
			if bytes.Contains(m.Data, []byte(id)) {
				got = m.Data
				if !strings.HasPrefix(m.From, id+"@") {
					t.Errorf("envelope sender %q, want the message id at the bounce domain", m.From)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got == nil {
		t.Fatalf("message %s not delivered", id)
	}
	if !bytes.Contains(got, []byte("Message-ID: <"+id+"@"+stack.Hostname+">")) {
		t.Errorf("no SES Message-ID in:\n%s", got)
	}
	if !strings.Contains(stack.BodyText(t, got), "Hallo Bob") {
		t.Errorf("body text missing")
	}
	resolver, err := dns.NewClient(s.DNS.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(got), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		return resolver.LookupTXT(ctx, name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(verifs) != 1 || verifs[0].Err != nil || verifs[0].Domain != "example.com" {
		for _, v := range verifs {
			t.Logf("signature d=%s err=%v", v.Domain, v.Err)
		}
		t.Fatalf("want one valid DKIM signature by example.com, got %d", len(verifs))
	}
}

// waitV1 polls v1 GetIdentityVerificationAttributes until Success (30 s).
func waitV1(t *testing.T, s *stack.Stack, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := s.SES.GetIdentityVerificationAttributes(context.Background(), &ses.GetIdentityVerificationAttributesInput{Identities: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		if out.VerificationAttributes[name].VerificationStatus == sestypes.VerificationStatusSuccess {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s after 30s", name, out.VerificationAttributes[name].VerificationStatus)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// In the sandbox, an unverified recipient is refused with SES's exact text.
func TestSandboxRefusesUnverifiedRecipient(t *testing.T) {
	s := stack.Start(t)
	s.VerifyEmail(t, "sender@example.org")
	_, err := s.SES.SendEmail(context.Background(), &ses.SendEmailInput{
		Source:      aws.String("sender@example.org"),
		Destination: &sestypes.Destination{ToAddresses: []string{"stranger@example.net", "success@simulator.amazonses.com"}},
		Message:     &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("x")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("x")}}},
	})
	var rejected *sestypes.MessageRejected
	if !errors.As(err, &rejected) {
		t.Fatalf("err = %v, want MessageRejected", err)
	}
	want := "Email address is not verified. The following identities failed the check in region US-EAST-1: stranger@example.net"
	if rejected.ErrorMessage() != want {
		t.Fatalf("message = %q\nwant      %q", rejected.ErrorMessage(), want)
	}
}

// A key rotated under the same tokens (v2 PutEmailIdentityDkimSigningAttributes
// with another key length) signs the very next message: the signature
// verifies against the record Sesame now publishes.
func TestRotatedDKIMKeySignsNextMessage(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	approveFast(t, s)
	s.VerifyDomain(t, "example.com")
	s.VerifyEmail(t, "bob@example.net")
	resolver, err := dns.NewClient(s.DNS.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sendAndVerify := func(subject string) {
		t.Helper()
		out, err := s.SES.SendEmail(ctx, simpleSend("news@example.com", "bob@example.net"))
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.MessageId)
		var got []byte
		for deadline := time.Now().Add(15 * time.Second); got == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for _, m := range s.Sink.Messages() {
				if bytes.Contains(m.Data, []byte(id)) {
					got = m.Data
				}
			}
		}
		if got == nil {
			t.Fatalf("%s: message %s not delivered", subject, id)
		}
		verifs, err := dkim.VerifyWithOptions(bytes.NewReader(got), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
			return resolver.LookupTXT(ctx, name)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(verifs) != 1 || verifs[0].Err != nil {
			t.Fatalf("%s: DKIM %+v", subject, verifs)
		}
	}
	sendAndVerify("before rotation")
	_, err = s.SESv2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
		EmailIdentity:           aws.String("example.com"),
		SigningAttributesOrigin: sesv2types.DkimSigningAttributesOriginAwsSes,
		SigningAttributes:       &sesv2types.DkimSigningAttributes{NextSigningKeyLength: sesv2types.DkimSigningKeyLengthRsa1024Bit},
	})
	if err != nil {
		t.Fatal(err)
	}
	sendAndVerify("after rotation")
}
