package sesv2_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

func emailTemplate(subject, text, html string) *types.EmailTemplateContent {
	c := &types.EmailTemplateContent{Subject: aws.String(subject)}
	if text != "" {
		c.Text = aws.String(text)
	}
	if html != "" {
		c.Html = aws.String(html)
	}
	return c
}

// The v2 template operations, with SES's typed errors, over the store v1
// shares: a template made with one API is the other's.
func TestEmailTemplateCRUD(t *testing.T) {
	s := stack.Start(t)
	c, ctx := s.SESv2, context.Background()

	if _, err := c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("Receipt"),
		TemplateContent: emailTemplate("Receipt {{orderId}}", "Total: {{total}}", "")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("Receipt"), TemplateContent: emailTemplate("s", "t", "")})
	wantError[*types.AlreadyExistsException](t, err, http.StatusBadRequest, "Template Receipt already exists.")
	_, err = c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("NoSubject"), TemplateContent: &types.EmailTemplateContent{Text: aws.String("t")}})
	wantError[*types.BadRequestException](t, err, http.StatusBadRequest, "The subject part of the template must not be empty.")
	_, err = c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("bad/name"), TemplateContent: emailTemplate("s", "t", "")})
	wantError[*types.BadRequestException](t, err, http.StatusBadRequest, "")

	// Made with v2, seen by v1; made with v1, seen by v2.
	v1got, err := s.SES.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("Receipt")})
	if err != nil || aws.ToString(v1got.Template.SubjectPart) != "Receipt {{orderId}}" {
		t.Fatalf("v1 GetTemplate of a v2 template: %+v %v", v1got, err)
	}
	if _, err := s.SES.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &v1types.Template{TemplateName: aws.String("FromV1"),
		SubjectPart: aws.String("Hi"), HtmlPart: aws.String("<p>{{x}}</p>")}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("FromV1")})
	if err != nil || aws.ToString(got.TemplateContent.Html) != "<p>{{x}}</p>" || got.TemplateContent.Text != nil {
		t.Fatalf("v2 GetEmailTemplate of a v1 template: %+v %v", got, err)
	}
	_, err = c.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("Nope")})
	wantError[*types.NotFoundException](t, err, http.StatusNotFound, "Template Nope does not exist.")

	if _, err := c.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("Receipt"),
		TemplateContent: emailTemplate("Your receipt", "", "<b>{{total}}</b>")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("Nope"), TemplateContent: emailTemplate("s", "t", "")})
	wantError[*types.NotFoundException](t, err, http.StatusNotFound, "Template Nope does not exist.")

	list, err := c.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.TemplatesMetadata) != 1 || aws.ToString(list.TemplatesMetadata[0].TemplateName) != "FromV1" || list.NextToken == nil ||
		list.TemplatesMetadata[0].CreatedTimestamp == nil {
		t.Fatalf("first page: %+v", list)
	}
	list, err = c.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(1), NextToken: list.NextToken})
	if err != nil || len(list.TemplatesMetadata) != 1 || aws.ToString(list.TemplatesMetadata[0].TemplateName) != "Receipt" || list.NextToken != nil {
		t.Fatalf("second page: %+v %v", list, err)
	}
	_, err = c.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(101)})
	wantError[*types.BadRequestException](t, err, http.StatusBadRequest, "PageSize must be between 1 and 100.")

	if _, err := c.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("FromV1")}); err != nil {
		t.Fatal(err)
	}
	// Unlike v1, v2 reports an absent template.
	_, err = c.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("FromV1")})
	wantError[*types.NotFoundException](t, err, http.StatusNotFound, "Template FromV1 does not exist.")
}

func TestRenderEmailTemplate(t *testing.T) {
	s := stack.Start(t)
	c, ctx := s.SESv2, context.Background()
	if _, err := c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("Order"),
		TemplateContent: emailTemplate("Order {{id}}", "{{#each items}}{{@index}}. {{name}} x{{qty}}\n{{/each}}", "")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("Order"),
		TemplateData: aws.String(`{"id":42,"items":[{"name":"nails","qty":100},{"name":"hammer","qty":1}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := "Subject: Order 42\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n0. nails x100\r\n1. hammer x1\r\n"
	if got := aws.ToString(out.RenderedTemplate); got != want {
		t.Errorf("RenderedTemplate:\n got %q\nwant %q", got, want)
	}
	_, err = c.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("Order"),
		TemplateData: aws.String(`{"id":1,"items":[{"name":"nails"}]}`)})
	wantError[*types.BadRequestException](t, err, http.StatusBadRequest, "Attribute 'qty' is not present in the rendering data.")
	_, err = c.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("Order"), TemplateData: aws.String(`[]`)})
	wantError[*types.BadRequestException](t, err, http.StatusBadRequest, "Template data must be a JSON object.")
	_, err = c.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("None"), TemplateData: aws.String(`{}`)})
	wantError[*types.NotFoundException](t, err, http.StatusNotFound, "Template None does not exist.")
}

// SendEmail with inline TemplateContent and with a TemplateArn: rendered,
// no HTML escaping, through the ordinary sending path.
func TestSendTemplateContent(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	s.ApproveProduction(t)
	s.VerifyEmail(t, "shop@example.com")

	out, err := s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("shop@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"buyer@example.net"}},
		Content: &types.EmailContent{Template: &types.Template{
			TemplateContent: emailTemplate("Hi {{name}}", "Dear {{name}}, {{#if vip}}welcome back{{else}}welcome{{/if}}.", "<p>{{{name}}} & {{name}}</p>"),
			TemplateData:    aws.String(`{"name":"Tom & <Jerry>","vip":true}`),
			Headers:         []types.MessageHeader{{Name: aws.String("X-Campaign"), Value: aws.String("inline")}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := waitMessage(t, s, aws.ToString(out.MessageId))
	h := header(t, m.Data)
	if subj, _ := h.Subject(); subj != "Hi Tom & <Jerry>" || h.Get("X-Campaign") != "inline" {
		t.Errorf("Subject %q, X-Campaign %q", subj, h.Get("X-Campaign"))
	}
	body := stack.BodyText(t, m.Data)
	for _, want := range []string{"Dear Tom & <Jerry>, welcome back.", "<p>Tom & <Jerry> & Tom & <Jerry></p>"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}

	if _, err := s.SESv2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("ByArn"),
		TemplateContent: emailTemplate("By ARN", "for {{who}}", "")}); err != nil {
		t.Fatal(err)
	}
	out, err = s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("shop@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"buyer@example.net"}},
		Content: &types.EmailContent{Template: &types.Template{
			TemplateArn: aws.String("arn:aws:ses:us-east-1:123456789012:template/ByArn"), TemplateData: aws.String(`{"who":"you"}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m := waitMessage(t, s, aws.ToString(out.MessageId)); !strings.Contains(stack.BodyText(t, m.Data), "for you") {
		t.Errorf("ARN template body: %s", m.Data)
	}

	_, err = s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("shop@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"buyer@example.net"}},
		Content:          &types.EmailContent{Template: &types.Template{TemplateName: aws.String("Nope")}},
	})
	wantError[*types.NotFoundException](t, err, http.StatusNotFound, "Template Nope does not exist.")
	_, err = s.SESv2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("shop@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"buyer@example.net"}},
		Content:          &types.EmailContent{Template: &types.Template{TemplateContent: emailTemplate("s", "{{#each x}}", "")}},
	})
	wantError[*types.BadRequestException](t, err, http.StatusBadRequest, "")
}

// SendBulkEmail: every entry its own message with its data and tags over
// the defaults; an entry SES refuses (too many recipients) is refused alone.
func TestSendBulkEmail(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()
	s.ApproveProduction(t)
	s.VerifyEmail(t, "news@example.com")
	if _, err := s.SESv2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("News"),
		TemplateContent: emailTemplate("{{greeting}}, {{name}}", "{{greeting}} {{name}} from {{city}}", "")}); err != nil {
		t.Fatal(err)
	}
	entry := func(to []string, data string, tags ...types.MessageTag) types.BulkEmailEntry {
		return types.BulkEmailEntry{Destination: &types.Destination{ToAddresses: to}, ReplacementTags: tags,
			ReplacementEmailContent: &types.ReplacementEmailContent{ReplacementTemplate: &types.ReplacementTemplate{ReplacementTemplateData: aws.String(data)}}}
	}
	crowd := make([]string, 51)
	for i := range crowd {
		crowd[i] = fmt.Sprintf("r%d@example.net", i)
	}
	out, err := s.SESv2.SendBulkEmail(ctx, &sesv2.SendBulkEmailInput{
		FromEmailAddress: aws.String("news@example.com"),
		DefaultContent: &types.BulkEmailContent{Template: &types.Template{TemplateName: aws.String("News"),
			TemplateData: aws.String(`{"greeting":"Hello","city":"Berlin","name":"friend"}`)}},
		DefaultEmailTags: []types.MessageTag{{Name: aws.String("campaign"), Value: aws.String("spring")}},
		BulkEmailEntries: []types.BulkEmailEntry{
			entry([]string{"ann@example.net"}, `{"name":"Ann"}`),
			entry(crowd, `{"name":"everyone"}`),
			entry([]string{"bob@example.net"}, `{"name":"Bob","city":"Paris"}`, types.MessageTag{Name: aws.String("campaign"), Value: aws.String("bob")}),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := out.BulkEmailEntryResults
	if len(res) != 3 || res[0].Status != types.BulkEmailStatusSuccess || res[2].Status != types.BulkEmailStatusSuccess ||
		res[1].Status != types.BulkEmailStatusMessageRejected || res[1].MessageId != nil {
		t.Fatalf("results = %+v", res)
	}
	if want := "Recipient count exceeds 50."; aws.ToString(res[1].Error) != want {
		t.Errorf("rejected entry's error = %q", aws.ToString(res[1].Error))
	}
	for i, want := range map[int]string{0: "Hello Ann from Berlin", 2: "Hello Bob from Paris"} {
		m := waitMessage(t, s, aws.ToString(res[i].MessageId))
		if body := stack.BodyText(t, m.Data); !strings.Contains(body, want) {
			t.Errorf("entry %d body %q, want %q", i, body, want)
		}
	}
	// The replacement tag replaced the default of its name.
	for i, want := range map[int][]string{0: {"spring"}, 2: {"bob"}} {
		if got := tagValues(t, s, aws.ToString(res[i].MessageId), "campaign"); !slices.Equal(got, want) {
			t.Errorf("entry %d campaign tag = %v, want %v", i, got, want)
		}
	}

	_, err = s.SESv2.SendBulkEmail(ctx, &sesv2.SendBulkEmailInput{
		FromEmailAddress: aws.String("news@example.com"),
		DefaultContent:   &types.BulkEmailContent{},
		BulkEmailEntries: []types.BulkEmailEntry{entry([]string{"ann@example.net"}, `{}`)},
	})
	wantError[*types.BadRequestException](t, err, http.StatusBadRequest, "DefaultContent must contain a Template.")
}

// tagValues reads a message's tag as stored for its events.
func tagValues(t *testing.T, s *stack.Stack, id, name string) []string {
	t.Helper()
	m, err := s.App.Queue.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Tags[name]
}
