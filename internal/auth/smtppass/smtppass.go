// Package smtppass derives Amazon SES SMTP passwords from IAM secret access
// keys (SES-BEHAVIOR.md §3.3), so the SMTP listener can check a login
// against the stored secret without ever storing the password.
//
// Version 4 passwords are region-scoped: they are a SigV4 signing key for the
// fixed date "11111111", the region and service "ses", applied to the message
// "SendRawEmail". Legacy version 2 passwords are an HMAC of the secret alone.
package smtppass

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// Constants of the derivation, as AWS publishes it ("Obtaining Amazon SES
// SMTP credentials", the SigV4 conversion script).
const (
	version4 = 0x04
	version2 = 0x02
	date     = "11111111"
	service  = "ses"
	term     = "aws4_request"
	message  = "SendRawEmail"
)

// V4 returns the SES SMTP password (version 4) for secretAccessKey in region:
// Base64(0x04 || HMAC chain), 44 characters, always starting with "B".
func V4(secretAccessKey, region string) string {
	k := sign([]byte("AWS4"+secretAccessKey), date)
	k = sign(k, region)
	k = sign(k, service)
	k = sign(k, term)
	k = sign(k, message)
	return encode(version4, k)
}

// V2 returns the legacy, region-independent SES SMTP password (version 2):
// Base64(0x02 || HMAC-SHA256(secret, "SendRawEmail")), starting with "A".
// AWS no longer issues these; accept them only when configured to.
func V2(secretAccessKey string) string {
	return encode(version2, sign([]byte(secretAccessKey), message))
}

// Equal reports whether two passwords are equal, in time that depends only
// on their lengths (which are public: every password is 44 characters).
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func sign(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func encode(version byte, mac []byte) string {
	buf := make([]byte, 0, 1+len(mac))
	buf = append(buf, version)
	buf = append(buf, mac...)
	return base64.StdEncoding.EncodeToString(buf)
}
