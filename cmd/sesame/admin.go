package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/auth/smtppass"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/store"
)

const adminUsage = `Usage: sesame admin <command> [flags]

Commands (each takes --data DIR, default $SESAME_DATA_DIR or ./sesame-data):
  approve-production --account ID [--max-24h N] [--max-rate R]
                        lift the sandbox (defaults: 50000 per 24 h, 14 per second)
  deny-production --account ID
                        deny a production-access request; the account stays in the sandbox
  set-quota --account ID --max-24h N --max-rate R
                        set an account's sending quota
  create-account [--account ID]
                        create an account (random 12-digit id if none) and an access key
  create-key --account ID [--user NAME]
                        create an access key; prints the secret once
  list-accounts         list accounts with their sandbox state and quotas
  smtp-credentials --access-key-id ID [--region R]
                        print the SMTP user name and password derived from a key (SES v4)
  queue                 count queued, delivered, bounced and captured deliveries

The commands work on the data directory directly, whether or not the server is running.
`

// admin runs an operator command against the store in the data directory.
func admin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("sesame admin "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", envOr("SESAME_DATA_DIR", "./sesame-data"), "data directory")
	dbURL := fs.String("db", os.Getenv("SESAME_DB"), "database (sqlite:PATH; default the data directory's)")
	region := fs.String("region", envOr("SESAME_REGION", "us-east-1"), "region (for SMTP passwords)")
	acct := fs.String("account", "", "account id")
	max24h := fs.Int64("max-24h", 0, "messages per 24 hours")
	maxRate := fs.Float64("max-rate", 0, "messages per second")
	user := fs.String("user", "", "user name for the key")
	keyID := fs.String("access-key-id", "", "access key id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	path := filepath.Join(*dataDir, "sesame.db")
	if p, ok := strings.CutPrefix(*dbURL, "sqlite:"); ok {
		path = p
	} else if *dbURL != "" {
		return errors.New("admin: only the embedded store is supported yet")
	}
	if _, err := os.Stat(path); err != nil && cmd != "create-account" {
		return fmt.Errorf("no Sesame data at %s (run 'sesame serve' first, or pass --data)", path)
	}
	db, err := store.Open(path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	accounts := account.New(db, false, nil)
	need := func(v, name string) error {
		if v == "" {
			return fmt.Errorf("%s needs --%s", cmd, name)
		}
		return nil
	}

	switch cmd {
	case "approve-production":
		if err := need(*acct, "account"); err != nil {
			return err
		}
		if err := accounts.ApproveProduction(ctx, *acct, *max24h, *maxRate); err != nil {
			return err
		}
		a, err := accounts.Get(ctx, *acct)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Account %s is out of the sandbox: %d messages per 24 hours, %g per second.\n", a.ID, a.Max24h, a.MaxRate)
	case "deny-production":
		if err := need(*acct, "account"); err != nil {
			return err
		}
		if err := accounts.DenyProduction(ctx, *acct); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Production access denied for account %s; it stays in the sandbox.\n", *acct)
	case "set-quota":
		if err := need(*acct, "account"); err != nil {
			return err
		}
		if err := accounts.SetQuota(ctx, *acct, *max24h, *maxRate); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Account %s: %d messages per 24 hours, %g per second.\n", *acct, *max24h, *maxRate)
	case "create-account":
		a, err := accounts.CreateAccount(ctx, *acct)
		if err != nil {
			return err
		}
		k, err := accounts.CreateKey(ctx, a.ID, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Account %s (in the sandbox)\n  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n", a.ID, k.ID, k.Secret)
	case "create-key":
		if err := need(*acct, "account"); err != nil {
			return err
		}
		k, err := accounts.CreateKey(ctx, *acct, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n", k.ID, k.Secret)
	case "list-accounts":
		ids, err := accounts.List(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			a, err := accounts.Get(ctx, id)
			if err != nil {
				return err
			}
			state := "production"
			if a.Sandbox {
				state = "sandbox"
			}
			if a.ReviewStatus != "" {
				state += ", review " + a.ReviewStatus
			}
			fmt.Fprintf(stdout, "%s  %-10s  %d per 24 h, %g per second\n", a.ID, state, a.Max24h, a.MaxRate)
		}
	case "smtp-credentials":
		if err := need(*keyID, "access-key-id"); err != nil {
			return err
		}
		k, err := accounts.LookupKey(ctx, *keyID)
		if err != nil {
			return fmt.Errorf("access key %s: %w", *keyID, err)
		}
		fmt.Fprintf(stdout, "SMTP user name: %s\nSMTP password: %s\n(region %s; the password is derived from the secret key as SES does)\n",
			k.ID, smtppass.V4(k.Secret, *region), *region)
	case "queue":
		st, err := queue.New(db, nil).Stats(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "queued %d, delivered %d, bounced %d, captured %d\n", st.Queued, st.Delivered, st.Bounced, st.Captured)
	default:
		return fmt.Errorf("unknown admin command %q\n\n%s", cmd, adminUsage)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
