// Package sns is Sesame's SNS-compatible topics service (DESIGN.md §6,
// SES-BEHAVIOR §8.4): topics with SNS's attributes and tags, HTTP(S)
// subscriptions confirmed through a signed SubscriptionConfirmation, and
// publishing through a durable outbox — Publish returns once the message and
// one delivery per confirmed subscription are committed, and the dispatcher
// (Run) POSTs signed SNS envelopes to the subscribers, at least once, with
// retries by SNS's delivery-policy rules and every attempt recorded.
//
// SES events reach their consumers through here: Sesame publishes with
// Publish or, inside the transaction that records an event, PublishTx, so an
// event and its notification commit together. The AWS Query adapter for the
// sns SDK clients is internal/api/snsapi.
package sns

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// Config is how the service runs; zero values take the defaults noted.
type Config struct {
	// Region is the region in every ARN (required).
	Region string
	// PublicURL is Sesame's public base URL, e.g. https://sesame.example.com;
	// SubscribeURL, UnsubscribeURL and SigningCertURL are built on it
	// (required).
	PublicURL string
	// RetryPolicy applies where neither topic nor subscription sets one;
	// nil means DefaultRetryPolicy().
	RetryPolicy *RetryPolicy
	// DelayUnit is the length of one policy "second"; 0 means time.Second.
	// Tests shorten it to run whole retry schedules in milliseconds.
	DelayUnit time.Duration
	// AttemptTimeout bounds one HTTP delivery attempt; 0 means 15 s (SNS's
	// HTTP timeout).
	AttemptTimeout time.Duration
	// Concurrency is how many attempts run at once; 0 means 16.
	Concurrency int
	// Retention is how long finished deliveries and their attempts are kept;
	// 0 means 7 days.
	Retention time.Duration
	// TokenTTL is how long a confirmation token is valid; 0 means 48 hours
	// (SNS: "Confirmation tokens are valid for two days"). Unconfirmed
	// subscriptions are removed when their token expires.
	TokenTTL time.Duration
}

// Service is the topics service. Its methods are safe for concurrent use;
// Run delivers.
type Service struct {
	cfg    Config
	retry  RetryPolicy
	db     *store.DB
	signer *Signer
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	wake   chan struct{}
}

// New returns the service. client makes the delivery requests (nil: a
// client with dial and TLS timeouts); redirects are never followed. now is
// the clock (nil: time.Now).
func New(cfg Config, db *store.DB, signer *Signer, client *http.Client, now func() time.Time, log *slog.Logger) (*Service, error) {
	if cfg.Region == "" {
		return nil, errors.New("sns: Config.Region is empty")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("sns: Config.PublicURL must be an absolute http(s) URL")
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if db == nil || signer == nil {
		return nil, errors.New("sns: New needs a store and a signer")
	}
	s := &Service{cfg: cfg, db: db, signer: signer, now: now, log: log, wake: make(chan struct{}, 1)}
	s.retry = DefaultRetryPolicy()
	if cfg.RetryPolicy != nil {
		if err := cfg.RetryPolicy.Validate("RetryPolicy"); err != nil {
			return nil, err
		}
		s.retry = cfg.RetryPolicy.normalized()
	}
	if s.cfg.DelayUnit <= 0 {
		s.cfg.DelayUnit = time.Second
	}
	if s.cfg.AttemptTimeout <= 0 {
		s.cfg.AttemptTimeout = 15 * time.Second
	}
	if s.cfg.Concurrency <= 0 {
		s.cfg.Concurrency = 16
	}
	if s.cfg.Retention <= 0 {
		s.cfg.Retention = 7 * 24 * time.Hour
	}
	if s.cfg.TokenTTL <= 0 {
		s.cfg.TokenTTL = 48 * time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.client = newClient(client)
	return s, nil
}

// Region is the region of the service's ARNs.
func (s *Service) Region() string { return s.cfg.Region }

// Signer is the signing key and certificate in use.
func (s *Service) Signer() *Signer { return s.signer }

// poke wakes the dispatcher after a commit that queued deliveries.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// newClient copies base (or a default client) so that it never follows a
// redirect: a subscriber answers for itself, with a 2xx.
func newClient(base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	} else {
		c.Transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 15 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			ForceAttemptHTTP2:     true,
		}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// queryer is what reads need: the writer's transaction or the read pool.
type queryer interface {
	QueryRow(query string, args ...any) *sql.Row
	Query(query string, args ...any) (*sql.Rows, error)
}

// reader runs reads on the pool under ctx.
type reader struct {
	ctx context.Context
	db  *sql.DB
}

func (r reader) QueryRow(q string, args ...any) *sql.Row {
	return r.db.QueryRowContext(r.ctx, q, args...)
}
func (r reader) Query(q string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(r.ctx, q, args...)
}

func (s *Service) read(ctx context.Context) queryer { return reader{ctx: ctx, db: s.db.Read()} }

// ownTopic checks that arn names a topic of account in this region; action
// names the SNS action for the authorization message.
func (s *Service) ownTopic(account, arn, action string) (topicRef, error) {
	t, ok := parseTopicARN(arn)
	if !ok || t.region != s.cfg.Region {
		return topicRef{}, invalid("TopicArn")
	}
	if t.account != account {
		return topicRef{}, notAuthorized(account, action, arn)
	}
	return t, nil
}

// URLs in envelopes, all on the public base URL.

// SubscribeURL: /?Action=ConfirmSubscription&TopicArn=…&Token=…, in SNS's
// parameter order.
func (s *Service) subscribeURL(topicARN, token string) string {
	return s.cfg.PublicURL + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(topicARN) + "&Token=" + url.QueryEscape(token)
}

// UnsubscribeURL: /?Action=Unsubscribe&SubscriptionArn=….
func (s *Service) unsubscribeURL(subscriptionARN string) string {
	return s.cfg.PublicURL + "/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(subscriptionARN)
}

// SigningCertURL is where the signing certificate is served.
func (s *Service) SigningCertURL() string {
	return s.cfg.PublicURL + CertPathPrefix + s.signer.CertificateName()
}

// CertPathPrefix is the path under the public URL where the signing
// certificate is served.
const CertPathPrefix = "/sns/"

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
