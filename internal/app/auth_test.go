package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"

	"github.com/sesamehq/sesame/internal/testkit/stack"
)

// Every API call is SigV4-checked; refusals come back in each API's own
// dialect with SES's codes.
func TestAuthenticationRefusals(t *testing.T) {
	s := stack.Start(t)
	ctx := context.Background()

	post := func(path, contentType, body string) (int, http.Header, string) {
		resp, err := http.Post(s.URL+path, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	status, _, body := post("/", "application/x-www-form-urlencoded", "Action=ListIdentities&Version=2010-12-01")
	if status != 403 || !strings.Contains(body, "<Code>MissingAuthenticationToken</Code>") || !strings.Contains(body, "<ErrorResponse") {
		t.Errorf("v1 unsigned: %d %s", status, body)
	}
	status, hdr, body := post("/v2/email/outbound-emails", "application/json", "{}")
	if status != 403 || hdr.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" || !strings.Contains(body, `"message"`) {
		t.Errorf("v2 unsigned: %d %v %s", status, hdr, body)
	}

	// Wrong secret, unknown key: the SDKs surface SES's codes.
	wrongV1, wrongV2 := s.Clients(s.Root.ID, "not-the-secret")
	_, err := wrongV1.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	expectCode(t, err, "SignatureDoesNotMatch")
	_, err = wrongV2.GetAccount(ctx, &sesv2.GetAccountInput{})
	expectCode(t, err, "InvalidSignatureException")
	unknownV1, unknownV2 := s.Clients("AKIAUNKNOWNKEY000000", "x")
	_, err = unknownV1.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	expectCode(t, err, "InvalidClientTokenId")
	_, err = unknownV2.GetAccount(ctx, &sesv2.GetAccountInput{})
	expectCode(t, err, "UnrecognizedClientException")

	// A request signed ten minutes ago is stale.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader("Action=ListIdentities&Version=2010-12-01"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	signer := v4.NewSigner()
	payload := sha256Hex("Action=ListIdentities&Version=2010-12-01")
	if err := signer.SignHTTP(ctx, aws.Credentials{AccessKeyID: s.Root.ID, SecretAccessKey: s.Root.Secret}, req, payload, "ses", stack.Region, time.Now().Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>SignatureDoesNotMatch</Code>") || !strings.Contains(string(b), "Signature expired:") {
		t.Errorf("stale request: %d %s", resp.StatusCode, b)
	}

	// An operation Sesame does not have yet says so by name.
	_, err = s.SES.ListReceiptFilters(ctx, &ses.ListReceiptFiltersInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), "ListReceiptFilters is not implemented") {
		t.Errorf("unimplemented: %v", err)
	}
}

func expectCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("err = %v, want code %s", err, code)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
