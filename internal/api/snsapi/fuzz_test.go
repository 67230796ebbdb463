package snsapi

import (
	"net/url"
	"testing"
)

// FuzzDecode: any form, for every operation, decodes or fails with an
// error — never a panic.
func FuzzDecode(f *testing.F) {
	f.Add("Name=t&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=x&Tags.member.1.Key=k&Tags.member.1.Value=v")
	f.Add("MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=Binary&MessageAttributes.entry.1.Value.BinaryValue=%%%")
	f.Add("MessageAttributes.entry.x.Name=a&MessageAttributes.entry.1.Value=&ReturnSubscriptionArn=true&TagKeys.member.1=k")
	ops := operations()
	f.Fuzz(func(t *testing.T, query string) {
		form, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		for _, op := range ops {
			copied := url.Values{}
			for k, v := range form {
				copied[k] = append([]string(nil), v...)
			}
			_ = decode(copied, op.newInput())
		}
	})
}
