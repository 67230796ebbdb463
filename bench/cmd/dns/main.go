// Command dns is the benchmark's loopback DNS server: it publishes Easy DKIM
// CNAMEs for the sending domains (any <token>._domainkey.<domain> points to
// <token>.<zone>), forwards Sesame's DKIM zone to Sesame's responder, and
// answers NXDOMAIN to everything else. Point Sesame at it with
// SESAME_DNS_SERVER.
//
//	dns -addr 127.0.0.1:5353 -domains bench.sesame.test -zone dkim.sesame.test -forward 127.0.0.1:2553
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sesamehq/sesame/bench/internal/benchdns"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "dns:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5353", "listen address (UDP and TCP)")
	domains := fs.String("domains", "bench.sesame.test", "sending domains, comma-separated")
	zone := fs.String("zone", "", "Sesame's DKIM zone (SESAME_DKIM_ZONE)")
	forward := fs.String("forward", "", "Sesame's DKIM-zone responder (SESAME_DNS_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := benchdns.Listen(*addr, benchdns.Config{Domains: strings.Split(*domains, ","), Zone: *zone, Forward: *forward})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "dns: serving on %s: Easy DKIM for %s, zone %s forwarded to %s\n", s.Addr(), *domains, *zone, *forward)
	<-ctx.Done()
	return s.Close()
}
