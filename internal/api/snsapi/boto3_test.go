package snsapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBoto3 runs scripts/ci/compat_sns.py — boto3's sns client and a Python
// subscriber that verifies signatures — against the in-process server. It
// is skipped without python3 and boto3, and with -short.
func TestBoto3(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	if err := exec.Command(python, "-c", "import boto3").Run(); err != nil {
		t.Skip("no boto3")
	}
	s := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("..", "..", "..", "scripts", "ci", "compat_sns.py"))
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"SESAME_URL="+s.URL,
		"AWS_ACCESS_KEY_ID=AKIAOWNER0000000000A", "AWS_SECRET_ACCESS_KEY="+keys["AKIAOWNER0000000000A"].secret,
		"AWS_DEFAULT_REGION="+region, "AWS_REGION="+region,
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1", "HTTP_PROXY=", "http_proxy=",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("compat_sns.py: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
