package sesv1_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// tplError asserts that err is the SDK's typed v1 exception E, sent with
// HTTP 400 and (unless "") the exact message.
func tplError[E interface {
	error
	ErrorCode() string
	ErrorMessage() string
}](t testing.TB, err error, message string) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want %T", err, err, e)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Errorf("%s: not an HTTP 400: %v", e.ErrorCode(), err)
	}
	if message != "" && e.ErrorMessage() != message {
		t.Errorf("%s message:\n got %q\nwant %q", e.ErrorCode(), e.ErrorMessage(), message)
	}
	return e
}

func v1Template(name, subject, text, html string) *types.Template {
	t := &types.Template{TemplateName: aws.String(name), SubjectPart: aws.String(subject)}
	if text != "" {
		t.TextPart = aws.String(text)
	}
	if html != "" {
		t.HtmlPart = aws.String(html)
	}
	return t
}

// The v1 template operations, with SES's typed errors.
func TestTemplateCRUD(t *testing.T) {
	s := stack.Start(t)
	c, ctx := s.SES, context.Background()

	if _, err := c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: v1Template("Welcome", "Hi {{name}}", "Hello {{name}}", "<p>Hello {{name}}</p>")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: v1Template("Welcome", "x", "y", "")})
	if e := tplError[*types.AlreadyExistsException](t, err, "Template Welcome already exists."); aws.ToString(e.Name) != "Welcome" {
		t.Errorf("AlreadyExists Name = %q", aws.ToString(e.Name))
	}
	_, err = c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: v1Template("NoBody", "subject", "", "")})
	tplError[*types.InvalidTemplateException](t, err, "The template must have a text part or an HTML part.")
	_, err = c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: v1Template("Broken", "s", "{{#if a}}never closed", "")})
	if e := tplError[*types.InvalidTemplateException](t, err, ""); !strings.HasPrefix(e.ErrorMessage(), "The text part of the template is not valid: Parse error on line 1") || aws.ToString(e.TemplateName) != "Broken" {
		t.Errorf("syntax error: %q, TemplateName %q", e.ErrorMessage(), aws.ToString(e.TemplateName))
	}

	got, err := c.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("Welcome")})
	if err != nil {
		t.Fatal(err)
	}
	if tp := got.Template; aws.ToString(tp.SubjectPart) != "Hi {{name}}" || aws.ToString(tp.TextPart) != "Hello {{name}}" || aws.ToString(tp.HtmlPart) != "<p>Hello {{name}}</p>" {
		t.Errorf("GetTemplate = %+v", tp)
	}
	_, err = c.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("Nope")})
	if e := tplError[*types.TemplateDoesNotExistException](t, err, "Template Nope does not exist."); aws.ToString(e.TemplateName) != "Nope" {
		t.Errorf("TemplateDoesNotExist TemplateName = %q", aws.ToString(e.TemplateName))
	}

	_, err = c.UpdateTemplate(ctx, &ses.UpdateTemplateInput{Template: v1Template("Nope", "s", "t", "")})
	tplError[*types.TemplateDoesNotExistException](t, err, "Template Nope does not exist.")
	if _, err := c.UpdateTemplate(ctx, &ses.UpdateTemplateInput{Template: v1Template("Welcome", "Welcome, {{name}}", "", "<h1>{{name}}</h1>")}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("Welcome")})
	if err != nil || aws.ToString(got.Template.SubjectPart) != "Welcome, {{name}}" || got.Template.TextPart != nil {
		t.Fatalf("after update: %+v %v", got, err)
	}

	for _, n := range []string{"B", "A", "C"} {
		if _, err := c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: v1Template(n, "s", "t", "")}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var token *string
	for page := 0; page < 5; page++ {
		out, err := c.ListTemplates(ctx, &ses.ListTemplatesInput{MaxItems: aws.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.TemplatesMetadata {
			if m.CreatedTimestamp == nil || m.CreatedTimestamp.IsZero() {
				t.Errorf("%s has no CreatedTimestamp", aws.ToString(m.Name))
			}
			names = append(names, aws.ToString(m.Name))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if strings.Join(names, ",") != "A,B,C,Welcome" {
		t.Errorf("ListTemplates pages = %v", names)
	}

	if _, err := c.DeleteTemplate(ctx, &ses.DeleteTemplateInput{TemplateName: aws.String("A")}); err != nil {
		t.Fatal(err)
	}
	// v1 deletes an absent template without complaint.
	if _, err := c.DeleteTemplate(ctx, &ses.DeleteTemplateInput{TemplateName: aws.String("A")}); err != nil {
		t.Fatalf("deleting an absent template: %v", err)
	}
	_, err = c.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("A")})
	tplError[*types.TemplateDoesNotExistException](t, err, "")
}

// TestRenderTemplate returns the MIME SES would send, or SES's rendering
// errors synchronously.
func TestRenderTemplateV1(t *testing.T) {
	s := stack.Start(t)
	c, ctx := s.SES, context.Background()
	tpl := v1Template("Greeting", "Greetings, {{name}}!", "Dear {{name}},\nYour favorite animal is {{favoriteanimal}}.",
		"<h1>Hello {{name}}</h1>{{#if vip}}<p>{{vipCode}}</p>{{/if}}")
	if _, err := c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: tpl}); err != nil {
		t.Fatal(err)
	}
	out, err := c.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("Greeting"),
		TemplateData: aws.String(`{"name":"Alejandro & <Co>","favoriteanimal":"the alpaca"}`)})
	if err != nil {
		t.Fatal(err)
	}
	mime := aws.ToString(out.RenderedTemplate)
	for _, want := range []string{
		"Subject: Greetings, Alejandro & <Co>!\r\n",
		"Content-Type: multipart/alternative;",
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nDear Alejandro & <Co>,\r\nYour favorite animal is the alpaca.\r\n",
		"Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n<h1>Hello Alejandro & <Co></h1>\r\n",
	} {
		if !strings.Contains(mime, want) {
			t.Errorf("RenderedTemplate lacks %q:\n%s", want, mime)
		}
	}

	_, err = c.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("Greeting"), TemplateData: aws.String(`{"name":"A"}`)})
	if e := tplError[*types.MissingRenderingAttributeException](t, err, "Attribute 'favoriteanimal' is not present in the rendering data."); aws.ToString(e.TemplateName) != "Greeting" {
		t.Errorf("MissingRenderingAttribute TemplateName = %q", aws.ToString(e.TemplateName))
	}
	_, err = c.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("Greeting"), TemplateData: aws.String(`{"name":`)})
	tplError[*types.InvalidRenderingParameterException](t, err, "Template data is not valid JSON: unexpected end of data.")
	_, err = c.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("Other"), TemplateData: aws.String(`{}`)})
	tplError[*types.TemplateDoesNotExistException](t, err, "Template Other does not exist.")
}

// SendTemplatedEmail refuses synchronously what SendEmail refuses, and an
// unknown template; the rendering failure itself is asynchronous (see
// internal/app/templates_test.go).
func TestSendTemplatedEmailRefusals(t *testing.T) {
	s := stack.Start(t)
	c, ctx := s.SES, context.Background()
	if _, err := c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: v1Template("T", "s {{x}}", "t", "")}); err != nil {
		t.Fatal(err)
	}
	send := func(name, arn, source string) error {
		in := &ses.SendTemplatedEmailInput{Source: aws.String(source), Template: aws.String(name), TemplateData: aws.String(`{}`),
			Destination: &types.Destination{ToAddresses: []string{"to@example.net"}}}
		if arn != "" {
			in.TemplateArn = aws.String(arn)
		}
		_, err := c.SendTemplatedEmail(ctx, in)
		return err
	}
	tplError[*types.TemplateDoesNotExistException](t, send("Missing", "", "from@example.com"), "Template Missing does not exist.")
	tplError[*types.TemplateDoesNotExistException](t, send("T", "arn:aws:ses:us-east-1:999999999999:template/T", "from@example.com"), "Template T does not exist.")
	// Not verified: refused although the data lacks x — the checks come first.
	tplError[*types.MessageRejected](t, send("T", "", "from@example.com"),
		"Email address is not verified. The following identities failed the check in region US-EAST-1: from@example.com, to@example.net")
}
