// Package config holds Sesame's process settings: the contract of DESIGN.md §2.
// Every setting has a flag and a SESAME_* environment variable; a flag given on
// the command line wins over the environment, which wins over the default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Config is the validated configuration of one Sesame process.
type Config struct {
	DataDir   string // embedded store, spool, keys, TLS certificate
	HTTPAddr  string // SES v1 at POST /, v2 under /v2/, verification links, /health
	SMTPAddr  string // submission with STARTTLS (SES's 2587)
	SMTPSAddr string // submission with implicit TLS (SES's 2465)
	MXAddr    string // inbound mail
	Region    string
	PublicURL string // base of links in verification mail and tracking; "" = http://<bound HTTP address>
	Hostname  string // EHLO name and Message-ID domain
	DNSServer string // resolver for MX/TXT/CNAME, host:port; "" = system
	DNSAddr   string // Sesame's authoritative DKIM-zone responder
	DKIMZone  string // Easy DKIM CNAME targets are <token>.<DKIMZone>
	Relay     string // smarthost host:port; "" = deliver to MX
	DB        string // "" = SQLite in DataDir; postgres://… selects PostgreSQL
	TLSCert   string
	TLSKey    string
	Dev       bool // capture outbound mail; new accounts out of the sandbox

	RootAccessKeyID     string
	RootSecretAccessKey string

	// DeliveryPort is the TCP port used for MX hosts (25). Only tests and
	// unusual lab networks change it (SESAME_DELIVERY_PORT).
	DeliveryPort int
	// VerifyInterval is the first interval of the DNS re-check schedule for
	// pending domain identities; it doubles up to five minutes.
	VerifyInterval time.Duration
}

// Load parses args (without the program name and subcommand) over the
// environment. Unknown flags are an error.
func Load(args []string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := &Config{}
	fs := flag.NewFlagSet("sesame serve", flag.ContinueOnError)
	fs.StringVar(&c.DataDir, "data", env("SESAME_DATA_DIR", "./sesame-data"), "data directory (`SESAME_DATA_DIR`)")
	fs.StringVar(&c.HTTPAddr, "http", env("SESAME_HTTP_ADDR", "127.0.0.1:8080"), "HTTP API address (`SESAME_HTTP_ADDR`)")
	fs.StringVar(&c.SMTPAddr, "smtp", env("SESAME_SMTP_ADDR", "127.0.0.1:2587"), "SMTP submission, STARTTLS (`SESAME_SMTP_ADDR`)")
	fs.StringVar(&c.SMTPSAddr, "smtps", env("SESAME_SMTPS_ADDR", "127.0.0.1:2465"), "SMTP submission, implicit TLS (`SESAME_SMTPS_ADDR`)")
	fs.StringVar(&c.MXAddr, "mx", env("SESAME_MX_ADDR", "127.0.0.1:2525"), "inbound mail (`SESAME_MX_ADDR`)")
	fs.StringVar(&c.Region, "region", env("SESAME_REGION", "us-east-1"), "region served (`SESAME_REGION`)")
	fs.StringVar(&c.PublicURL, "public-url", env("SESAME_PUBLIC_URL", ""), "public base URL (`SESAME_PUBLIC_URL`)")
	fs.StringVar(&c.Hostname, "hostname", env("SESAME_HOSTNAME", host), "host name for EHLO and Message-ID (`SESAME_HOSTNAME`)")
	fs.StringVar(&c.DNSServer, "dns", env("SESAME_DNS_SERVER", ""), "DNS resolver host:port (`SESAME_DNS_SERVER`)")
	fs.StringVar(&c.DNSAddr, "dns-listen", env("SESAME_DNS_ADDR", "127.0.0.1:2553"), "DKIM-zone DNS listener (`SESAME_DNS_ADDR`)")
	fs.StringVar(&c.DKIMZone, "dkim-zone", env("SESAME_DKIM_ZONE", ""), "DKIM zone (`SESAME_DKIM_ZONE`)")
	fs.StringVar(&c.Relay, "relay", env("SESAME_RELAY", ""), "smarthost host:port (`SESAME_RELAY`)")
	fs.StringVar(&c.DB, "db", env("SESAME_DB", ""), "database (`SESAME_DB`)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("SESAME_TLS_CERT", ""), "TLS certificate PEM (`SESAME_TLS_CERT`)")
	fs.StringVar(&c.TLSKey, "tls-key", env("SESAME_TLS_KEY", ""), "TLS key PEM (`SESAME_TLS_KEY`)")
	fs.BoolVar(&c.Dev, "dev", truthy(getenv("SESAME_DEV")), "development mode (`SESAME_DEV`)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.RootAccessKeyID = getenv("SESAME_ROOT_ACCESS_KEY_ID")
	c.RootSecretAccessKey = getenv("SESAME_ROOT_SECRET_ACCESS_KEY")
	c.DeliveryPort = 25
	if v := getenv("SESAME_DELIVERY_PORT"); v != "" {
		if _, err := fmt.Sscan(v, &c.DeliveryPort); err != nil {
			return nil, fmt.Errorf("SESAME_DELIVERY_PORT: %v", err)
		}
	}
	c.VerifyInterval = time.Second
	return c, c.finish()
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// finish fills derived defaults and validates.
func (c *Config) finish() error {
	var errs []error
	for name, addr := range map[string]string{"http": c.HTTPAddr, "smtp": c.SMTPAddr, "smtps": c.SMTPSAddr, "mx": c.MXAddr, "dns-listen": c.DNSAddr} {
		if addr == "" || addr == "off" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: %v", name, addr, err))
		}
	}
	if c.Region == "" {
		errs = append(errs, errors.New("--region must not be empty"))
	}
	c.Hostname = strings.TrimSuffix(strings.ToLower(c.Hostname), ".")
	if c.DKIMZone == "" {
		c.DKIMZone = "dkim." + c.Hostname
	}
	c.DKIMZone = strings.TrimSuffix(strings.ToLower(c.DKIMZone), ".")
	// An empty PublicURL is derived from the bound HTTP address at start.
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if (c.RootAccessKeyID == "") != (c.RootSecretAccessKey == "") {
		errs = append(errs, errors.New("SESAME_ROOT_ACCESS_KEY_ID and SESAME_ROOT_SECRET_ACCESS_KEY go together"))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") && !strings.HasPrefix(c.DB, "sqlite:") {
		errs = append(errs, fmt.Errorf("--db %q: want a postgres:// URL or sqlite:PATH", c.DB))
	}
	return errors.Join(errs...)
}
