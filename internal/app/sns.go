package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/sesamehq/sesame/internal/api/snsapi"
	"github.com/sesamehq/sesame/internal/sns"
	"github.com/sesamehq/sesame/internal/store"
)

// SNSOptions configure Sesame's SNS-compatible topics (DESIGN.md §6).
type SNSOptions struct {
	// DataDir is Sesame's data directory; the message signing key and its
	// certificate live in <DataDir>/sns.
	DataDir   string
	Region    string
	PublicURL string // SubscribeURL, UnsubscribeURL and SigningCertURL are built on it
	// Tuning overrides the delivery defaults (RetryPolicy, DelayUnit,
	// AttemptTimeout, Concurrency, Retention, TokenTTL); its Region and
	// PublicURL are ignored. Tests shorten DelayUnit.
	Tuning     sns.Config
	HTTPClient *http.Client // nil: sns's default client
	Logger     *slog.Logger
	Now        func() time.Time
}

// SNS is the SNS-compatible topics service of a running App: the domain
// service SES publishes its events through, the Query adapter the HTTP
// front hands SNS requests to, and the dispatcher that delivers.
type SNS struct {
	// Service is the domain service: Publish / PublishTx for SES events.
	Service *sns.Service
	api     *snsapi.Handler
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// StartSNS loads (or, at first start, makes) the signing key and
// certificate, builds the service on db and starts its dispatcher, which
// first resumes the deliveries a previous run left queued. Close it before
// closing db.
func StartSNS(db *store.DB, o SNSOptions) (*SNS, error) {
	if db == nil || o.DataDir == "" {
		return nil, errors.New("app: StartSNS needs the store and the data directory")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	log := o.Logger.With("component", "sns")
	signer, err := sns.LoadSigner(sns.SignerOptions{Dir: filepath.Join(o.DataDir, "sns"), Now: o.Now, Logger: log})
	if err != nil {
		return nil, err
	}
	cfg := o.Tuning
	cfg.Region, cfg.PublicURL = o.Region, o.PublicURL
	svc, err := sns.New(cfg, db, signer, o.HTTPClient, o.Now, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &SNS{Service: svc, api: snsapi.New(svc, log), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		svc.Run(ctx)
	}()
	return s, nil
}

// Close stops the dispatcher and waits for it; attempts in flight are
// cancelled and made again at the next start. It is safe on a nil *SNS and
// more than once.
func (s *SNS) Close() error {
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		s.cancel()
		<-s.done
	})
	return nil
}

// ServeAPI answers an SNS Query request that the HTTP front has
// authenticated — its SigV4 credential scope names service "sns"
// (sigv4.Result.Service) — with the caller in ctx (caller.With) and the
// body already read and bounded.
func (s *SNS) ServeAPI(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte, requestID string) {
	s.api.Serve(ctx, w, r, body, requestID)
}

// ServePublic answers the unsigned requests subscribers make — SubscribeURL,
// UnsubscribeURL, the signing certificate — for which IsSNSPublic is true.
func (s *SNS) ServePublic(w http.ResponseWriter, r *http.Request) { s.api.ServePublic(w, r) }

// IsSNSPublic reports whether r is an unsigned subscriber request for
// ServePublic: GET /?Action=ConfirmSubscription|Unsubscribe or GET
// /sns/SimpleNotificationService-….pem, without any SigV4 signature.
func IsSNSPublic(r *http.Request) bool { return snsapi.IsPublic(r) }
