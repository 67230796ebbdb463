// The tests generate RSA keys under 1024 bits to check that Sesame refuses
// them; Go refuses to generate them unless told.
//
//go:debug rsa1024min=0

package mail

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// testRSAKey is generated once per test binary: 2048-bit generation is slow
// under the race detector.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := GenerateRSAKey(2048)
	if err != nil {
		panic(err)
	}
	return k
})

var signTime = time.Unix(1714564800, 0)

// lookupFor returns a LookupTXT for go-msgauth's verifier that serves the
// public keys of signers, split into TXT strings and joined back as a
// resolver does, and fails closed for anything else.
func lookupFor(t *testing.T, signers ...Signer) func(string) ([]string, error) {
	records := map[string]string{}
	for _, s := range signers {
		rec, err := PublicKeyRecord(s.Key.Public())
		if err != nil {
			t.Fatal(err)
		}
		records[s.Selector+"._domainkey."+s.Domain] = strings.Join(SplitTXT(rec), "")
	}
	return func(name string) ([]string, error) {
		if rec, ok := records[name]; ok {
			return []string{rec}, nil
		}
		return nil, fmt.Errorf("no TXT record for %s", name)
	}
}

func verify(t *testing.T, msg []byte, signers ...Signer) []*dkim.Verification {
	t.Helper()
	v, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: lookupFor(t, signers...)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testMessage(t *testing.T) []byte {
	t.Helper()
	s := baseSimple()
	s.Cc = []string{"cc@example.com"}
	s.Text = Content{Data: "Hello   with  spaces \t\nand trailing lines\n\n\n"}
	s.HTML = Content{Data: "<p>Grüße</p>"}
	s.Headers = []Header{{Name: "List-Unsubscribe", Value: "<mailto:u@example.com>"}}
	msg := mustBuild(t, s)
	p := mustPrepare(t, msg)
	return p.Data
}

func TestSignTwoSignersVerify(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signers := []Signer{
		{Domain: "example.com", Selector: "tok1", Key: testRSAKey()},
		{Domain: "sesame.example.net", Selector: "ses", Key: edKey},
	}
	msg := testMessage(t)
	signed, err := Sign(msg, signers, signTime)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(signed, msg) {
		t.Fatal("Sign changed the message instead of prepending")
	}
	checkWireForm(t, signed)

	v := verify(t, signed, signers...)
	if len(v) != 2 {
		t.Fatalf("%d verifications, want 2", len(v))
	}
	for i, want := range []string{"example.com", "sesame.example.net"} {
		if v[i].Err != nil || v[i].Domain != want {
			t.Errorf("signature %d: domain %q, err %v", i, v[i].Domain, v[i].Err)
		}
		if !v[i].Time.Equal(signTime) {
			t.Errorf("signature %d: t= %v, want %v", i, v[i].Time, signTime)
		}
	}
	// Only headers present are listed, each per occurrence, plus one extra From.
	wantKeys := []string{"From", "Subject", "Date", "Message-ID", "To", "Cc", "MIME-Version", "Content-Type", "List-Unsubscribe", "From"}
	if got := strings.Join(v[0].HeaderKeys, ":"); got != strings.Join(wantKeys, ":") {
		t.Errorf("h= %s\nwant %s", got, strings.Join(wantKeys, ":"))
	}
	h, err := ParseHeader(signed)
	if err != nil {
		t.Fatal(err)
	}
	if h[0].Name != "DKIM-Signature" || h[1].Name != "DKIM-Signature" {
		t.Fatalf("signatures not prepended: %q", h[:2])
	}
	hdr := h[0].Value + " | " + h[1].Value
	for _, tag := range []string{"a=rsa-sha256", "a=ed25519-sha256", "c=relaxed/relaxed", "t=1714564800", "s=tok1", "d=example.com"} {
		if !strings.Contains(hdr, tag) {
			t.Errorf("signature headers lack %s:\n%s", tag, hdr)
		}
	}
}

func TestSignDetectsTampering(t *testing.T) {
	signer := Signer{Domain: "example.com", Selector: "s1", Key: testRSAKey()}
	msg := testMessage(t)
	signed, err := Sign(msg, []Signer{signer}, signTime)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]func([]byte) []byte{
		"body": func(m []byte) []byte { return bytes.Replace(m, []byte("Hello"), []byte("Jello"), 1) },
		"subject": func(m []byte) []byte {
			return bytes.Replace(m, []byte("Subject: Hello"), []byte("Subject: Hallo"), 1)
		},
		"second from": func(m []byte) []byte {
			return bytes.Replace(m, []byte("\r\nTo:"), []byte("\r\nFrom: evil@example.org\r\nTo:"), 1)
		},
	}
	for name, tamper := range tests {
		t.Run(name, func(t *testing.T) {
			v := verify(t, tamper(signed), signer)
			if len(v) != 1 || v[0].Err == nil {
				t.Errorf("tampered message verified: %+v", v[0])
			}
		})
	}
	// Relaxed canonicalization tolerates whitespace changes in transit.
	relaxed := bytes.Replace(signed, []byte("Subject: Hello"), []byte("Subject:   Hello  "), 1)
	if v := verify(t, relaxed, signer); v[0].Err != nil {
		t.Errorf("whitespace change broke the signature: %v", v[0].Err)
	}
}

// TestSignBodyHashMatchesGoMsgauth compares the body hash with go-msgauth's
// own signer over bodies with edge cases of the relaxed algorithm.
func TestSignBodyHashMatchesGoMsgauth(t *testing.T) {
	for _, body := range []string{"", "\r\n", "\r\n\r\n", "a", "a\r\n\r\n", " \t a \t b \t\r\n \r\n\tc", "x\r\n \r\n\t\r\n"} {
		msg := []byte("From: a@example.com\r\n\r\n" + body)
		ours, err := Sign(msg, []Signer{{Domain: "example.com", Selector: "s", Key: testRSAKey()}}, signTime)
		if err != nil {
			t.Fatal(err)
		}
		var theirs bytes.Buffer
		err = dkim.Sign(&theirs, bytes.NewReader(msg), &dkim.SignOptions{
			Domain: "example.com", Selector: "s", Signer: testRSAKey(),
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := tagValue(t, ours, "bh"), tagValue(t, theirs.Bytes(), "bh"); a != b {
			t.Errorf("body %q: bh=%s, go-msgauth bh=%s", body, a, b)
		}
		if v := verify(t, ours, Signer{Domain: "example.com", Selector: "s", Key: testRSAKey()}); v[0].Err != nil {
			t.Errorf("body %q: %v", body, v[0].Err)
		}
	}
}

func tagValue(t *testing.T, msg []byte, tag string) string {
	t.Helper()
	h, err := ParseHeader(msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(h[0].Value, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if strings.TrimSpace(k) == tag {
			return strings.Join(strings.Fields(v), "")
		}
	}
	t.Fatalf("no %s= tag", tag)
	return ""
}

func TestSignErrors(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 512)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("From: a@example.com\r\n\r\nx")
	for name, s := range map[string]Signer{
		"no key":       {Domain: "example.com", Selector: "s"},
		"small key":    {Domain: "example.com", Selector: "s", Key: small},
		"bad selector": {Domain: "example.com", Selector: "s;x", Key: testRSAKey()},
		"no domain":    {Selector: "s", Key: testRSAKey()},
	} {
		if _, err := Sign(msg, []Signer{s}, signTime); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Sign(msg, []Signer{{Domain: "example.com", Selector: "s", Key: testRSAKey()}}, time.Time{}); err == nil {
		t.Error("zero time: no error")
	}
	if out, err := Sign(msg, nil, signTime); err != nil || !bytes.Equal(out, msg) {
		t.Errorf("no signers: %q, %v", out, err)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	rsaKey := testRSAKey()
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaKey)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	stored, err := MarshalPrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	storedEd, err := MarshalPrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := base64.StdEncoding.EncodeToString(pkcs1)
	wrapped = wrapped[:64] + "\n" + wrapped[64:] + "\n"
	for name, in := range map[string][]byte{
		"stored PKCS#8 PEM":   stored,
		"PKCS#1 PEM":          pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1}),
		"bare base64 PKCS#1":  []byte(base64.StdEncoding.EncodeToString(pkcs1)),
		"bare base64 PKCS#8":  []byte(base64.StdEncoding.EncodeToString(pkcs8)),
		"wrapped base64":      []byte(wrapped),
		"unpadded base64":     []byte(base64.RawStdEncoding.EncodeToString(pkcs1)),
		"stored Ed25519 PEM":  storedEd,
		"PEM with whitespace": append([]byte("\n  "), stored...),
	} {
		k, err := ParsePrivateKey(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var want crypto.PublicKey = rsaKey.Public()
		if strings.Contains(name, "Ed25519") {
			want = edKey.Public()
		}
		if !k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(want) {
			t.Errorf("%s: different key", name)
		}
	}
}

func TestParseKeyErrors(t *testing.T) {
	big, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	small, _ := rsa.GenerateKey(rand.Reader, 512)
	bigB64 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(big))

	if _, err := ParsePrivateKey([]byte(bigB64)); err != nil {
		t.Errorf("3072-bit key for signing: %v", err)
	}
	if _, err := ParseBYODKIMKey(bigB64); !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "3072 bits") {
		t.Errorf("BYODKIM 3072-bit key: %v", err)
	}
	if k, err := ParseBYODKIMKey(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(testRSAKey()))); err != nil || k.N.BitLen() != 2048 {
		t.Errorf("BYODKIM 2048-bit key: %v", err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	for name, in := range map[string]string{
		"not base64":   "not a key!",
		"empty":        "",
		"garbage DER":  base64.StdEncoding.EncodeToString([]byte("garbage")),
		"small key":    base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(small)),
		"wrong PEM":    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})),
		"BYODKIM ed25": base64.StdEncoding.EncodeToString(edDER),
	} {
		if _, err := ParseBYODKIMKey(in); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: error %v, want ErrInvalidKey", name, err)
		}
	}
	for _, bits := range []int{512, 8192} {
		if _, err := GenerateRSAKey(bits); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("GenerateRSAKey(%d): %v", bits, err)
		}
	}
}

func TestPublicKeyRecordAndSplit(t *testing.T) {
	rec, err := PublicKeyRecord(testRSAKey().Public())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := strings.CutPrefix(rec, "v=DKIM1; k=rsa; p=")
	if !ok {
		t.Fatalf("record %q", rec)
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil || !pub.(*rsa.PublicKey).Equal(testRSAKey().Public()) {
		t.Errorf("p= is not the SubjectPublicKeyInfo: %v", err)
	}
	chunks := SplitTXT(rec)
	if len(chunks) != 2 || strings.Join(chunks, "") != rec {
		t.Errorf("SplitTXT gave %d chunks", len(chunks))
	}
	for _, c := range chunks {
		if len(c) > 255 {
			t.Errorf("chunk of %d octets", len(c))
		}
	}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	if rec, err := PublicKeyRecord(edPub); err != nil || rec != "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(edPub) {
		t.Errorf("Ed25519 record %q, %v", rec, err)
	}
	if _, err := PublicKeyRecord("not a key"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("bad key type: %v", err)
	}
	if got := SplitTXT(""); len(got) != 1 || got[0] != "" {
		t.Errorf("SplitTXT empty = %q", got)
	}
}
