package sigv4

import (
	"bufio"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Vectors from AWS's published SigV4 test suite (aws-sig-v4-test-suite,
// 2015-08-30): raw requests as a server reads them off the wire, checked with
// nothing from the SDK involved.
func TestAWSTestSuite(t *testing.T) {
	const (
		suiteKey    = "AKIDEXAMPLE"
		suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
		cred        = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	)
	v := &Verifier{
		Region:   "us-east-1",
		Services: []string{"service"},
		Lookup:   keys(map[string]string{suiteKey: suiteSecret}),
		Now:      func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) },
	}
	cases := map[string]string{
		"get-vanilla": "GET / HTTP/1.1\r\nHost:example.amazonaws.com\r\nX-Amz-Date:20150830T123600Z\r\n" +
			"Authorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=host;x-amz-date, " +
			"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\r\n\r\n",
		"get-vanilla-query-order-key-case": "GET /?Param2=value2&Param1=value1 HTTP/1.1\r\nHost:example.amazonaws.com\r\nX-Amz-Date:20150830T123600Z\r\n" +
			"Authorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=host;x-amz-date, " +
			"Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500\r\n\r\n",
		"post-x-www-form-urlencoded": "POST / HTTP/1.1\r\nContent-Type:application/x-www-form-urlencoded\r\nHost:example.amazonaws.com\r\n" +
			"X-Amz-Date:20150830T123600Z\r\nContent-Length: 13\r\n" +
			"Authorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=content-type;host;x-amz-date, " +
			"Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a\r\n\r\nParam1=value1",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), r, body)
			if err != nil {
				t.Fatal(err)
			}
			if res.AccessKeyID != suiteKey || res.Service != "service" {
				t.Fatalf("Result = %+v", res)
			}
		})
	}
}

// TestDateHeader: a request dated by Date instead of X-Amz-Date. The SDK
// always sends X-Amz-Date, so this one is signed by hand from a literal
// canonical request. The string to sign carries the ISO-8601 basic form
// whatever format the Date header used.
func TestDateHeader(t *testing.T) {
	for _, date := range []string{"Mon, 01 Jan 2024 00:00:00 GMT", "20240101T000000Z"} {
		t.Run(date, func(t *testing.T) {
			canon := "GET\n/v2/email/account\n\n" +
				"date:" + date + "\nhost:" + testHost + "\n\n" +
				"date;host\n" + hexSHA256(nil)
			sts := "AWS4-HMAC-SHA256\n20240101T000000Z\n20240101/us-east-1/ses/aws4_request\n" + hexSHA256([]byte(canon))
			key := deriveKey(testSecret, "20240101", testRegion, "ses")
			sig := hmacSHA256(key[:], sts)

			r := newRequest(t, http.MethodGet, "https://"+testHost+"/v2/email/account", nil)
			r.Header.Set("Date", date)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/20240101/us-east-1/ses/aws4_request, "+
				"SignedHeaders=date;host, Signature="+hex.EncodeToString(sig[:]))
			if got := ourCanonical(t, r, nil, false); got != canon {
				t.Fatalf("canonical request\n%s\nwant\n%s", got, canon)
			}
			res, err := newVerifier(signTime.Add(time.Minute)).Verify(context.Background(), r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Time.Equal(signTime) {
				t.Fatalf("Time = %v, want %v", res.Time, signTime)
			}
			wantErr(t, verifyErr(t, newVerifier(signTime.Add(10*time.Minute)), r, nil), SignatureExpired,
				"Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)")
		})
	}

	r := newRequest(t, http.MethodGet, "https://"+testHost+"/", nil)
	r.Header.Set("Date", "yesterday")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00")
	wantErr(t, verifyErr(t, newVerifier(signTime), r, nil), IncompleteSignature,
		"Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601")
}

// TestDeriveKey checks key derivation against the worked example in AWS's
// SigV4 documentation ("Examples of how to derive a signing key").
func TestDeriveKey(t *testing.T) {
	k := deriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
	const want = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
	if got := hex.EncodeToString(k[:]); got != want {
		t.Fatalf("signing key %s, want %s", got, want)
	}
}
