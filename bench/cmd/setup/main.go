// Command setup prepares a running Sesame for a benchmark the way a user
// would: it creates the sending domain with SES v2 CreateEmailIdentity
// (Easy DKIM, RSA-2048) and waits until Sesame has found the DKIM CNAMEs
// in DNS (the bench DNS publishes them) and the domain is verified for
// sending. Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
//
//	setup -endpoint http://127.0.0.1:8080 -domain bench.sesame.test
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8080", "Sesame's HTTP API")
	domain := fs.String("domain", "bench.sesame.test", "sending domain to create and verify")
	region := fs.String("region", "us-east-1", "region")
	wait := fs.Duration("wait", time.Minute, "how long to wait for verification")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return errors.New("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	c := sesv2.NewFromConfig(aws.Config{Region: *region, Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), RetryMaxAttempts: 1},
		func(o *sesv2.Options) { o.BaseEndpoint = aws.String(*endpoint) })
	ctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	_, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: domain})
	var exists *types.AlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("CreateEmailIdentity %s: %w", *domain, err)
	}
	for {
		got, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: domain})
		if err != nil {
			return fmt.Errorf("GetEmailIdentity %s: %w", *domain, err)
		}
		if got.VerifiedForSendingStatus && got.DkimAttributes != nil && got.DkimAttributes.Status == types.DkimStatusSuccess {
			fmt.Fprintf(stdout, "setup: %s verified for sending (Easy DKIM %s, selectors %v)\n", *domain,
				got.DkimAttributes.CurrentSigningKeyLength, got.DkimAttributes.Tokens)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not verified after %v: status %s, DKIM %v", *domain, *wait, got.VerificationStatus, got.DkimAttributes)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
