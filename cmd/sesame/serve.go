package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sesamehq/sesame/internal/app"
	"github.com/sesamehq/sesame/internal/config"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr)
	started := time.Now()
	a, err := app.New(cfg, log)
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		a.Close()
		return err
	}
	banner(stdout, a)
	log.Info("sesame started", "http", a.HTTPAddr(), "startup", time.Since(started).Round(time.Millisecond))
	<-ctx.Done()
	log.Info("sesame stopping")
	return a.Close()
}

// banner prints, once, where everything is, the credentials if they were
// made now, and the settings to paste into an SDK, the aws CLI and an SMTP
// client (DESIGN.md §2).
func banner(w io.Writer, a *app.App) {
	cfg := a.Config()
	endpoint := "http://" + a.HTTPAddr()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Sesame is running (region %s).\n", cfg.Region)
	fmt.Fprintf(tw, "  SES API, v1 and v2\t%s\n", endpoint)
	starttls, tls := a.SMTPAddrs()
	if starttls != "" {
		fmt.Fprintf(tw, "  SMTP, STARTTLS\t%s\n", starttls)
	}
	if tls != "" {
		fmt.Fprintf(tw, "  SMTP, TLS\t%s\n", tls)
	}
	if mx := a.MXAddr(); mx != "" {
		fmt.Fprintf(tw, "  Inbound MX (bounces, complaints)\t%s\n", mx)
	}
	if d := a.DNSAddr(); d != "" {
		fmt.Fprintf(tw, "  DKIM zone DNS\t%s (zone %s)\n", d, cfg.DKIMZone)
	}
	fmt.Fprintf(tw, "  Links in mail\t%s\n", a.PublicURL())
	fmt.Fprintf(tw, "  Data\t%s\n", cfg.DataDir)
	if cfg.Dev {
		fmt.Fprintf(tw, "  Mode\t--dev: mail is captured, not delivered: %s/_aws/ses\n", endpoint)
	} else if cfg.Relay != "" {
		fmt.Fprintf(tw, "  Delivery\tthrough the relay %s\n", cfg.Relay)
	} else {
		fmt.Fprintf(tw, "  Delivery\tto each recipient domain's MX\n")
	}
	tw.Flush()

	k := a.RootKey
	fmt.Fprintln(w)
	if a.RootKeyCreated {
		fmt.Fprintf(w, "Credentials for account %s, made now and shown only this once:\n", k.AccountID)
		fmt.Fprintf(w, "  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n", k.ID, k.Secret)
	} else {
		fmt.Fprintf(w, "Credentials for account %s: access key %s (its secret was shown at first start;\n", k.AccountID, k.ID)
		fmt.Fprintf(w, "  'sesame admin create-key --account %s' makes another).\n", k.AccountID)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Use it:")
	fmt.Fprintf(w, "  aws CLI:  aws --endpoint-url %s --region %s ses list-identities\n", endpoint, cfg.Region)
	fmt.Fprintf(w, "  SDKs:     export AWS_ENDPOINT_URL_SES=%s AWS_ENDPOINT_URL_SESV2=%s AWS_REGION=%s\n", endpoint, endpoint, cfg.Region)
	if starttls != "" {
		host, port, _ := strings.Cut(starttls, ":")
		fmt.Fprintf(w, "  SMTP:     host %s, port %s, STARTTLS, user %s,\n", host, port, k.ID)
		fmt.Fprintf(w, "            password: sesame admin smtp-credentials --access-key-id %s\n", k.ID)
	}
	fmt.Fprintf(w, "  Production access: sesame admin approve-production --account %s\n", k.AccountID)
}
