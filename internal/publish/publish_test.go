package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/metrics"
	"github.com/sesamehq/sesame/internal/publish"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/store"
)

const (
	acct      = "123456789012"
	setName   = "tracked"
	eventsARN = "arn:aws:sns:us-east-1:123456789012:events"
	bounceARN = "arn:aws:sns:us-east-1:123456789012:bounces"
	goneARN   = "arn:aws:sns:us-east-1:123456789012:gone"
)

type fakeQueue map[string]*queue.Stored

// LoadBrief leaves out what queue.Queue's leaves out, so a test sees an
// event body built from it.
func (q fakeQueue) LoadBrief(_ context.Context, id string) (*queue.Stored, error) {
	m, ok := q[id]
	if !ok {
		return nil, queue.ErrNoMessage
	}
	brief := *m
	brief.Tags, brief.Headers, brief.Recipients, brief.Data = nil, nil, nil, nil
	return &brief, nil
}

func (q fakeQueue) LoadMeta(_ context.Context, id string) (*queue.Stored, error) {
	if m, ok := q[id]; ok {
		return m, nil
	}
	return nil, queue.ErrNoMessage
}

type fakeSets map[string][]configset.EventDestination

func (f fakeSets) EventDestinations(_ context.Context, _, set string) ([]configset.EventDestination, error) {
	d, ok := f[set]
	if !ok {
		return nil, fault.New(fault.ConfigSetNotFound, "no set")
	}
	return d, nil
}

type fakeIDs struct{ n identity.Notifications }

func (f fakeIDs) Covering(_ context.Context, _, addr string) (*identity.Identity, error) {
	if strings.HasSuffix(addr, "@example.com") {
		return &identity.Identity{Name: "example.com", Kind: identity.Domain, Status: identity.Success}, nil
	}
	return nil, nil
}

func (f fakeIDs) Notifications(context.Context, string, string) (identity.Notifications, error) {
	return f.n, nil
}

// published is one publication as the fake topics service saw it.
type published struct{ Topic, Subject, Message string }

// fakeTopics records each publication inside the store write, in a row of
// publish_cursor named "pub:<n>", so a rolled-back batch leaves no trace;
// fail decides a publication's error.
type fakeTopics struct {
	mu   sync.Mutex
	n    int
	pubs map[string]published
	fail func(topic string) error
}

func (f *fakeTopics) PublishTx(tx *store.Tx, account, topic, subject, message string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(topic); err != nil {
			return "", err
		}
	}
	f.n++
	name := fmt.Sprintf("pub:%d", f.n)
	if _, err := tx.Exec("INSERT INTO publish_cursor(name, last_id) VALUES (?, 0)", name); err != nil {
		return "", err
	}
	f.pubs[name] = published{topic, subject, message}
	return name, nil
}

// committed returns the publications whose write committed, in order.
func (f *fakeTopics) committed(t *testing.T, db *store.DB) []published {
	t.Helper()
	rows, err := db.Read().Query("SELECT name FROM publish_cursor WHERE name LIKE 'pub:%' ORDER BY CAST(substr(name, 5) AS INTEGER)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []published
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, f.pubs[n])
	}
	return out
}

type env struct {
	db      *store.DB
	q       fakeQueue
	sets    fakeSets
	ids     *fakeIDs
	topics  *fakeTopics
	metrics *metrics.Registry
}

func newEnv(t *testing.T) *env {
	db, err := store.Open(filepath.Join(t.TempDir(), "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{db: db, q: fakeQueue{}, sets: fakeSets{}, ids: &fakeIDs{}, topics: &fakeTopics{pubs: map[string]published{}}, metrics: metrics.New()}
	e.q["m1"] = &queue.Stored{Message: queue.Message{ID: "m1", AccountID: acct, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Operation: "SendEmail", Source: "Shop <shop@example.com>", From: "shop@example.com", ConfigSet: setName,
		Tags:       map[string][]string{"campaign": {"spring"}},
		Headers:    []queue.Header{{Name: "Subject", Value: "Sale"}, {Name: "X-Team", Value: "growth"}},
		Recipients: []string{"a@example.net", "b@example.net"}}}
	e.q["sys"] = &queue.Stored{Message: queue.Message{ID: "sys", AccountID: acct, Source: "no-reply@sesame.test", ConfigSet: setName, System: true,
		Recipients: []string{"x@example.com"}}}
	return e
}

func (e *env) dispatcher(t *testing.T) *publish.Dispatcher {
	d, err := publish.New(publish.Config{Region: "us-east-1", Batch: 3}, publish.Deps{DB: e.db, Queue: e.q, ConfigSets: e.sets,
		Identities: e.ids, Topics: e.topics, Metrics: e.metrics})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) addEvent(t *testing.T, msg, typ, detail string) {
	t.Helper()
	err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec("INSERT INTO events(account_id, message_id, type, at, payload) VALUES (?, ?, ?, ?, ?)", acct, msg, typ, time.Now().UnixMilli(), detail)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// drain steps until the table is consumed (bounded).
func drain(t *testing.T, d *publish.Dispatcher) int {
	t.Helper()
	total := 0
	for range 100 {
		n, err := d.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("dispatcher never caught up")
	return 0
}

func decode(t *testing.T, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return m
}

// Events go to the enabled SNS destinations whose types match, as SES event
// JSON, and Bounce also to the identity's topic as a notification; other
// destinations are counted; each event is handed on once, also by a new
// dispatcher on the same store.
func TestDispatchRoutesEachEventOnce(t *testing.T) {
	e := newEnv(t)
	e.sets[setName] = []configset.EventDestination{
		{Name: "a-sns", Enabled: true, Types: []configset.EventType{configset.EventSend, configset.EventBounce, configset.EventRenderingFailure},
			SNS: &configset.SNS{TopicARN: eventsARN}},
		{Name: "b-off", Enabled: false, Types: []configset.EventType{configset.EventSend, configset.EventDelivery}, SNS: &configset.SNS{TopicARN: eventsARN}},
		{Name: "c-cw", Enabled: true, Types: []configset.EventType{configset.EventSend, configset.EventBounce}, CloudWatch: &configset.CloudWatch{Dimensions: []configset.Dimension{
			{Name: "campaign", Source: configset.SourceMessageTag, Default: "none"},
			{Name: "X-Team", Source: configset.SourceEmailHeader, Default: "nobody"},
			{Name: "ses:from-domain", Source: configset.SourceMessageTag, Default: "?"},
			{Name: "region", Source: configset.SourceMessageTag, Default: "eu"},
		}}},
		{Name: "d-firehose", Enabled: true, Types: []configset.EventType{configset.EventSend}, Firehose: &configset.Firehose{DeliveryStreamARN: "x"}},
	}
	e.ids.n = identity.Notifications{BounceTopic: bounceARN}
	e.addEvent(t, "m1", "Send", "{}")
	e.addEvent(t, "sys", "Send", "{}")  // Sesame's own mail: never published
	e.addEvent(t, "gone", "Send", "{}") // an unknown message: passed over
	e.addEvent(t, "m1", "Delivery", `{"recipients":["a@example.net"]}`)
	e.addEvent(t, "m1", "Bounce", `{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"b@example.net"}]}`)
	e.addEvent(t, "m1", queue.RenderingFailureEvent, `{"templateName":"t","errorMessage":"e"}`)

	if n := drain(t, e.dispatcher(t)); n != 6 {
		t.Fatalf("consumed %d events, want 6", n)
	}
	got := e.topics.committed(t, e.db)
	var kinds []string
	for _, p := range got {
		m := decode(t, p.Message)
		switch p.Topic {
		case eventsARN:
			var typ string
			json.Unmarshal(m["eventType"], &typ)
			kinds = append(kinds, "event:"+typ)
			if p.Subject != publish.Subject {
				t.Errorf("subject %q", p.Subject)
			}
			var mailObj struct {
				MessageID string              `json:"messageId"`
				SourceArn string              `json:"sourceArn"`
				Tags      map[string][]string `json:"tags"`
			}
			json.Unmarshal(m["mail"], &mailObj)
			if mailObj.MessageID != "m1" || mailObj.SourceArn != "arn:aws:ses:us-east-1:"+acct+":identity/example.com" ||
				mailObj.Tags["campaign"][0] != "spring" || mailObj.Tags["ses:configuration-set"][0] != setName {
				t.Errorf("mail object: %s", m["mail"])
			}
		case bounceARN:
			var typ string
			json.Unmarshal(m["notificationType"], &typ)
			kinds = append(kinds, "notification:"+typ)
			if p.Subject != "" || strings.Contains(string(m["mail"]), `"headers"`) {
				t.Errorf("notification without headers asked: subject %q, mail %s", p.Subject, m["mail"])
			}
		default:
			t.Errorf("published to %s", p.Topic)
		}
	}
	if want := "event:Send event:Bounce notification:Bounce event:Rendering Failure"; strings.Join(kinds, " ") != want {
		t.Errorf("publications %q, want %q", strings.Join(kinds, " "), want)
	}

	cw := e.metrics.Counter(publish.MetricCloudWatch, "")
	labels := map[string]string{"event_type": "Send", "configuration_set": setName, "campaign": "spring", "X_Team": "growth",
		"ses_from_domain": "example.com", "region": "eu"}
	if v := cw.Value(labels); v != 1 {
		t.Errorf("CloudWatch Send counter %v, want 1", v)
	}
	labels["event_type"] = "Bounce"
	if v := cw.Value(labels); v != 1 {
		t.Errorf("CloudWatch Bounce counter %v, want 1", v)
	}
	if v := e.metrics.Counter(publish.MetricSkipped, "").Value(map[string]string{"kind": "KINESIS_FIREHOSE"}); v != 1 {
		t.Errorf("skipped Firehose counter %v, want 1", v)
	}
	if v := e.metrics.Counter(publish.MetricEvents, "").Value(map[string]string{"event_type": "Send"}); v != 3 {
		t.Errorf("events counter for Send %v, want 3", v)
	}

	// Nothing again; a new dispatcher resumes at the cursor.
	if n := drain(t, e.dispatcher(t)); n != 0 {
		t.Errorf("a second pass consumed %d events", n)
	}
	e.addEvent(t, "m1", "Complaint", `{"complainedRecipients":[{"emailAddress":"a@example.net"}]}`)
	if n := drain(t, e.dispatcher(t)); n != 1 {
		t.Errorf("consumed %d events after one more, want 1", n)
	}
	if n := len(e.topics.committed(t, e.db)); n != len(got) {
		t.Errorf("%d publications after a Complaint no destination wants, had %d", n, len(got))
	}
}

// A failed write publishes nothing and keeps the cursor, so the batch is
// made again in full; a publication to a topic that is gone is dropped and
// counted, and the cursor moves on.
func TestDispatchFailureAndDroppedTopic(t *testing.T) {
	e := newEnv(t)
	e.sets[setName] = []configset.EventDestination{
		{Name: "a", Enabled: true, Types: []configset.EventType{configset.EventSend}, SNS: &configset.SNS{TopicARN: goneARN}},
		{Name: "b", Enabled: true, Types: []configset.EventType{configset.EventSend, configset.EventDelivery}, SNS: &configset.SNS{TopicARN: eventsARN}},
	}
	e.addEvent(t, "m1", "Send", "{}")
	e.addEvent(t, "m1", "Delivery", "{}")
	calls := 0
	e.topics.fail = func(topic string) error {
		calls++
		switch {
		case topic == goneARN:
			return fault.Named(fault.NotFound, topic, "Topic does not exist")
		case calls == 2: // the second publication of the first attempt
			return errors.New("disk full")
		}
		return nil
	}
	d := e.dispatcher(t)
	if _, err := d.Step(context.Background()); err == nil {
		t.Fatal("Step succeeded through a store failure")
	}
	if got := e.topics.committed(t, e.db); len(got) != 0 {
		t.Fatalf("a failed batch left %d publications", len(got))
	}
	if n := drain(t, d); n != 2 {
		t.Fatalf("the retry consumed %d events, want 2", n)
	}
	got := e.topics.committed(t, e.db)
	if len(got) != 2 || got[0].Topic != eventsARN || got[1].Topic != eventsARN {
		t.Fatalf("publications after the retry: %+v", got)
	}
	if v := e.metrics.Counter(publish.MetricFailed, "").Value(map[string]string{"target": "event_destination"}); v != 1 {
		t.Errorf("dropped counter %v, want 1", v)
	}
}

// Run keeps up with events written while it runs and stops with its context.
func TestRunFollowsTheTable(t *testing.T) {
	e := newEnv(t)
	e.sets[setName] = []configset.EventDestination{{Name: "a", Enabled: true, Types: []configset.EventType{configset.EventSend}, SNS: &configset.SNS{TopicARN: eventsARN}}}
	d, err := publish.New(publish.Config{Region: "us-east-1", Interval: 5 * time.Millisecond, Batch: 2}, publish.Deps{DB: e.db, Queue: e.q,
		ConfigSets: e.sets, Identities: e.ids, Topics: e.topics})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	for range 5 {
		e.addEvent(t, "m1", "Send", "{}")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.topics.committed(t, e.db)) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 5 events published", len(e.topics.committed(t, e.db)))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if n := len(e.topics.committed(t, e.db)); n != 5 {
		t.Errorf("%d publications, want 5", n)
	}
}

func TestNewChecksDeps(t *testing.T) {
	if _, err := publish.New(publish.Config{}, publish.Deps{}); err == nil {
		t.Error("New without a region succeeded")
	}
	if _, err := publish.New(publish.Config{Region: "us-east-1"}, publish.Deps{}); err == nil {
		t.Error("New without dependencies succeeded")
	}
}

func TestDestinationType(t *testing.T) {
	for typ, want := range map[string]configset.EventType{"Send": configset.EventSend, "Rendering Failure": configset.EventRenderingFailure,
		"DeliveryDelay": configset.EventDeliveryDelay, "Subscription": configset.EventSubscription, "Nope": ""} {
		if got := publish.DestinationType(typ); got != want {
			t.Errorf("DestinationType(%q) = %q, want %q", typ, got, want)
		}
	}
}
