package configset

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

const acct = "123456789012"

func openDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newService(t *testing.T, cfg Config) *Service {
	t.Helper()
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return New(cfg, openDB(t, filepath.Join(t.TempDir(), "sesame.db")), nil, nil)
}

func wantKind(t *testing.T, err error, k fault.Kind) *fault.Error {
	t.Helper()
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind != k {
		t.Fatalf("error = %v (%T), want fault kind %d", err, err, k)
	}
	return f
}

func TestCreateDefaultsAndErrors(t *testing.T) {
	s := newService(t, Config{MaxSets: 2})
	ctx := context.Background()
	if err := s.Create(ctx, acct, Defaults("one")); err != nil {
		t.Fatal(err)
	}
	c, err := s.Get(ctx, acct, "one")
	if err != nil {
		t.Fatal(err)
	}
	if !c.SendingEnabled || c.Delivery.TLSPolicy != TLSOptional || c.Tracking != nil || c.Suppression != nil || c.Reputation.MetricsEnabled || c.CreatedAt.IsZero() {
		t.Errorf("defaults = %+v", c)
	}
	f := wantKind(t, s.Create(ctx, acct, Defaults("one")), fault.AlreadyExists)
	if f.Message != "Configuration set <one> already exists." || f.Name != "one" {
		t.Errorf("exists = %+v", f)
	}
	for _, bad := range []string{"", "has space", "dot.ted", string(make([]byte, 65))} {
		wantKind(t, s.Create(ctx, acct, Defaults(bad)), fault.InvalidParameter)
	}
	long := "a234567890123456789012345678901234567890123456789012345678901234" // 64
	if err := s.Create(ctx, acct, Defaults(long)); err != nil {
		t.Fatalf("64-character name: %v", err)
	}
	wantKind(t, s.Create(ctx, acct, Defaults("three")), fault.LimitExceeded)
	// The limit is per account.
	if err := s.Create(ctx, "210987654321", Defaults("three")); err != nil {
		t.Fatal(err)
	}
	f = wantKind(t, func() error { _, err := s.Get(ctx, acct, "three"); return err }(), fault.ConfigSetNotFound)
	if f.Message != "Configuration set <three> does not exist." || f.Name != "three" {
		t.Errorf("not found = %+v", f)
	}
}

func TestCreateValidatesOptions(t *testing.T) {
	s := newService(t, Config{})
	ctx := context.Background()
	cases := map[string]func(*ConfigSet){
		"tls":          func(c *ConfigSet) { c.Delivery.TLSPolicy = "ALWAYS" },
		"max delivery": func(c *ConfigSet) { c.Delivery.MaxDeliverySeconds = 299 },
		"https":        func(c *ConfigSet) { c.Tracking = &Tracking{HTTPSPolicy: "SOMETIMES"} },
		"domain":       func(c *ConfigSet) { c.Tracking = &Tracking{CustomRedirectDomain: "not a domain"} },
		"reason":       func(c *ConfigSet) { c.Suppression = &Suppression{Reasons: []string{"SPAM"}} },
		"vdm":          func(c *ConfigSet) { c.VDM.EngagementMetrics = "ON" },
		"archive":      func(c *ConfigSet) { c.ArchiveARN = "archive" },
		"tag":          func(c *ConfigSet) { c.Tags = []Tag{{Key: "", Value: "v"}} },
		"dup tag":      func(c *ConfigSet) { c.Tags = []Tag{{Key: "k"}, {Key: "k"}} },
	}
	for name, mutate := range cases {
		c := Defaults("s")
		mutate(c)
		if err := s.Create(ctx, acct, c); !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("%s: error = %v, want InvalidParameter", name, err)
		}
	}
	c := Defaults("full")
	c.Delivery = Delivery{TLSPolicy: TLSRequire, SendingPoolName: "pool-1", MaxDeliverySeconds: 600}
	c.Tracking = &Tracking{CustomRedirectDomain: "Track.Example.COM."}
	c.Suppression = &Suppression{Reasons: []string{ReasonComplaint, ReasonBounce, ReasonComplaint},
		Validation: &Validation{ConditionThresholdEnabled: Enabled, ConfidenceVerdictThreshold: "HIGH"}}
	c.VDM = VDM{EngagementMetrics: Enabled, OptimizedSharedDelivery: Disabled}
	c.ArchiveARN = "arn:aws:ses:us-east-1:123456789012:mailmanager-archive/a-1"
	c.Tags = []Tag{{Key: "team", Value: "mail"}}
	if err := s.Create(ctx, acct, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, acct, "full")
	if err != nil {
		t.Fatal(err)
	}
	if got.Delivery != c.Delivery || *got.Tracking != (Tracking{CustomRedirectDomain: "track.example.com", HTTPSPolicy: HTTPSOptional}) ||
		!slices.Equal(got.Suppression.Reasons, []string{ReasonBounce, ReasonComplaint}) || *got.Suppression.Validation != *c.Suppression.Validation ||
		got.VDM != c.VDM || got.ArchiveARN != c.ArchiveARN || !slices.Equal(got.Tags, c.Tags) {
		t.Errorf("stored = %+v, tracking %+v, suppression %+v", got, got.Tracking, got.Suppression)
	}
}

// What is written survives a restart: it comes from the database, not the cache.
func TestOptionsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sesame.db")
	ctx := context.Background()
	db := openDB(t, path)
	s := New(Config{Region: "us-east-1"}, db, nil, nil)
	if err := s.Create(ctx, acct, Defaults("keep")); err != nil {
		t.Fatal(err)
	}
	steps := []error{
		s.SetSendingEnabled(ctx, acct, "keep", false),
		s.SetReputationMetrics(ctx, acct, "keep", true),
		s.PutDelivery(ctx, acct, "keep", Delivery{TLSPolicy: TLSRequire, SendingPoolName: "p", MaxDeliverySeconds: 300}),
		s.PutTracking(ctx, acct, "keep", Tracking{CustomRedirectDomain: "t.example.com", HTTPSPolicy: HTTPSRequire}),
		s.PutSuppression(ctx, acct, "keep", Suppression{}),
		s.PutVDM(ctx, acct, "keep", VDM{OptimizedSharedDelivery: Enabled}),
		s.PutArchiving(ctx, acct, "keep", "arn:aws:ses:us-east-1:123456789012:mailmanager-archive/x"),
		s.CreateEventDestination(ctx, acct, "keep", EventDestination{Name: "sns", Enabled: true, Types: []EventType{EventBounce},
			SNS: &SNS{TopicARN: "arn:aws:sns:us-east-1:" + acct + ":t"}}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	db.Close()

	s = New(Config{Region: "us-east-1"}, openDB(t, path), nil, nil)
	c, err := s.Get(ctx, acct, "keep")
	if err != nil {
		t.Fatal(err)
	}
	if c.SendingEnabled || !c.Reputation.MetricsEnabled || c.Delivery != (Delivery{TLSPolicy: TLSRequire, SendingPoolName: "p", MaxDeliverySeconds: 300}) ||
		c.Tracking == nil || *c.Tracking != (Tracking{CustomRedirectDomain: "t.example.com", HTTPSPolicy: HTTPSRequire}) ||
		c.Suppression == nil || len(c.Suppression.Reasons) != 0 || c.VDM != (VDM{OptimizedSharedDelivery: Enabled}) || c.ArchiveARN == "" {
		t.Errorf("after restart: %+v", c)
	}
	ds, err := s.EventDestinations(ctx, acct, "keep")
	if err != nil || len(ds) != 1 || ds[0].SNS == nil || !ds[0].Enabled {
		t.Errorf("destinations after restart: %+v, %v", ds, err)
	}
}

func TestTrackingLifecycle(t *testing.T) {
	s := newService(t, Config{})
	ctx := context.Background()
	if err := s.Create(ctx, acct, Defaults("t")); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.UpdateTracking(ctx, acct, "t", Tracking{CustomRedirectDomain: "a.example.com"}), fault.NotFound)
	wantKind(t, s.DeleteTracking(ctx, acct, "t"), fault.NotFound)
	wantKind(t, s.CreateTracking(ctx, acct, "nope", Tracking{}), fault.ConfigSetNotFound)
	if err := s.CreateTracking(ctx, acct, "t", Tracking{CustomRedirectDomain: "a.example.com"}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CreateTracking(ctx, acct, "t", Tracking{CustomRedirectDomain: "b.example.com"}), fault.AlreadyExists)
	if err := s.PutTracking(ctx, acct, "t", Tracking{CustomRedirectDomain: "a.example.com", HTTPSPolicy: HTTPSRequireOpenOnly}); err != nil {
		t.Fatal(err)
	}
	// v1's update has no HTTPS policy: it keeps the one v2 set.
	if err := s.UpdateTracking(ctx, acct, "t", Tracking{CustomRedirectDomain: "b.example.com"}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Get(ctx, acct, "t")
	if *c.Tracking != (Tracking{CustomRedirectDomain: "b.example.com", HTTPSPolicy: HTTPSRequireOpenOnly}) {
		t.Errorf("tracking = %+v", c.Tracking)
	}
	if err := s.PutTracking(ctx, acct, "t", Tracking{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Get(ctx, acct, "t"); c.Tracking != nil {
		t.Errorf("empty put kept %+v", c.Tracking)
	}
	wantKind(t, s.DeleteTracking(ctx, acct, "t"), fault.NotFound)
}

func TestListPages(t *testing.T) {
	s := newService(t, Config{})
	ctx := context.Background()
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		if err := s.Create(ctx, acct, Defaults(n)); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	after := ""
	for range 10 { // bounded: 5 sets, 2 a page
		page, next, err := s.List(ctx, acct, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		after = next
	}
	if !slices.Equal(all, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("listed %v", all)
	}
	if page, next, err := s.List(ctx, "210987654321", "", 10); err != nil || len(page) != 0 || next != "" {
		t.Errorf("other account: %v %q %v", page, next, err)
	}
}

func snsDest(name string, types ...EventType) EventDestination {
	return EventDestination{Name: name, Enabled: true, Types: types, SNS: &SNS{TopicARN: "arn:aws:sns:us-east-1:" + acct + ":events"}}
}

func TestEventDestinations(t *testing.T) {
	s := newService(t, Config{MaxDestinations: 2})
	ctx := context.Background()
	wantKind(t, s.CreateEventDestination(ctx, acct, "nope", snsDest("d", EventSend)), fault.ConfigSetNotFound)
	if err := s.Create(ctx, acct, Defaults("set")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEventDestination(ctx, acct, "set", snsDest("b-sns", EventDelivery, EventSend, EventSend)); err != nil {
		t.Fatal(err)
	}
	f := wantKind(t, s.CreateEventDestination(ctx, acct, "set", snsDest("b-sns", EventSend)), fault.AlreadyExists)
	if f.Name != "b-sns" {
		t.Errorf("exists names %q", f.Name)
	}
	cw := EventDestination{Name: "a-cw", Types: []EventType{EventOpen, EventClick}, CloudWatch: &CloudWatch{Dimensions: []Dimension{
		{Name: "campaign", Source: SourceMessageTag, Default: "none"}}}}
	if err := s.CreateEventDestination(ctx, acct, "set", cw); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CreateEventDestination(ctx, acct, "set", snsDest("third", EventSend)), fault.LimitExceeded)

	ds, err := s.EventDestinations(ctx, acct, "set")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Name != "a-cw" || ds[0].Enabled || ds[0].CloudWatch == nil || ds[0].CloudWatch.Dimensions[0] != cw.CloudWatch.Dimensions[0] ||
		ds[1].Name != "b-sns" || !slices.Equal(ds[1].Types, []EventType{EventSend, EventDelivery}) || ds[1].Kind() != KindSNS {
		t.Fatalf("destinations = %+v", ds)
	}
	if !ds[1].Matches(EventDelivery) || ds[1].Matches(EventBounce) {
		t.Error("Matches")
	}

	// Update replaces the whole definition, kind included.
	eb := EventDestination{Name: "b-sns", Enabled: true, Types: []EventType{EventDeliveryDelay},
		EventBridge: &EventBridge{EventBusARN: "arn:aws:events:us-east-1:" + acct + ":event-bus/default"}}
	if err := s.UpdateEventDestination(ctx, acct, "set", eb); err != nil {
		t.Fatal(err)
	}
	ds, _ = s.EventDestinations(ctx, acct, "set")
	if ds[1].SNS != nil || ds[1].EventBridge == nil || !slices.Equal(ds[1].Types, []EventType{EventDeliveryDelay}) {
		t.Errorf("after update: %+v", ds[1])
	}
	wantKind(t, s.UpdateEventDestination(ctx, acct, "set", snsDest("missing", EventSend)), fault.NotFound)
	wantKind(t, s.DeleteEventDestination(ctx, acct, "set", "missing"), fault.NotFound)
	wantKind(t, s.DeleteEventDestination(ctx, acct, "nope", "a-cw"), fault.ConfigSetNotFound)
	if err := s.DeleteEventDestination(ctx, acct, "set", "a-cw"); err != nil {
		t.Fatal(err)
	}
	// Deleting the set takes its destinations with it.
	if err := s.Delete(ctx, acct, "set"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.Delete(ctx, acct, "set"), fault.ConfigSetNotFound)
	if err := s.Create(ctx, acct, Defaults("set")); err != nil {
		t.Fatal(err)
	}
	if ds, err := s.EventDestinations(ctx, acct, "set"); err != nil || len(ds) != 0 {
		t.Errorf("recreated set has %+v, %v", ds, err)
	}
}

func TestDestinationValidation(t *testing.T) {
	s := newService(t, Config{})
	ctx := context.Background()
	if err := s.Create(ctx, acct, Defaults("set")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		d    EventDestination
		kind Kind // "" for a plain InvalidParameter
	}{
		{"bad name", snsDest("a b", EventSend), ""},
		{"no types", snsDest("d"), ""},
		{"unknown type", snsDest("d", "OPENED"), ""},
		{"no destination", EventDestination{Name: "d", Types: []EventType{EventSend}}, ""},
		{"two destinations", EventDestination{Name: "d", Types: []EventType{EventSend}, SNS: &SNS{TopicARN: "arn:aws:sns:us-east-1:" + acct + ":t"},
			Pinpoint: &Pinpoint{}}, ""},
		{"sns not an arn", EventDestination{Name: "d", Types: []EventType{EventSend}, SNS: &SNS{TopicARN: "topic"}}, KindSNS},
		{"sns other region", EventDestination{Name: "d", Types: []EventType{EventSend}, SNS: &SNS{TopicARN: "arn:aws:sns:eu-west-1:" + acct + ":t"}}, KindSNS},
		{"sns other account", EventDestination{Name: "d", Types: []EventType{EventSend}, SNS: &SNS{TopicARN: "arn:aws:sns:us-east-1:999999999999:t"}}, KindSNS},
		{"cw no dimensions", EventDestination{Name: "d", Types: []EventType{EventSend}, CloudWatch: &CloudWatch{}}, KindCloudWatch},
		{"cw bad source", EventDestination{Name: "d", Types: []EventType{EventSend}, CloudWatch: &CloudWatch{Dimensions: []Dimension{{Name: "n", Source: "messageTag", Default: "v"}}}}, KindCloudWatch},
		{"cw bad default", EventDestination{Name: "d", Types: []EventType{EventSend}, CloudWatch: &CloudWatch{Dimensions: []Dimension{{Name: "n", Source: SourceEmailHeader, Default: "a b"}}}}, KindCloudWatch},
		{"firehose", EventDestination{Name: "d", Types: []EventType{EventSend}, Firehose: &Firehose{DeliveryStreamARN: "arn:aws:sns:us-east-1:1:x", IAMRoleARN: "arn:aws:iam::1:role/r"}}, KindFirehose},
		{"eventbridge custom bus", EventDestination{Name: "d", Types: []EventType{EventSend}, EventBridge: &EventBridge{EventBusARN: "arn:aws:events:us-east-1:" + acct + ":event-bus/mine"}}, KindEventBridge},
	}
	for _, c := range cases {
		err := s.CreateEventDestination(ctx, acct, "set", c.d)
		if !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("%s: error = %v, want InvalidParameter", c.name, err)
			continue
		}
		var de *DestinationError
		if got := errors.As(err, &de); got != (c.kind != "") || (got && de.Kind != c.kind) {
			t.Errorf("%s: destination error = %+v, want kind %q", c.name, de, c.kind)
		}
	}
	ok := EventDestination{Name: "fh", Types: []EventType{EventSend}, Firehose: &Firehose{
		DeliveryStreamARN: "arn:aws:firehose:us-east-1:" + acct + ":deliverystream/s", IAMRoleARN: "arn:aws:iam::" + acct + ":role/r"}}
	if err := s.CreateEventDestination(ctx, acct, "set", ok); err != nil {
		t.Errorf("valid firehose: %v", err)
	}
}

func TestForMessage(t *testing.T) {
	s := newService(t, Config{})
	ctx := context.Background()
	for _, n := range []string{"on", "paused"} {
		if err := s.Create(ctx, acct, Defaults(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetSendingEnabled(ctx, acct, "paused", false); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		named, fallback, want string
		kind                  fault.Kind // Internal: no error
	}{
		{"", "", "", fault.Internal},
		{"on", "", "on", fault.Internal},
		{"on", "paused", "on", fault.Internal}, // a named set wins over the default
		{"", "on", "on", fault.Internal},
		{"", "gone", "", fault.Internal}, // a deleted default is skipped
		{"gone", "", "", fault.ConfigSetNotFound},
		{"paused", "", "", fault.ConfigSetSendingPaused},
		{"", "paused", "", fault.ConfigSetSendingPaused},
	}
	for _, c := range cases {
		got, err := s.ForMessage(ctx, acct, c.named, c.fallback)
		if c.kind == fault.Internal {
			if err != nil || got != c.want {
				t.Errorf("ForMessage(%q, %q) = %q, %v; want %q", c.named, c.fallback, got, err, c.want)
			}
			continue
		}
		if f := wantKind(t, err, c.kind); c.kind == fault.ConfigSetSendingPaused && f.Message != "Sending is paused for this configuration set." {
			t.Errorf("paused message %q", f.Message)
		}
	}
	// Resuming is seen at once, through the cache.
	if err := s.SetSendingEnabled(ctx, acct, "paused", true); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ForMessage(ctx, acct, "paused", ""); err != nil || got != "paused" {
		t.Errorf("after resume: %q, %v", got, err)
	}
}

func TestDeliveryOptionsAndSuppressedReasons(t *testing.T) {
	s := newService(t, Config{})
	ctx := context.Background()
	if err := s.Create(ctx, acct, Defaults("s")); err != nil {
		t.Fatal(err)
	}
	check := func(name string, wantTLS bool) {
		t.Helper()
		got, err := s.DeliveryOptions(ctx, acct, name)
		if err != nil || (got.TLSPolicy == TLSRequire) != wantTLS {
			t.Errorf("DeliveryOptions(%q) = %+v, %v; want TLS required %v", name, got, err, wantTLS)
		}
	}
	check("", false)
	check("s", false)
	check("gone", false)
	if err := s.PutDelivery(ctx, acct, "s", Delivery{TLSPolicy: TLSRequire, MaxDeliverySeconds: 600}); err != nil {
		t.Fatal(err)
	}
	check("s", true)
	if got, _ := s.DeliveryOptions(ctx, acct, "s"); got.MaxDeliverySeconds != 600 {
		t.Errorf("MaxDeliverySeconds = %d, want 600", got.MaxDeliverySeconds)
	}
	if err := s.SetTLSPolicy(ctx, acct, "s", TLSOptional); err != nil {
		t.Fatal(err)
	}
	check("s", false)

	if r, o := s.SuppressedReasons(ctx, acct, "s"); o || r != nil {
		t.Errorf("no options: %v %v", r, o)
	}
	if r, o := s.SuppressedReasons(ctx, acct, "gone"); o || r != nil {
		t.Errorf("no set: %v %v", r, o)
	}
	if err := s.PutSuppression(ctx, acct, "s", Suppression{Reasons: []string{ReasonComplaint}}); err != nil {
		t.Fatal(err)
	}
	if r, o := s.SuppressedReasons(ctx, acct, "s"); !o || !slices.Equal(r, []string{ReasonComplaint}) {
		t.Errorf("complaint only: %v %v", r, o)
	}
	if err := s.PutSuppression(ctx, acct, "s", Suppression{}); err != nil {
		t.Fatal(err)
	}
	if r, o := s.SuppressedReasons(ctx, acct, "s"); !o || len(r) != 0 {
		t.Errorf("empty list: %v %v", r, o)
	}
}

// A cached set never leaks a caller's later changes, and a cached absence
// ends when the set is made.
func TestCacheIsolation(t *testing.T) {
	s := newService(t, Config{})
	ctx := context.Background()
	if _, err := s.Get(ctx, acct, "late"); !fault.Is(err, fault.ConfigSetNotFound) {
		t.Fatal(err)
	}
	c := Defaults("late")
	c.Tags = []Tag{{Key: "k", Value: "v"}}
	if err := s.Create(ctx, acct, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, acct, "late")
	if err != nil {
		t.Fatal(err)
	}
	got.Tags[0].Value = "changed"
	got.SendingEnabled = false
	again, _ := s.Get(ctx, acct, "late")
	if again.Tags[0].Value != "v" || !again.SendingEnabled {
		t.Errorf("cache shared a copy: %+v", again)
	}
}

func TestV1Spellings(t *testing.T) {
	for _, name := range []string{"send", "reject", "bounce", "complaint", "delivery", "open", "click", "renderingFailure"} {
		et, ok := EventTypeFromV1(name)
		if !ok || et.V1() != name {
			t.Errorf("%s → %q %v → %q", name, et, ok, et.V1())
		}
	}
	if EventDeliveryDelay.V1() != "" || EventSubscription.V1() != "" {
		t.Error("v2-only types have v1 names")
	}
	if _, ok := EventTypeFromV1("SEND"); ok {
		t.Error("v2 spelling read as v1")
	}
	for _, src := range []string{"messageTag", "emailHeader", "linkTag"} {
		v2, ok := SourceFromV1(src)
		if !ok || SourceV1(v2) != src {
			t.Errorf("source %s", src)
		}
	}
	for in, want := range map[string]TLSPolicy{"": TLSOptional, "Optional": TLSOptional, "Require": TLSRequire} {
		if got, err := TLSPolicyFromV1(in); err != nil || got != want || (got.V1() != in && in != "") {
			t.Errorf("TLSPolicyFromV1(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := TLSPolicyFromV1("REQUIRE"); !fault.Is(err, fault.InvalidParameter) {
		t.Error("v2 spelling accepted as v1")
	}
}
