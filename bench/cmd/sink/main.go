// Command sink is the benchmark's SMTP sink: it accepts every message,
// counts it and keeps nothing, checks for a DKIM-Signature and verifies a
// sample of signatures against the keys in DNS. With -n it exits once that
// many messages arrived and prints what it saw (with -json, as JSON); with
// -stall it accepts connections and never greets, to park Sesame's delivery
// workers during an accept benchmark.
//
//	sink -addr 127.0.0.1:2526 -n 100000 -verify-every 1000 -dns 127.0.0.1:5353 -json
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sesamehq/sesame/bench/internal/benchdns"
	"github.com/sesamehq/sesame/bench/internal/sinksrv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:2526", "listen address")
	n := fs.Int64("n", 0, "exit after this many messages (0: run until signalled)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	offerTLS := fs.Bool("tls", false, "offer STARTTLS (a throwaway self-signed certificate)")
	stall := fs.Bool("stall", false, "accept connections, never greet")
	every := fs.Int64("verify-every", 0, "verify the DKIM signatures of one message in this many (0: none)")
	dnsAddr := fs.String("dns", "", "DNS server for DKIM key look-ups (the bench DNS)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := sinksrv.Config{Stall: *stall, VerifyEvery: *every}
	if *every > 0 {
		if *dnsAddr == "" {
			return errors.New("-verify-every needs -dns")
		}
		server := *dnsAddr
		cfg.LookupTXT = func(name string) ([]string, error) { return benchdns.LookupTXT(server, name) }
	}
	if *offerTLS {
		cert, err := selfSigned()
		if err != nil {
			return err
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	s, err := sinksrv.Listen(*addr, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	mode := "accepting"
	if *stall {
		mode = "stalling"
	}
	fmt.Fprintf(stderr, "sink: %s on %s\n", mode, s.Addr())

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *n > 0 {
		err = s.Wait(ctx, *n)
	} else {
		<-ctx.Done()
		err = nil
	}
	st := s.Stats()
	if *jsonOut {
		if jerr := json.NewEncoder(stdout).Encode(report(st)); jerr != nil {
			return jerr
		}
	} else {
		r := report(st)
		fmt.Fprintf(stdout, "sink: %d messages (%d signed; %d verified, %d failed; RSA %d bits) over %d connections, %.0f/s first to last\n",
			r.Messages, r.Signed, r.Verified, r.VerifyFailed, r.KeyBits, r.Conns, r.Rate)
	}
	return err
}

// Report is the -json output.
type Report struct {
	Messages     int64   `json:"messages"`
	Recipients   int64   `json:"recipients"`
	Bytes        int64   `json:"bytes"`
	Conns        int64   `json:"conns"`
	Signed       int64   `json:"signed"`
	Verified     int64   `json:"verified"`
	VerifyFailed int64   `json:"verify_failed"`
	KeyBits      int     `json:"key_bits"`
	FirstUnixMs  int64   `json:"first_unix_ms"`
	LastUnixMs   int64   `json:"last_unix_ms"`
	Rate         float64 `json:"rate"`  // messages per second from the first to the last
	CPUSeconds   float64 `json:"cpu_s"` // the sink's own CPU time, user and system
}

func report(st sinksrv.Stats) Report {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	r := Report{CPUSeconds: float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, Messages: st.Messages, Recipients: st.Recipients, Bytes: st.Bytes, Conns: st.Conns, Signed: st.Signed,
		Verified: st.Verified, VerifyFailed: st.VerifyFailed, KeyBits: st.KeyBits}
	if !st.First.IsZero() {
		r.FirstUnixMs, r.LastUnixMs = st.First.UnixMilli(), st.Last.UnixMilli()
		if d := st.Last.Sub(st.First).Seconds(); d > 0 {
			r.Rate = float64(st.Messages-1) / d
		}
	}
	return r
}

// selfSigned makes a throwaway ECDSA P-256 certificate for 127.0.0.1;
// Sesame's delivery takes any certificate for opportunistic TLS.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sink.bench.test"},
		DNSNames:     []string{"sink.bench.test", "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
