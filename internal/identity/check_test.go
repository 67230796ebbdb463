package identity_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sesamehq/sesame/internal/dns"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/testkit/dnstest"
)

const zone = "dkim.sesame.test"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(t *testing.T) (*identity.Service, *dnstest.Server, *clock) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec("INSERT INTO accounts(id, sandbox, max_24h, max_rate, created_at) VALUES ('111111111111', 1, 200, 1, 0)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := dnstest.New(t)
	client, err := dns.NewClient(srv.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := identity.New(identity.Config{Region: "us-east-1", Zone: zone, Hostname: "sesame.test", KeyBits: 1024}, db, client, c.Now, nil)
	return s, srv, c
}

const acct = "111111111111"

func TestDomainCheckSchedule(t *testing.T) {
	s, srv, c := newService(t)
	ctx := context.Background()
	id, err := s.Create(ctx, acct, "Example.COM", identity.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if id.Name != "example.com" || len(id.DKIM.Tokens) != 3 || id.DKIM.KeyLength != identity.RSA2048 && id.DKIM.KeyLength != identity.RSA1024 {
		t.Fatalf("created %+v", id)
	}
	tok := id.DKIM.Tokens

	// Nothing published: pending, and the identity says which record.
	id, err = s.CheckNow(ctx, acct, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if id.Status != identity.Pending || id.ErrorType != "HOST_NOT_FOUND" || !strings.Contains(id.ErrorDetail, "CNAME "+tok[0]+"._domainkey.example.com") {
		t.Fatalf("unpublished: %s %s %q", id.Status, id.ErrorType, id.ErrorDetail)
	}

	// A CNAME pointing elsewhere is named as wrong.
	srv.AddCNAME(tok[0]+"._domainkey.example.com", "elsewhere.example")
	id, _ = s.CheckNow(ctx, acct, "example.com")
	if id.ErrorType != "INVALID_VALUE" || !strings.Contains(id.ErrorDetail, "points to elsewhere.example, want "+tok[0]+"."+zone) {
		t.Fatalf("wrong CNAME: %s %q", id.ErrorType, id.ErrorDetail)
	}

	// A DNS server failure is temporary.
	srv.SetRcode(tok[0]+"._domainkey.example.com", mdns.RcodeServerFailure)
	id, _ = s.CheckNow(ctx, acct, "example.com")
	if id.Status != identity.TemporaryFailure || id.ErrorType != "DNS_SERVER_ERROR" {
		t.Fatalf("SERVFAIL: %s %s", id.Status, id.ErrorType)
	}
	srv.SetRcode(tok[0]+"._domainkey.example.com", mdns.RcodeSuccess)

	// All three right: verified, DKIM verified, no error.
	for _, k := range tok {
		srv.AddCNAME(k+"._domainkey.example.com", k+"."+zone)
	}
	id, _ = s.CheckNow(ctx, acct, "example.com")
	if id.Status != identity.Success || id.DKIM.Status != identity.Success || id.ErrorType != "" {
		t.Fatalf("published: %s dkim %s %s %q", id.Status, id.DKIM.Status, id.ErrorType, id.ErrorDetail)
	}
	if ok, _ := s.Verified(ctx, acct, "someone@mail.example.com"); !ok {
		t.Fatal("a verified domain must cover addresses of its subdomains")
	}
	keys, err := s.SigningKeys(ctx, acct, "someone@mail.example.com")
	if err != nil || len(keys) != 1 || keys[0].Domain != "example.com" || keys[0].Selector != tok[0] {
		t.Fatalf("signing keys %+v, %v", keys, err)
	}

	// Records removed: still verified during the grace period, failed after.
	srv.Remove(tok[1]+"._domainkey.example.com", mdns.TypeCNAME)
	c.Add(time.Hour)
	if id, _ = s.CheckNow(ctx, acct, "example.com"); id.Status != identity.Success {
		t.Fatalf("within grace: %s", id.Status)
	}
	c.Add(72 * time.Hour)
	if id, _ = s.CheckNow(ctx, acct, "example.com"); id.Status != identity.Failed || id.DKIM.Status != identity.Failed {
		t.Fatalf("after grace: %s dkim %s", id.Status, id.DKIM.Status)
	}
	if keys, _ := s.SigningKeys(ctx, acct, "a@example.com"); len(keys) != 0 {
		t.Fatal("a failed DKIM identity must not sign")
	}
}

func TestPendingDomainFailsAfter72Hours(t *testing.T) {
	s, _, c := newService(t)
	ctx := context.Background()
	token, err := s.VerifyDomainIdentity(ctx, acct, "late.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 44 {
		t.Fatalf("token %q: want 44 characters like SES's", token)
	}
	c.Add(71 * time.Hour)
	if id, _ := s.CheckNow(ctx, acct, "late.example"); id.Status != identity.Pending {
		t.Fatalf("at 71 h: %s", id.Status)
	}
	c.Add(2 * time.Hour)
	if id, _ := s.CheckNow(ctx, acct, "late.example"); id.Status != identity.Failed {
		t.Fatalf("at 73 h: %s", id.Status)
	}
}

func TestLegacyTXTVerifies(t *testing.T) {
	s, srv, _ := newService(t)
	ctx := context.Background()
	token, err := s.VerifyDomainIdentity(ctx, acct, "txt.example")
	if err != nil {
		t.Fatal(err)
	}
	srv.AddTXT("_amazonses.txt.example", "unrelated", token)
	id, err := s.CheckNow(ctx, acct, "txt.example")
	if err != nil {
		t.Fatal(err)
	}
	if id.Status != identity.Success || id.DKIM.Origin != "" {
		t.Fatalf("TXT-verified domain: %s, DKIM origin %q", id.Status, id.DKIM.Origin)
	}
	if again, _ := s.VerifyDomainIdentity(ctx, acct, "txt.example"); again != token {
		t.Fatal("VerifyDomainIdentity must return the same token for an existing identity")
	}
}
