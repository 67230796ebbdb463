package account

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// window is SES's sliding quota window.
const window = 24 * time.Hour

// meter counts one account's sending. Charges happen inside the store's
// writer (Charge is called from a write function), which serialises them, so
// the check and the count are one atomic step: no burst of concurrent sends
// can slip past the limits. The mutex only guards readers (Quota).
type meter struct {
	max24h  int64
	rate    float64
	tokens  float64   // rate bucket: recipients that may go now (may be negative: debt)
	last    time.Time // last refill
	minutes map[int64]int64
	total   int64 // sum of minutes within the window
	swept   int64 // the minute of the last expiry sweep
}

// ErrChanged is returned by Charge when the account changed, since the
// caller read it, in a way that would change the send's checks (paused or
// resumed, into or out of the sandbox): read it again and start over.
var ErrChanged = errors.New("account: the account changed while the message was checked")

// limits is what Charge needs of an account's row.
type limits struct {
	sandbox, enabled bool
	max24h           int64
	rate             float64
}

// limitsKey memoises an account's limits in the writer (store.Memo).
type limitsKey string

// Charge accounts for a message about to be accepted from acct, within the
// write that enqueues it: rcpts recipients count against the per-second
// rate, quotaRcpts of them (those not to the mailbox simulator) against the
// 24-hour quota. It returns RateExceeded or DailyQuotaExceeded and changes
// nothing when a limit would be passed, and ErrChanged when acct (as
// ForSend or Get returned it) no longer matches the store in sandbox or
// sending state. Call it last in the write function, after everything that
// can fail.
//
// The rate is a token bucket of MaxSendRate recipients refilled at
// MaxSendRate per second. A message with more recipients than the bucket holds
// goes out when the bucket is full and leaves it in debt, so the long-run rate
// is MaxSendRate recipients per second, counted per recipient as in SES.
func (s *Service) Charge(tx *store.Tx, acct *Account, rcpts, quotaRcpts int, now time.Time) error {
	accountID := acct.ID
	// The limits come from the transaction (memoised until something may
	// have changed them), so an operator's change — from this process or
	// `sesame admin` in another — applies to the next message.
	l, err := store.Memo(tx, limitsKey(accountID), func(tx *store.Tx) (limits, error) {
		var l limits
		err := tx.QueryRow("SELECT sandbox, sending_enabled, max_24h, max_rate FROM accounts WHERE id = ?", accountID).
			Scan(&l.sandbox, &l.enabled, &l.max24h, &l.rate)
		return l, err
	})
	if err != nil {
		return err
	}
	if l.sandbox != acct.Sandbox || l.enabled != acct.SendingEnabled {
		return ErrChanged
	}
	max24h, rate := l.max24h, l.rate
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meters[accountID]
	if m == nil {
		fresh, err := s.loadMeter(tx, accountID, now, rate)
		if err != nil {
			return err
		}
		m = fresh
		s.meters[accountID] = m
	}
	if m.rate != rate {
		m.rate, m.tokens = rate, min(m.tokens, rate)
	}
	m.max24h = max24h
	m.expire(now)
	m.refill(now)
	need := float64(rcpts)
	if need > m.rate {
		need = m.rate
	}
	if m.tokens+1e-9 < need {
		return fault.New(fault.RateExceeded, "Maximum sending rate exceeded.")
	}
	if m.total+int64(quotaRcpts) > m.max24h {
		return fault.New(fault.DailyQuotaExceeded, "Daily message quota exceeded.")
	}
	if quotaRcpts > 0 {
		minute := now.Unix() / 60
		if _, err := tx.Exec(`INSERT INTO send_counts(account_id, minute, n) VALUES (?, ?, ?)
			ON CONFLICT(account_id, minute) DO UPDATE SET n = n + excluded.n`, accountID, minute, quotaRcpts); err != nil {
			return err
		}
		m.minutes[minute] += int64(quotaRcpts)
		m.total += int64(quotaRcpts)
	}
	m.tokens -= float64(rcpts)
	return nil
}

// loadMeter reads the account's last 24 hours of counts.
func (s *Service) loadMeter(tx *store.Tx, accountID string, now time.Time, rate float64) (*meter, error) {
	m := &meter{minutes: map[int64]int64{}, last: now, rate: rate, tokens: rate}
	rows, err := tx.Query("SELECT minute, n FROM send_counts WHERE account_id = ? AND minute > ?", accountID, now.Add(-window).Unix()/60)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var minute, n int64
		if err := rows.Scan(&minute, &n); err != nil {
			return nil, err
		}
		m.minutes[minute] += n
		m.total += n
	}
	return m, rows.Err()
}

func (m *meter) refill(now time.Time) {
	if dt := now.Sub(m.last).Seconds(); dt > 0 {
		m.tokens = math.Min(m.rate, m.tokens+dt*m.rate)
		m.last = now
	}
}

func (m *meter) expire(now time.Time) {
	oldest := now.Add(-window).Unix() / 60
	if oldest == m.swept {
		return
	}
	m.swept = oldest
	for minute, n := range m.minutes {
		if minute <= oldest {
			m.total -= n
			delete(m.minutes, minute)
		}
	}
}

// Quota is what GetSendQuota reports.
type Quota struct {
	Max24h          float64
	MaxRate         float64
	SentLast24Hours float64
}

// Quota returns the account's limits and what it sent in the last 24 hours.
func (s *Service) Quota(ctx context.Context, accountID string) (Quota, error) {
	a, err := s.Get(ctx, accountID)
	if err != nil {
		return Quota{}, err
	}
	var sent int64
	since := s.now().Add(-window).Unix() / 60
	if err := s.db.Read().QueryRowContext(ctx, "SELECT COALESCE(SUM(n), 0) FROM send_counts WHERE account_id = ? AND minute > ?", accountID, since).Scan(&sent); err != nil {
		return Quota{}, err
	}
	return Quota{Max24h: float64(a.Max24h), MaxRate: a.MaxRate, SentLast24Hours: float64(sent)}, nil
}
