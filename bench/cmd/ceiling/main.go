// Command ceiling is the durable ceiling: a bare net/http server that takes
// the same signed SES v2 SendEmail requests as Sesame (and v1 SendEmail and
// SendRawEmail), parses the body, appends it to a file and answers with a
// MessageId only after an fsync covers it, concurrent requests sharing one
// fsync. It skips SigV4 verification unless -verify is given (then it checks
// as Sesame does against AWS_SECRET_ACCESS_KEY). Sesame's accept rate is
// judged against this server's on the same machine.
//
//	ceiling -addr 127.0.0.1:8090 -file /tmp/ceiling.log
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sesamehq/sesame/bench/internal/ceiling"
	"github.com/sesamehq/sesame/internal/api/sigv4"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	file := fs.String("file", "", "append-only log (default: a new file in the temporary directory, removed at exit)")
	verify := fs.Bool("verify", false, "verify SigV4 signatures against AWS_SECRET_ACCESS_KEY (region AWS_REGION or us-east-1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := *file
	if path == "" {
		dir, err := os.MkdirTemp("", "ceiling-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "log")
	}
	log, err := ceiling.Open(path)
	if err != nil {
		return err
	}
	h := &ceiling.Handler{Log: log}
	if *verify {
		secret, region := os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_REGION")
		if secret == "" {
			return errors.New("-verify needs AWS_SECRET_ACCESS_KEY")
		}
		if region == "" {
			region = "us-east-1"
		}
		h.Verifier = &sigv4.Verifier{Region: region, Lookup: func(context.Context, string) (string, error) { return secret, nil }}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	fmt.Fprintf(stdout, "ceiling: listening on http://%s, log %s, signatures %s\n", ln.Addr(), path, map[bool]string{true: "verified", false: "not verified"}[*verify])
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	records, syncs := log.Stats()
	err = errors.Join(err, log.Close())
	batch := 0.0
	if syncs > 0 {
		batch = float64(records) / float64(syncs)
	}
	fmt.Fprintf(stdout, "ceiling: %d records in %d fsyncs (%.1f per fsync)\n", records, syncs, batch)
	return err
}
