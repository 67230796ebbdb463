// Package publish hands Sesame's message timeline to its consumers
// (SES-BEHAVIOR §8, §9, §5.7). A dispatcher reads the events table — every
// timeline entry, written with its state change (STYLE.md §5) — in id order
// from a durable cursor and, for each event:
//
//   - publishes SES's event-publishing JSON to the SNS topic of every enabled
//     event destination of the message's configuration set whose matching
//     types include the event's type, with SES's Subject "Amazon SES Email
//     Event Notification";
//   - counts it for every matching CloudWatch destination, labelled with the
//     destination's dimensions (Sesame's stand-in for CloudWatch metrics);
//   - for Bounce, Complaint and Delivery, publishes SES's notification JSON
//     to the topic the sending identity set for that type (v1
//     SetIdentityNotificationTopic), with headers if the identity asks.
//
// The cursor advances in the same store write as the publications it makes,
// so each event reaches the SNS outbox exactly once, across crashes too; the
// outbox then delivers at least once, with retries and every attempt
// recorded. Firehose, EventBridge and Pinpoint destinations are accepted by
// the API but have no counterpart here: their events are counted as skipped.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/metrics"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/store"
)

// Subject is the SNS Subject SES gives event-publishing notifications.
const Subject = "Amazon SES Email Event Notification"

// cursorName is the dispatcher's row in publish_cursor.
const cursorName = "events"

// Queue loads the message an event is about.
type Queue interface {
	LoadBrief(ctx context.Context, id string) (*queue.Stored, error)
	LoadMeta(ctx context.Context, id string) (*queue.Stored, error)
}

// ConfigSets lists a configuration set's event destinations.
type ConfigSets interface {
	EventDestinations(ctx context.Context, account, set string) ([]configset.EventDestination, error)
}

// Identities finds the identity a message was sent under and its
// notification settings.
type Identities interface {
	Covering(ctx context.Context, account, addr string) (*identity.Identity, error)
	Notifications(ctx context.Context, account, name string) (identity.Notifications, error)
}

// Topics publishes to SNS inside the caller's store write (sns.Service).
type Topics interface {
	PublishTx(tx *store.Tx, account, topicARN, subject, message string) (string, error)
}

// Config tunes the dispatcher; zero values take the defaults noted.
type Config struct {
	// Region names the region in identity ARNs (mail.sourceArn). Required.
	Region string
	// Interval is how often the events table is polled when idle; 0 means
	// 200 ms.
	Interval time.Duration
	// Batch bounds the events handed on in one store write; 0 means 100.
	Batch int
}

// Dispatcher publishes the timeline. Run it in one goroutine; Step is for
// tests and tools.
type Dispatcher struct {
	cfg     Config
	db      *store.DB
	queue   Queue
	sets    ConfigSets
	ids     Identities
	topics  Topics
	log     *slog.Logger
	counter counters
	skipped map[string]bool // destinations whose kind has been logged as unsupported
}

// Deps are the services the dispatcher reads and writes through.
type Deps struct {
	DB         *store.DB
	Queue      Queue
	ConfigSets ConfigSets
	Identities Identities
	Topics     Topics
	// Metrics receives the counters; nil keeps them in a private registry.
	Metrics *metrics.Registry
	Logger  *slog.Logger
}

// New returns a dispatcher.
func New(cfg Config, d Deps) (*Dispatcher, error) {
	if cfg.Region == "" {
		return nil, errors.New("publish: Config.Region is empty")
	}
	if d.DB == nil || d.Queue == nil || d.ConfigSets == nil || d.Identities == nil || d.Topics == nil {
		return nil, errors.New("publish: New needs the store, queue, configuration sets, identities and topics")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 200 * time.Millisecond
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{cfg: cfg, db: d.DB, queue: d.Queue, sets: d.ConfigSets, ids: d.Identities, topics: d.Topics,
		log: d.Logger, counter: newCounters(d.Metrics), skipped: map[string]bool{}}, nil
}

// Run dispatches until ctx is done: a full batch is followed at once by the
// next, otherwise the table is polled every Interval. A failed batch is
// retried, after a pause that grows to a minute.
func (d *Dispatcher) Run(ctx context.Context) {
	pause := d.cfg.Interval
	for {
		n, err := d.Step(ctx)
		wait := d.cfg.Interval
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Error("publishing events failed; retrying", "err", err, "in", pause)
			wait, pause = pause, min(2*pause, time.Minute)
		case err == nil:
			pause = d.cfg.Interval
			if n == d.cfg.Batch {
				wait = 0
			}
		}
		if wait == 0 {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// event is one row of the events table.
type event struct {
	ID        int64
	AccountID string
	MessageID string
	Type      string
	At        time.Time
	Detail    json.RawMessage
}

// Step hands on the next batch of events after the cursor and returns how
// many it consumed. Publications are prepared from committed state first;
// then one write checks the cursor has not moved, enqueues them and advances
// the cursor, so a crash anywhere repeats the batch or nothing.
func (d *Dispatcher) Step(ctx context.Context) (int, error) {
	var cursor int64
	if err := d.db.Read().QueryRowContext(ctx, "SELECT last_id FROM publish_cursor WHERE name = ?", cursorName).Scan(&cursor); err != nil {
		return 0, fmt.Errorf("publish: cursor: %w", err)
	}
	evs, err := d.readEvents(ctx, cursor)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	p := newPlanner(d)
	for _, ev := range evs {
		if err := p.plan(ctx, ev); err != nil {
			return 0, fmt.Errorf("publish: event %d: %w", ev.ID, err)
		}
	}
	last := evs[len(evs)-1].ID
	var dropped []increment
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		dropped = dropped[:0]
		r, err := tx.Exec("UPDATE publish_cursor SET last_id = ? WHERE name = ? AND last_id = ?", last, cursorName, cursor)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, errors.New("publish: the cursor moved under the dispatcher (two dispatchers on one store?)"))
		}
		for _, pub := range p.pubs {
			if _, err := d.topics.PublishTx(tx, pub.account, pub.topic, pub.subject, pub.message); err != nil {
				if !permanent(err) {
					return err
				}
				// A topic deleted or renamed since the destination was set:
				// SES drops the event; so does Sesame, saying so.
				d.log.Warn("event not published", "event", pub.eventID, "topic", pub.topic, "err", err)
				dropped = append(dropped, increment{failedTotal, map[string]string{"target": pub.target}})
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	p.incs = append(p.incs, dropped...)
	p.count()
	return len(evs), nil
}

func (d *Dispatcher) readEvents(ctx context.Context, after int64) ([]event, error) {
	rows, err := d.db.Read().QueryContext(ctx, "SELECT id, account_id, message_id, type, at, payload FROM events WHERE id > ? ORDER BY id LIMIT ?",
		after, d.cfg.Batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var ev event
		var at int64
		var payload string
		if err := rows.Scan(&ev.ID, &ev.AccountID, &ev.MessageID, &ev.Type, &at, &payload); err != nil {
			return nil, err
		}
		ev.At, ev.Detail = store.FromMillis(at), json.RawMessage(payload)
		out = append(out, ev)
	}
	return out, rows.Err()
}
