package app_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/emersion/go-smtp"

	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/testkit/smtpsink"
	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// A message is signed once: the DKIM-Signature made at the first attempt is
// stored with that attempt's outcome and sent unchanged by the retry.
func TestRetrySendsTheFirstSignature(t *testing.T) {
	s := stack.Start(t, stack.SinkOptions(smtpsink.WithScript(smtpsink.FailFirst("DATA", 1,
		&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "later"}))))
	s.ApproveProduction(t)
	ctx := context.Background()
	dk, err := s.SES.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String("signed.example")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range dk.DkimTokens {
		s.DNS.AddCNAME(tok+"._domainkey.signed.example", tok+"."+stack.DKIMZone)
	}
	waitV1(t, s, "signed.example")
	out, err := s.SES.SendEmail(ctx, simpleSend("news@signed.example", "reader@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	ds := waitState(t, s, id)
	if ds[0].State != queue.Delivered || ds[0].Attempts != 2 {
		t.Fatalf("delivery = %+v, want delivered at the second attempt", ds[0])
	}
	stored, err := s.App.Queue.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(stored.DKIM, []byte("DKIM-Signature:")) {
		t.Fatalf("stored signature = %q", stored.DKIM)
	}
	// What arrives is the stored signature and message (SMTP ends the data
	// with a CRLF when the body has none).
	msgs := s.Sink.Messages()
	want := append(append([]byte{}, stored.DKIM...), stored.Data...)
	if len(msgs) != 1 || !bytes.Equal(bytes.TrimSuffix(msgs[0].Data, []byte("\r\n")), bytes.TrimSuffix(want, []byte("\r\n"))) {
		t.Fatalf("delivered message is not the stored signature + the stored message:\n%s", msgs[0].Data)
	}
}
