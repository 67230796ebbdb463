// Package mail holds the message-level rules of Sesame's sending path, shared
// by the SES v1 and v2 adapters, SMTP submission and delivery so that every
// entry point produces and checks messages the same way:
//
//   - message ids and the Message-ID header SES writes (SES-BEHAVIOR §4.3);
//   - address parsing with SES's error texts (RFC 5322 §3.4, §4.2);
//   - building MIME for Simple content (RFC 2045–2047, 2183, 2231, 2387);
//   - preparing a raw message: validation, Message-ID/Date rewrite, Bcc and
//     X-SES-* stripping (§4.2, §4.3);
//   - DKIM signing and key helpers (RFC 6376, RFC 8463; §5.4).
//
// Everything here is pure: no I/O, no clock, no package-level state. Callers
// pass in the time, the host name and the keys.
package mail
