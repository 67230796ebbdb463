// Command loadgen drives Sesame (or the durable ceiling) with SES sends and
// reports the accepted rate, latency percentiles and errors by code.
//
// Modes: v2 (SES v2 SendEmail), v1 (SES v1 SendEmail), raw (SES v1
// SendRawEmail), each a plain net/http request with a pre-built body, signed
// per request with aws-sdk-go-v2's SigV4 signer over kept-alive connections;
// smtp (SES's SMTP interface: connect, STARTTLS, AUTH PLAIN once per
// connection, then MAIL/RCPT/DATA after MAIL/RCPT/DATA).
//
//	loadgen -mode v2 -target http://127.0.0.1:8080 -c 64 -warmup 3s -d 15s
//	loadgen -mode smtp -target 127.0.0.1:2587 -cafile data/tls/cert.pem -n 100000 -json
//
// Credentials come from -access-key/-secret or AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY; the SMTP password is derived from the secret as SES
// does (smtppass.V4) unless -smtp-password is given.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sesamehq/sesame/bench/internal/load"
	"github.com/sesamehq/sesame/bench/internal/sesreq"
	"github.com/sesamehq/sesame/bench/internal/smtpload"
	"github.com/sesamehq/sesame/internal/auth/smtppass"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	mode, target, region      string
	accessKey, secret         string
	smtpUser, smtpPassword    string
	from, to, subject         string
	size, concurrency         int
	count                     int64
	duration, warmup, timeout time.Duration
	maxTime                   time.Duration
	rate                      float64
	caFile                    string
	insecure, jsonOut         bool
	label                     string
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", "v2", "v2, v1, raw or smtp")
	fs.StringVar(&o.target, "target", "", "http://host:port (v2, v1, raw) or host:port of the STARTTLS listener (smtp)")
	fs.IntVar(&o.concurrency, "c", 64, "concurrent clients (connections)")
	fs.DurationVar(&o.duration, "d", 0, "measured duration (default 15s unless -n is given)")
	fs.Int64Var(&o.count, "n", 0, "measured requests (0: until -d)")
	fs.DurationVar(&o.warmup, "warmup", 0, "warm-up before measuring, not counted")
	fs.Float64Var(&o.rate, "rate", 0, "pace to about this many requests per second (0: as fast as answered)")
	fs.DurationVar(&o.maxTime, "max-time", 15*time.Minute, "hard bound on the whole run")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per request (and SMTP session set-up)")
	fs.StringVar(&o.region, "region", envOr("AWS_REGION", "us-east-1"), "region to sign for (`AWS_REGION`)")
	fs.StringVar(&o.accessKey, "access-key", os.Getenv("AWS_ACCESS_KEY_ID"), "access key id (`AWS_ACCESS_KEY_ID`)")
	fs.StringVar(&o.secret, "secret", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret access key (`AWS_SECRET_ACCESS_KEY`)")
	fs.StringVar(&o.smtpUser, "smtp-user", "", "SMTP user (default: the access key id)")
	fs.StringVar(&o.smtpPassword, "smtp-password", "", "SMTP password (default: derived from the secret, SES v4)")
	fs.StringVar(&o.from, "from", "sender@bench.sesame.test", "sender address (a verified identity)")
	fs.StringVar(&o.to, "to", "success@simulator.amazonses.com", "recipients, comma-separated")
	fs.StringVar(&o.subject, "subject", "Sesame benchmark", "subject")
	fs.IntVar(&o.size, "size", 1000, "text body bytes")
	fs.StringVar(&o.caFile, "cafile", "", "PEM certificate to trust for STARTTLS (Sesame's is DATA/tls/cert.pem)")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the STARTTLS certificate")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON")
	fs.StringVar(&o.label, "label", "", "a name for this run in the output")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.duration == 0 && o.count == 0 {
		o.duration = 15 * time.Second
	}
	if o.target == "" {
		return nil, errors.New("-target is required")
	}
	if o.accessKey == "" || o.secret == "" {
		return nil, errors.New("no credentials: set -access-key and -secret or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	if o.label == "" {
		o.label = o.mode
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	newClient, err := clients(o)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.maxTime)
	defer cancel()
	began, cpu0 := time.Now(), cpuTime()
	res, err := load.Run(ctx, load.Config{Concurrency: o.concurrency, Warmup: o.warmup, Duration: o.duration, Count: o.count,
		Rate: o.rate, NewClient: newClient})
	if res == nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: stopped early: %v\n", err)
	}
	rep := report(o, res)
	if wall := time.Since(began).Seconds(); wall > 0 {
		rep.ClientCores = (cpuTime() - cpu0).Seconds() / wall
	}
	if o.jsonOut {
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
	} else {
		printText(stdout, rep, res)
	}
	if err != nil || res.OK == 0 {
		return 1
	}
	return 0
}

func clients(o *options) (func(context.Context, int) (load.Client, string, error), error) {
	msg := sesreq.Message{From: o.from, To: splitList(o.to), Subject: o.subject, Text: sesreq.Body(o.size)}
	if o.mode == "smtp" {
		return smtpClients(o, msg)
	}
	creds := aws.Credentials{AccessKeyID: o.accessKey, SecretAccessKey: o.secret}
	tmpl, err := sesreq.Build(o.mode, o.target, o.region, creds, msg)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: o.timeout, Transport: &http.Transport{
		Proxy:               nil, // loopback only: never through a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        o.concurrency,
		MaxIdleConnsPerHost: o.concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	return func(context.Context, int) (load.Client, string, error) {
		return &httpClient{tmpl: tmpl, hc: hc}, "", nil
	}, nil
}

// httpClient is one worker's sender; the connection pool is shared.
type httpClient struct {
	tmpl *sesreq.Template
	hc   *http.Client
	buf  bytes.Buffer
}

func (c *httpClient) Do(ctx context.Context) string {
	out, err := c.tmpl.Send(ctx, c.hc, &c.buf)
	if err != nil {
		return "net: " + smtpload.NetClass(err)
	}
	if !out.OK {
		return out.Code
	}
	return ""
}

func (c *httpClient) Close() error { return nil }

func smtpClients(o *options, msg sesreq.Message) (func(context.Context, int) (load.Client, string, error), error) {
	host, _, err := net.SplitHostPort(o.target)
	if err != nil {
		return nil, fmt.Errorf("-target %q: want host:port for smtp", o.target)
	}
	tc := &tls.Config{ServerName: host, InsecureSkipVerify: o.insecure}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", o.caFile)
		}
	} else if !o.insecure {
		return nil, errors.New("smtp: give -cafile (Sesame's DATA/tls/cert.pem) or -insecure")
	}
	user, pass := o.smtpUser, o.smtpPassword
	if user == "" {
		user = o.accessKey
	}
	if pass == "" {
		pass = smtppass.V4(o.secret, o.region)
	}
	cfg := smtpload.Config{Addr: o.target, TLS: tc, User: user, Password: pass, From: msg.From, To: msg.To,
		Data: sesreq.MIME(msg), Timeout: o.timeout}
	return func(ctx context.Context, _ int) (load.Client, string, error) {
		s, err := smtpload.Dial(ctx, cfg)
		if err != nil {
			var se *smtpload.Error
			if errors.As(err, &se) {
				return nil, se.Code(), err
			}
			return nil, err.Error(), err
		}
		return &smtpClient{s: s}, "", nil
	}, nil
}

type smtpClient struct{ s *smtpload.Session }

func (c *smtpClient) Do(context.Context) string {
	if _, err := c.s.Send(); err != nil {
		var se *smtpload.Error
		if errors.As(err, &se) {
			if se.Fatal() {
				return se.Code() + load.BrokenSuffix
			}
			return se.Code()
		}
		return err.Error() + load.BrokenSuffix
	}
	return ""
}

func (c *smtpClient) Close() error { return c.s.Close() }

// Report is the -json output.
type Report struct {
	Label       string           `json:"label"`
	Mode        string           `json:"mode"`
	Target      string           `json:"target"`
	Concurrency int              `json:"concurrency"`
	BodyBytes   int              `json:"body_bytes"`
	StartUnixMs int64            `json:"start_unix_ms"`
	ElapsedS    float64          `json:"elapsed_s"`
	OK          int64            `json:"ok"`
	WarmupOK    int64            `json:"warmup_ok"`
	Failed      int64            `json:"failed"`
	Rate        float64          `json:"rate"`
	LatencyMs   Latency          `json:"latency_ms"`
	Errors      map[string]int64 `json:"errors"`
	// ClientCores is the load generator's own CPU use over the whole run,
	// warm-up included, in cores: what it took from the machine.
	ClientCores float64 `json:"client_cores"`
}

// Latency is in milliseconds, of successful requests.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

func report(o *options, r *load.Result) Report {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Report{Label: o.label, Mode: o.mode, Target: o.target, Concurrency: r.Concurrency, BodyBytes: o.size,
		StartUnixMs: r.Start.UnixMilli(), ElapsedS: r.Elapsed.Seconds(), OK: r.OK, WarmupOK: r.WarmupOK, Failed: r.Failed, Rate: r.Rate(),
		LatencyMs: Latency{Mean: ms(r.Latency.Mean()), P50: ms(r.Latency.Quantile(0.5)), P90: ms(r.Latency.Quantile(0.9)),
			P99: ms(r.Latency.Quantile(0.99)), Max: ms(r.Latency.Max())},
		Errors: r.Errors}
}

func printText(w io.Writer, rep Report, r *load.Result) {
	fmt.Fprintf(w, "%s → %s, %d clients, %d-byte body\n", rep.Label, rep.Target, rep.Concurrency, rep.BodyBytes)
	fmt.Fprintf(w, "  %d ok, %d failed in %.2fs: %.0f/s\n", rep.OK, rep.Failed, rep.ElapsedS, rep.Rate)
	l := rep.LatencyMs
	fmt.Fprintf(w, "  latency ms: mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", l.Mean, l.P50, l.P90, l.P99, l.Max)
	fmt.Fprintf(w, "  load generator CPU: %.2f cores\n", rep.ClientCores)
	for _, code := range r.ErrorCodes() {
		fmt.Fprintf(w, "  error %-40s %d\n", code, r.Errors[code])
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
