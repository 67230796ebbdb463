package suppression

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/store"
)

// The functions here run inside a caller's write transaction: the queue
// checks the list in the transaction that accepts a message and adds to it in
// the one that records a bounce or complaint, so no send slips between an
// entry and its effect.

// Suppressed returns which of addrs the account's list stops: those on it
// under a reason in the account's SuppressedReasons (SES-BEHAVIOR §11). The
// map is keyed by the address as given; nil when none is stopped.
func Suppressed(tx *store.Tx, account string, addrs []string) (map[string]Reason, error) {
	reasons, err := accountReasons(tx, account)
	if err != nil || len(reasons) == 0 {
		return nil, err
	}
	var out map[string]Reason
	for _, a := range addrs {
		var r Reason
		err := tx.QueryRow("SELECT reason FROM suppressed_destinations WHERE account_id = ? AND address = ?",
			account, mail.NormalizeAddress(a)).Scan(&r)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if slices.Contains(reasons, r) {
			if out == nil {
				out = make(map[string]Reason)
			}
			out[a] = r
		}
	}
	return out, nil
}

// AutoAdd puts addr on the account's list for reason — after a hard bounce
// (Bounce) or a complaint (Complaint) — when the account's SuppressedReasons
// include it, recording the message and the feedback that caused it. An
// existing entry takes the new reason, time and ids. It reports whether the
// address was added or updated.
func AutoAdd(tx *store.Tx, account, addr string, reason Reason, messageID, feedbackID string, at time.Time) (bool, error) {
	reasons, err := accountReasons(tx, account)
	if err != nil || !slices.Contains(reasons, reason) {
		return false, err
	}
	if err := upsert(tx, account, mail.NormalizeAddress(addr), reason, messageID, feedbackID, store.Millis(at)); err != nil {
		return false, err
	}
	return true, nil
}

// accountReasons reads the account's SuppressedReasons in the transaction,
// so a change made by PutAccountSuppressionAttributes applies to the next
// message. An unknown account suppresses nothing.
func accountReasons(tx *store.Tx, account string) ([]Reason, error) {
	var s string
	err := tx.QueryRow("SELECT suppressed_reasons FROM accounts WHERE id = ?", account).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil || s == "" {
		return nil, err
	}
	var out []Reason
	for _, r := range strings.Split(s, ",") {
		out = append(out, Reason(strings.TrimSpace(r)))
	}
	return out, nil
}
