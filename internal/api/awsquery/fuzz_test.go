package awsquery

import (
	"errors"
	"net/url"
	"testing"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/v1wire"
)

// FuzzDecode feeds arbitrary forms to every v1 input shape: Decode must not
// panic, and every failure must be an API error, never an internal one.
func FuzzDecode(f *testing.F) {
	names := v1wire.OperationNames()
	index := func(name string) uint8 {
		for i, n := range names {
			if n == name {
				return uint8(i)
			}
		}
		f.Fatalf("no operation %s", name)
		return 0
	}
	f.Add(index("SendEmail"), "Source=a&Destination.ToAddresses.member.1=b&Message.Subject.Data=s&Message.Body.Text.Data=t&Tags.member.1.Name=n&Tags.member.1.Value=v")
	f.Add(index("SendRawEmail"), "RawMessage.Data=aGk%3D&Destinations.member.1=x")
	f.Add(index("ListIdentities"), "MaxItems=5&IdentityType=Domain&NextToken=x")
	f.Add(index("CreateReceiptRule"), "RuleSetName=r&Rule.Name=n&Rule.Enabled=true&Rule.Actions.member.1.S3Action.BucketName=b&Rule.Recipients.member.1=x")
	f.Add(index("SendBulkTemplatedEmail"), "Destinations.member.1.Destination.ToAddresses.member.1=a&Destinations.member.1.ReplacementTemplateData=%7B%7D&Destinations=")
	f.Add(index("ListCustomVerificationEmailTemplates"), "MaxResults=99999999999999999999")
	f.Add(index("GetSendStatistics"), "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s=1&....=2&.=3")
	f.Fuzz(func(t *testing.T, op uint8, raw string) {
		form, _ := url.ParseQuery(raw) // keep what parses, as a server would reject the rest
		in, ok := v1wire.NewInput(names[int(op)%len(names)])
		if !ok {
			t.Fatal("no input")
		}
		if err := Decode(form, in); err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Code == "" {
				t.Fatalf("error %v is not a 400 API error", err)
			}
		}
	})
}
