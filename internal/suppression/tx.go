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
// map is keyed by the address as given; nil when none is stopped. An account
// whose list is empty, the common case, costs no look-up per address.
func Suppressed(tx *store.Tx, account string, addrs []string) (map[string]Reason, error) {
	st, err := listOf(tx, account)
	if err != nil || len(st.reasons) == 0 || !st.listed {
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
		if slices.Contains(st.reasons, r) {
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
	st, err := listOf(tx, account)
	if err != nil || !slices.Contains(st.reasons, reason) {
		return false, err
	}
	if err := upsert(tx, account, mail.NormalizeAddress(addr), reason, messageID, feedbackID, store.Millis(at)); err != nil {
		return false, err
	}
	return true, nil
}

// listState is what the send path needs to know of an account's list before
// looking addresses up: the reasons that apply and whether the list has any
// entry at all.
type listState struct {
	reasons []Reason
	listed  bool
}

// listKey memoises an account's listState in the writer (store.Memo); every
// write to the list or to the reasons calls Tx.Invalidate.
type listKey string

// listOf reads the account's SuppressedReasons, and whether its list has an
// entry, in the transaction, so a change made by
// PutAccountSuppressionAttributes or PutSuppressedDestination applies to the
// next message. An unknown account suppresses nothing.
func listOf(tx *store.Tx, account string) (listState, error) {
	return store.Memo(tx, listKey(account), func(tx *store.Tx) (listState, error) {
		var st listState
		var reasons string
		err := tx.QueryRow(`SELECT suppressed_reasons,
			EXISTS (SELECT 1 FROM suppressed_destinations WHERE account_id = accounts.id) FROM accounts WHERE id = ?`, account).
			Scan(&reasons, &st.listed)
		if errors.Is(err, sql.ErrNoRows) {
			return listState{}, nil
		}
		if err != nil {
			return listState{}, err
		}
		for r := range strings.SplitSeq(reasons, ",") {
			if r = strings.TrimSpace(r); r != "" {
				st.reasons = append(st.reasons, Reason(r))
			}
		}
		return st, nil
	})
}
