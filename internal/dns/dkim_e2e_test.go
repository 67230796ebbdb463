package dns

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	mdns "github.com/miekg/dns"

	"github.com/sesamehq/sesame/internal/testkit/dnstest"
)

// TestDKIMThroughZoneServer runs the Easy DKIM path end to end: the customer
// publishes <token>._domainkey.example.com CNAME <token>.<zone> (here in the
// test resolver), Sesame's ZoneServer serves <token>.<zone> TXT, and a DKIM
// verifier using Client.LookupTXT finds the key through the CNAME.
func TestDKIMThroughZoneServer(t *testing.T) {
	const token = "q4xyzq4xyzq4xyzq4xyzq4xyzq4xyz12"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	record := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)

	zone, keys := startZone(t, map[string]string{token: record})
	resolver := dnstest.New(t)
	resolver.Forward(testZone, zone.Addr())
	resolver.AddCNAME(token+"._domainkey.example.com", token+"."+testZone)
	client := newTestClient(t, resolver.Addr(), 2*time.Second)
	ctx := testContext(t)

	// What the identity checker sees.
	if target, err := client.LookupCNAME(ctx, token+"._domainkey.example.com"); err != nil || target != token+"."+testZone {
		t.Fatalf("LookupCNAME = %q, %v", target, err)
	}

	msg := strings.Join([]string{
		"From: Sender <sender@example.com>",
		"To: rcpt@example.net",
		"Subject: DKIM through Sesame's zone",
		"Date: Mon, 02 Jan 2006 15:04:05 +0000",
		"Message-ID: <1@example.com>",
		"",
		"Hello.",
		"",
	}, "\r\n")
	var signed bytes.Buffer
	err = dkim.Sign(&signed, strings.NewReader(msg), &dkim.SignOptions{
		Domain:                 "example.com",
		Selector:               token,
		Signer:                 key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, // SES-BEHAVIOR §5.4: c=relaxed/simple
		BodyCanonicalization:   dkim.CanonicalizationSimple,
		HeaderKeys:             []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	if err != nil {
		t.Fatal(err)
	}
	verify := func() *dkim.Verification {
		t.Helper()
		verifs, err := dkim.VerifyWithOptions(bytes.NewReader(signed.Bytes()), &dkim.VerifyOptions{
			LookupTXT: func(domain string) ([]string, error) { return client.LookupTXT(ctx, domain) },
		})
		if err != nil || len(verifs) != 1 {
			t.Fatalf("VerifyWithOptions: %d verifications, %v", len(verifs), err)
		}
		return verifs[0]
	}

	if v := verify(); v.Err != nil || v.Domain != "example.com" {
		t.Fatalf("verification: domain %q, err %v", v.Domain, v.Err)
	}

	// The key withdrawn from the zone: a permanent failure (RFC 6376 §6.1.2).
	keys.mu.Lock()
	delete(keys.txt, token)
	keys.mu.Unlock()
	if v := verify(); !dkim.IsPermFail(v.Err) {
		t.Errorf("withdrawn key: %v, want permfail", v.Err)
	}

	// The resolver failing: a temporary one, so the mail is not rejected.
	resolver.SetRcode(token+"._domainkey.example.com", mdns.RcodeServerFailure)
	if v := verify(); !dkim.IsTempFail(v.Err) {
		t.Errorf("SERVFAIL: %v, want tempfail", v.Err)
	}
}

// TestDKIMZoneBehindNonRecursiveServer covers a resolver that answers the
// customer's CNAME but not the target: the client asks Sesame's zone itself.
func TestDKIMZoneBehindNonRecursiveServer(t *testing.T) {
	zone, _ := startZone(t, map[string]string{"tok": "v=DKIM1; p=AAAA"})
	// One address answering both: the CNAME locally, the zone by relaying
	// only queries for names in it.
	addr := serveHandler(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		q := req.Question[0]
		if mdns.IsSubDomain(testZone+".", strings.ToLower(q.Name)) {
			c := &mdns.Client{Timeout: 2 * time.Second}
			r, _, err := c.ExchangeContext(context.Background(), req, zone.Addr())
			if err != nil {
				t.Errorf("relay: %v", err)
				return
			}
			reply(t, w, r)
			return
		}
		m := new(mdns.Msg).SetReply(req)
		m.Answer = append(m.Answer, mustRR(t, "tok._domainkey.example.com. 60 IN CNAME tok."+testZone+"."))
		reply(t, w, m)
	})
	got, err := newTestClient(t, addr, time.Second).LookupTXT(testContext(t), "tok._domainkey.example.com")
	if err != nil || len(got) != 1 || got[0] != "v=DKIM1; p=AAAA" {
		t.Errorf("LookupTXT = %q, %v", got, err)
	}
}
