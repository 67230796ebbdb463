package templates

import (
	"strings"

	"github.com/sesamehq/sesame/internal/fault"
)

// ARN is a template's Amazon Resource Name:
// arn:<partition>:ses:<region>:<account>:template/<name> (the form of v1
// TemplateArn and v2 TemplateArn).
type ARN struct {
	Partition string // "aws" when empty
	Region    string
	Account   string
	Name      string
}

func (a ARN) String() string {
	p := a.Partition
	if p == "" {
		p = "aws"
	}
	return "arn:" + p + ":ses:" + a.Region + ":" + a.Account + ":template/" + a.Name
}

// ParseARN parses a template ARN; anything else is InvalidParameter.
func ParseARN(s string) (ARN, error) {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] == "" || f[2] != "ses" || f[3] == "" || f[4] == "" {
		return ARN{}, fault.New(fault.InvalidParameter, "Invalid template ARN %q.", s)
	}
	name, ok := strings.CutPrefix(f[5], "template/")
	if !ok || !validName(name) {
		return ARN{}, fault.New(fault.InvalidParameter, "Invalid template ARN %q.", s)
	}
	return ARN{Partition: f[1], Region: f[3], Account: f[4], Name: name}, nil
}
