package queue

import (
	"context"
	"slices"
	"time"

	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/suppression"
)

// Result is what became of one recipient in one attempt.
type Result struct {
	Rcpt      string
	State     string // Delivered, Bounced, Captured, or Queued to retry at RetryAt
	RetryAt   time.Time
	Code      int
	Status    string // enhanced status code, e.g. 5.1.1
	Text      string // the remote reply, for smtpResponse / diagnosticCode
	RemoteMTA string
	RemoteIP  string
	// BounceType and BounceSubType classify a bounce as SES does.
	BounceType    string
	BounceSubType string
	DelayType     string // DeliveryDelay's delayType for a retry
	ExpiresAt     time.Time
	// Complaint, on a delivered result, is a complaint the recipient made
	// at once (the mailbox simulator's complaint address).
	Complaint *Complaint
	// Reply, on a delivered result, is a message the recipient sent back
	// (the mailbox simulator's out-of-office auto-reply), enqueued with the
	// outcome.
	Reply *Message
}

// Complaint is the feedback report of a complaint: its RFC 5965
// Feedback-Type and User-Agent.
type Complaint struct {
	FeedbackType string
	UserAgent    string
}

// Record writes the outcome of one delivery attempt for a message: each
// recipient's new state and the Delivery, Bounce or DeliveryDelay events, in
// one transaction, with what follows from them — a hard bounce's
// suppression-list entry, a complaint, a reply to enqueue. A recipient no
// longer queued (its outcome already recorded by another attempt) is left
// alone. reportingMTA is this host.
func (q *Queue) Record(ctx context.Context, m *Stored, results []Result, reportingMTA string) error {
	now := q.now().UTC()
	at := store.Millis(now)
	ts := now.Format("2006-01-02T15:04:05.000Z")
	return q.db.Write(ctx, func(tx *store.Tx) error {
		// The signature made for this attempt is kept for the retries, so
		// every attempt sends the same bytes; when nothing is left to retry
		// it is not needed (and not written: it would rewrite the
		// message's row for nothing).
		retry := slices.ContainsFunc(results, func(r Result) bool { return r.State == Queued })
		if m.DKIM != nil && retry {
			if _, err := tx.Exec("UPDATE messages SET dkim = ? WHERE id = ? AND dkim IS NULL", m.DKIM, m.ID); err != nil {
				return err
			}
		}
		var delivered, bounced, delayed []Result
		for _, r := range results {
			next := int64(0)
			attempts := "attempts + 1"
			if r.State == Queued {
				next = store.Millis(r.RetryAt)
			}
			res, err := tx.Exec(`UPDATE deliveries SET state = ?, attempts = `+attempts+`, next_at = ?, lease_until = 0,
				last_code = ?, last_status = ?, last_text = ?, remote_mta = ?, updated_at = ?
				WHERE message_id = ? AND rcpt = ? AND state = 'queued'`,
				r.State, next, r.Code, r.Status, r.Text, r.RemoteMTA, at, m.ID, r.Rcpt)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue // recorded already: no second event
			}
			switch r.State {
			case Queued:
				delayed = append(delayed, r)
			case Delivered, Captured:
				delivered = append(delivered, r)
			case Bounced:
				bounced = append(bounced, r)
			}
		}
		processing := now.Sub(m.CreatedAt).Milliseconds()
		for _, group := range groupBy(delivered, func(r Result) string { return r.Text + "\x00" + r.RemoteIP }) {
			d := deliveryEvent{Timestamp: ts, ProcessingTimeMillis: processing, SMTPResponse: group[0].Text,
				ReportingMTA: reportingMTA, RemoteMtaIP: group[0].RemoteIP}
			for _, r := range group {
				d.Recipients = append(d.Recipients, r.Rcpt)
			}
			if err := addEvent(tx, m.AccountID, m.ID, "Delivery", at, d); err != nil {
				return err
			}
		}
		if err := q.followUps(tx, m, delivered, now); err != nil {
			return err
		}
		for _, group := range groupBy(bounced, func(r Result) string { return r.BounceType + "/" + r.BounceSubType }) {
			b := bounceEvent{BounceType: group[0].BounceType, BounceSubType: group[0].BounceSubType, Timestamp: ts,
				FeedbackID: m.ID, ReportingMTA: "dns; " + reportingMTA, RemoteMtaIP: group[0].RemoteIP}
			for _, r := range group {
				b.BouncedRecipients = append(b.BouncedRecipients, bouncedRecipient{EmailAddress: r.Rcpt, Action: "failed",
					Status: r.Status, DiagnosticCode: diagnostic(r)})
			}
			if err := addEvent(tx, m.AccountID, m.ID, "Bounce", at, b); err != nil {
				return err
			}
			for _, r := range group {
				if r.BounceType == "Permanent" && !m.System {
					if err := autoSuppress(tx, m.AccountID, r.Rcpt, r.BounceSubType, suppression.Bounce, m.ID, b.FeedbackID, now); err != nil {
						return err
					}
				}
			}
		}
		if len(delayed) > 0 {
			// Wake an idle worker: the retry may be due before it would look.
			tx.AfterCommit(q.poke)
			d := delayEvent{Timestamp: ts, DelayType: delayed[0].DelayType, ExpirationTime: delayed[0].ExpiresAt.UTC().Format("2006-01-02T15:04:05.000Z"),
				ReportingMTA: reportingMTA}
			for _, r := range delayed {
				d.DelayedRecipients = append(d.DelayedRecipients, bouncedRecipient{EmailAddress: r.Rcpt, Status: r.Status, DiagnosticCode: diagnostic(r)})
			}
			if err := addEvent(tx, m.AccountID, m.ID, "DeliveryDelay", at, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// followUps writes what delivered recipients did next: complaints (one
// event per kind of report) and replies to enqueue.
func (q *Queue) followUps(tx *store.Tx, m *Stored, delivered []Result, now time.Time) error {
	var complaints []Result
	for _, r := range delivered {
		if r.Complaint != nil {
			complaints = append(complaints, r)
		}
		if r.Reply != nil {
			if err := q.Enqueue(tx, r.Reply); err != nil {
				return err
			}
		}
	}
	for _, group := range groupBy(complaints, func(r Result) string { return r.Complaint.FeedbackType + "\x00" + r.Complaint.UserAgent }) {
		rcpts := make([]string, len(group))
		for i, r := range group {
			rcpts[i] = r.Rcpt
		}
		c := group[0].Complaint
		if err := addComplaint(tx, m.AccountID, m.ID, m.System, rcpts, c.FeedbackType, c.UserAgent, now, now); err != nil {
			return err
		}
	}
	return nil
}

func diagnostic(r Result) string {
	if r.Text == "" {
		return ""
	}
	if r.Code > 0 {
		return "smtp; " + r.Text
	}
	return r.Text
}

func groupBy(rs []Result, key func(Result) string) [][]Result {
	var out [][]Result
	index := map[string]int{}
	for _, r := range rs {
		k := key(r)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

// The event details, in SES's event-publishing field names (SES-BEHAVIOR §8.3).
type deliveryEvent struct {
	Timestamp            string   `json:"timestamp"`
	ProcessingTimeMillis int64    `json:"processingTimeMillis"`
	Recipients           []string `json:"recipients"`
	SMTPResponse         string   `json:"smtpResponse"`
	ReportingMTA         string   `json:"reportingMTA"`
	RemoteMtaIP          string   `json:"remoteMtaIp,omitempty"`
}

type bounceEvent struct {
	BounceType        string             `json:"bounceType"`
	BounceSubType     string             `json:"bounceSubType"`
	BouncedRecipients []bouncedRecipient `json:"bouncedRecipients"`
	Timestamp         string             `json:"timestamp"`
	FeedbackID        string             `json:"feedbackId"`
	ReportingMTA      string             `json:"reportingMTA,omitempty"`
	RemoteMtaIP       string             `json:"remoteMtaIp,omitempty"`
}

type bouncedRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action,omitempty"`
	Status         string `json:"status,omitempty"`
	DiagnosticCode string `json:"diagnosticCode,omitempty"`
}

type delayEvent struct {
	Timestamp         string             `json:"timestamp"`
	DelayType         string             `json:"delayType"`
	ExpirationTime    string             `json:"expirationTime"`
	DelayedRecipients []bouncedRecipient `json:"delayedRecipients"`
	ReportingMTA      string             `json:"reportingMTA"`
}

// DeliveryState is one recipient's row, for operators and tests.
type DeliveryState struct {
	Rcpt      string
	State     string
	Attempts  int
	NextAt    time.Time
	Code      int
	Status    string
	Text      string
	RemoteMTA string
}

// Deliveries returns the recipients of a message and their states.
func (q *Queue) Deliveries(ctx context.Context, id string) ([]DeliveryState, error) {
	rows, err := q.db.Read().QueryContext(ctx, `SELECT rcpt, state, attempts, next_at, last_code, last_status, last_text, remote_mta
		FROM deliveries WHERE message_id = ? ORDER BY rcpt`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeliveryState
	for rows.Next() {
		var d DeliveryState
		var next int64
		if err := rows.Scan(&d.Rcpt, &d.State, &d.Attempts, &next, &d.Code, &d.Status, &d.Text, &d.RemoteMTA); err != nil {
			return nil, err
		}
		d.NextAt = store.FromMillis(next)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Event is one entry of a message's timeline.
type Event struct {
	Type    string
	At      time.Time
	Payload string // the event detail as SES JSON
}

// Events returns a message's timeline, oldest first.
func (q *Queue) Events(ctx context.Context, id string) ([]Event, error) {
	rows, err := q.db.Read().QueryContext(ctx, "SELECT type, at, payload FROM events WHERE message_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.Type, &at, &e.Payload); err != nil {
			return nil, err
		}
		e.At = store.FromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Stats is the queue's size, for `sesame admin queue` and the banner.
type Stats struct{ Queued, Delivered, Bounced, Captured int }

// Stats counts deliveries by state.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	rows, err := q.db.Read().QueryContext(ctx, "SELECT state, count(*) FROM deliveries GROUP BY state")
	if err != nil {
		return Stats{}, err
	}
	defer rows.Close()
	var s Stats
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return Stats{}, err
		}
		switch state {
		case Queued:
			s.Queued = n
		case Delivered:
			s.Delivered = n
		case Bounced:
			s.Bounced = n
		case Captured:
			s.Captured = n
		}
	}
	return s, rows.Err()
}
