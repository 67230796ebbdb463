package mail

import (
	"encoding/hex"
	"time"

	"github.com/google/uuid"
)

// maxEpochMillis is the largest time the 12 hex digits of an id can hold
// (year 10889).
const maxEpochMillis = 1<<48 - 1

// NewMessageID returns a new SES-style message id (SES-BEHAVIOR §4.3):
//
//	01 <cell: 2 hex> <epoch ms: 12 hex> - <UUIDv4> -000000
//	0100018f2a3b4c5d-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d-000000
//
// Sesame runs a single cell, 00. Ids compare as strings in time order (to the
// millisecond); the random UUID makes them unique. Times before 1970 count as
// 1970.
func NewMessageID(now time.Time) string {
	ms := now.UnixMilli()
	if ms < 0 {
		ms = 0
	} else if ms > maxEpochMillis {
		ms = maxEpochMillis
	}
	var ts [6]byte
	for i := len(ts) - 1; i >= 0; i-- {
		ts[i] = byte(ms)
		ms >>= 8
	}
	b := make([]byte, 0, 60)
	b = append(b, "0100"...)
	b = hex.AppendEncode(b, ts[:])
	b = append(b, '-')
	b = append(b, uuid.New().String()...)
	b = append(b, "-000000"...)
	return string(b)
}

// MessageIDHeader returns the Message-ID header value SES writes for a message
// id: <id@domain>. SES uses email.amazonses.com or <region>.amazonses.com;
// Sesame passes its configured host name.
func MessageIDHeader(id, domain string) string {
	return "<" + id + "@" + domain + ">"
}
