package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/bench/internal/ceiling"
)

func TestLoadgenAgainstCeiling(t *testing.T) {
	log, err := ceiling.Open(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	srv := httptest.NewServer(&ceiling.Handler{Log: log})
	defer srv.Close()
	for _, mode := range []string{"v2", "v1", "raw"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"-mode", mode, "-target", srv.URL, "-c", "4", "-n", "50", "-json",
			"-access-key", "AKIAEXAMPLE", "-secret", "secret"}, &out, &errOut)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", mode, code, errOut.String())
		}
		var rep Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%s: %v in %q", mode, err, out.String())
		}
		if rep.OK != 50 || rep.Failed != 0 || rep.Mode != mode || rep.Concurrency != 4 || rep.Rate <= 0 || rep.LatencyMs.P99 < rep.LatencyMs.P50 {
			t.Errorf("%s: %+v", mode, rep)
		}
	}
	if n, _ := log.Stats(); n != 150 {
		t.Errorf("the ceiling stored %d records, want 150", n)
	}
}

func TestLoadgenTextAndErrors(t *testing.T) {
	log, err := ceiling.Open(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	srv := httptest.NewServer(&ceiling.Handler{Log: log})
	defer srv.Close()
	// An empty sender makes the ceiling refuse every request, as SES would.
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-target", srv.URL, "-c", "2", "-n", "10", "-from", "", "-access-key", "A", "-secret", "s"}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "sender") {
		t.Fatalf("exit %d, %q", code, errOut.String())
	}
	// A wrong path is answered 404 with no SES error code: the errors are
	// counted by status, and a run with no success exits 1.
	out.Reset()
	code = run(context.Background(), []string{"-target", srv.URL + "/nowhere/..", "-mode", "v1", "-c", "2", "-n", "10", "-to", "a@b", "-access-key", "A", "-secret", "s"}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "0 ok, 10 failed") || !regexp.MustCompile(`error HTTP 404 +10`).MatchString(out.String()) {
		t.Fatalf("exit %d, %q", code, out.String())
	}
	out.Reset()
	code = run(context.Background(), []string{"-target", srv.URL, "-mode", "v1", "-c", "2", "-n", "10", "-to", "a@b", "-access-key", "A", "-secret", "s"}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "10 ok, 0 failed") || !strings.Contains(out.String(), "latency ms") {
		t.Fatalf("exit %d, %q", code, out.String())
	}
}

func TestLoadgenFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{
		{"-mode", "v2"}, // no target
		{"-target", "http://127.0.0.1:1", "-mode", "v9", "-access-key", "A", "-secret", "s"},
		{"-target", "127.0.0.1:1", "-mode", "smtp", "-access-key", "A", "-secret", "s"}, // no -cafile or -insecure
		{"-target", "http://127.0.0.1:1", "extra"},
	} {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}
