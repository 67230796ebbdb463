// Package tracking implements SES open and click tracking (SES-BEHAVIOR §9):
// it rewrites the HTML parts of an outgoing message so that every http and
// https link goes through Sesame's click redirect and a 1×1 transparent GIF
// reports opens, and it serves those two endpoints.
//
// Tokens are self-contained and tamper-proof: an HMAC-SHA256 over the
// message id and, for a click, the original link and its ses:tags. The
// redirect therefore needs no storage look-up and a forged or altered token
// is refused before anything is recorded.
//
// Tracking is per message, as in SES: a message sent to several recipients
// carries the same pixel and links for all of them, so an open or click
// cannot tell which recipient made it.
//
// The rewriting (Rewrite) is pure — no I/O, no clock, no package-level
// state. Handler is the thin HTTP adapter; the caller injects how an event
// is recorded.
package tracking
