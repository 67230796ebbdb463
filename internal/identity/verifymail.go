package identity

import (
	"crypto/subtle"
	"fmt"
	"net/url"
)

// regionNames are the display names SES puts in its verification subject.
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
	"us-west-2": "US West (Oregon)", "eu-west-1": "Europe (Ireland)", "eu-west-2": "Europe (London)",
	"eu-west-3": "Europe (Paris)", "eu-central-1": "Europe (Frankfurt)", "eu-north-1": "Europe (Stockholm)",
	"ap-south-1": "Asia Pacific (Mumbai)", "ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)", "ap-northeast-1": "Asia Pacific (Tokyo)",
	"ap-northeast-2": "Asia Pacific (Seoul)", "ca-central-1": "Canada (Central)", "sa-east-1": "South America (São Paulo)",
}

func regionName(r string) string {
	if n, ok := regionNames[r]; ok {
		return n
	}
	return r
}

// defaultVerificationMail is SES's verification request, sent from Sesame's
// own address (SES uses no-reply-aws@amazon.com).
func defaultVerificationMail(cfg Config, to, link string) SystemMail {
	region := regionName(cfg.Region)
	text := fmt.Sprintf(`Dear Amazon Web Services Customer,

We have received a request to authorize this email address for use with Amazon SES in region %s. If you requested this verification, please go to the following URL to confirm that you are authorized to use this email address:

%s

Your request will not be processed unless you confirm the address using this URL. This link expires 24 hours after your original verification request.

If you did NOT request to verify this email address, do not click on the link. Please note that many times, the situation isn't a phishing attempt, but either a misunderstanding of how to use our service, or someone setting up email-sending capabilities on your behalf as part of a legitimate service, but without having fully communicated the procedure first. If you are still concerned, please forward this notification to the operator of this Sesame server.

Sincerely,

Sesame (a self-hosted Amazon SES)
`, region, link)
	return SystemMail{
		From:    "no-reply-aws@" + cfg.Hostname,
		To:      to,
		Subject: "Amazon Web Services – Email Address Verification Request in region " + region,
		Text:    text,
	}
}

func linkQuery(account, identity, token string) string {
	return url.Values{"account": {account}, "identity": {identity}, "token": {token}}.Encode()
}

func equalToken(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
