// Package app wires Sesame together by hand: the store, the domain services,
// the delivery workers and every listener, with an explicit lifecycle —
// New validates, Start builds and binds everything, Close stops it all and is
// safe after a partial start (STYLE.md §7).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/api/httpapi"
	"github.com/sesamehq/sesame/internal/api/sesv1"
	"github.com/sesamehq/sesame/internal/api/sesv2"
	"github.com/sesamehq/sesame/internal/api/sigv4"
	"github.com/sesamehq/sesame/internal/config"
	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/delivery"
	"github.com/sesamehq/sesame/internal/delivery/transport"
	"github.com/sesamehq/sesame/internal/dns"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/metrics"
	"github.com/sesamehq/sesame/internal/publish"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/sending"
	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/suppression"
	"github.com/sesamehq/sesame/internal/templates"
	"github.com/sesamehq/sesame/internal/tracking"
)

// App is one running Sesame.
type App struct {
	cfg config.Config
	log *slog.Logger
	now func() time.Time

	// Tuning that tests shorten; zero values take production defaults.
	Retry    delivery.Config
	Timeouts transport.Timeouts

	db         *store.DB
	Accounts   *account.Service
	Identities *identity.Service
	Queue      *queue.Queue
	Sending    *sending.Service

	Suppression *suppression.Service // the account-level suppression list
	ConfigSets  *configset.Service   // configuration sets and event destinations
	Templates   *templates.Service   // email templates, v1 and v2
	SNS         *SNS                 // SNS-compatible topics, the channel for SES events
	Metrics     *metrics.Registry    // served at GET /metrics

	RootKey        account.Key
	RootKeyCreated bool // the root key was made at this start: print it once

	publicURL string
	tracking  *tracking.Handler // GET /t/open and /t/click
	httpLn    net.Listener
	httpSrv   *http.Server
	zone      *dns.ZoneServer
	smtp      smtpState
	mx        mxState

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New validates the configuration; nothing is opened or bound yet.
func New(cfg *config.Config, log *slog.Logger) (*App, error) {
	if cfg == nil {
		return nil, errors.New("app: no configuration")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if strings.HasPrefix(cfg.DB, "postgres") {
		return nil, errors.New("app: PostgreSQL is not supported yet; omit --db to use the embedded store")
	}
	return &App{cfg: *cfg, log: log, now: time.Now}, nil
}

// Start opens the store, builds the services, binds every listener and starts
// the background work. On error, Close releases what was started.
func (a *App) Start(ctx context.Context) error {
	cfg := &a.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	dbPath := filepath.Join(cfg.DataDir, "sesame.db")
	if p, ok := strings.CutPrefix(cfg.DB, "sqlite:"); ok {
		dbPath = p
	}
	db, err := store.Open(dbPath, a.log)
	if err != nil {
		return err
	}
	a.db = db

	a.Accounts = account.New(db, cfg.Dev, a.now)
	a.RootKey, a.RootKeyCreated, err = a.Accounts.Bootstrap(ctx, cfg.RootAccessKeyID, cfg.RootSecretAccessKey)
	if err != nil {
		return fmt.Errorf("bootstrap credentials: %w", err)
	}
	resolver, err := dns.NewClient(cfg.DNSServer, 0)
	if err != nil {
		return fmt.Errorf("DNS resolver: %w", err)
	}

	if cfg.HTTPAddr != "off" {
		if a.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("HTTP listener: %w", err)
		}
	}
	a.publicURL = cfg.PublicURL
	if a.publicURL == "" && a.httpLn != nil {
		a.publicURL = "http://" + a.httpLn.Addr().String()
	}

	a.Identities = identity.New(identity.Config{Region: cfg.Region, PublicURL: a.publicURL, Zone: cfg.DKIMZone, Hostname: cfg.Hostname,
		FirstCheck: cfg.VerifyInterval}, db, resolver, a.now, a.log.With("component", "identity"))
	a.Queue = queue.New(db, a.now)
	a.ConfigSets = configset.New(configset.Config{Region: cfg.Region}, db, a.now, a.log.With("component", "configset"))
	a.Templates = templates.New(templates.Config{Region: cfg.Region}, db, a.now)
	a.Suppression = suppression.New(db, a.now, nil)
	if n, err := a.Queue.ReleaseLeases(ctx); err != nil {
		return fmt.Errorf("queue: %w", err)
	} else if n > 0 {
		a.log.Info("queue: resuming deliveries interrupted by the last stop", "deliveries", n)
	}
	tracker, err := a.startTracking()
	if err != nil {
		return err
	}
	a.Sending = sending.New(sending.Config{Region: cfg.Region, Hostname: cfg.Hostname, PublicURL: a.publicURL, Tracker: tracker}, db, a.Accounts, a.Identities, a.ConfigSets, a.Queue, a.now, a.log)
	a.Identities.SetMailer(a.Sending)
	if a.SNS, err = StartSNS(db, SNSOptions{DataDir: cfg.DataDir, Region: cfg.Region, PublicURL: a.publicURL,
		Logger: a.log.With("component", "sns"), Now: a.now}); err != nil {
		return fmt.Errorf("SNS: %w", err)
	}
	a.Identities.SetTopics(a.SNS.Service)
	a.Metrics = metrics.New()
	publisher, err := publish.New(publish.Config{Region: cfg.Region}, publish.Deps{DB: db, Queue: a.Queue, ConfigSets: a.ConfigSets,
		Identities: a.Identities, Topics: a.SNS.Service, Metrics: a.Metrics, Logger: a.log.With("component", "publish")})
	if err != nil {
		return err
	}

	tr := &transport.Transport{
		Resolver: resolver, Relay: cfg.Relay, Port: cfg.DeliveryPort, Hostname: cfg.Hostname, Timeouts: a.Timeouts,
		IsNotFound: func(err error) bool { return errors.Is(err, dns.ErrNotFound) || errors.Is(err, dns.ErrNoData) },
		IsNullMX:   func(err error) bool { return errors.Is(err, dns.ErrNullMX) },
		Logger:     a.log.With("component", "transport"),
	}
	wcfg := a.Retry
	wcfg.Hostname, wcfg.Dev = cfg.Hostname, cfg.Dev
	worker := delivery.New(wcfg, a.Queue, a.Identities, a.ConfigSets, tr, a.now, a.log.With("component", "delivery"))
	worker.Instrument(a.Metrics)

	if cfg.DNSAddr != "off" {
		a.zone = &dns.ZoneServer{Zone: cfg.DKIMZone, Lookup: a.Identities.ZoneTXT, Logger: a.log.With("component", "dkim-zone")}
		if err := a.zone.Start(cfg.DNSAddr); err != nil {
			a.zone = nil
			return fmt.Errorf("DKIM zone DNS listener: %w", err)
		}
	}

	deps := sesv1.Deps{Region: cfg.Region, Accounts: a.Accounts, Identities: a.Identities, Sending: a.Sending, Queue: a.Queue, Suppression: a.Suppression, ConfigSets: a.ConfigSets, Templates: a.Templates}
	verifier := &sigv4.Verifier{Region: cfg.Region, Services: []string{"ses", "sns"}, Lookup: a.secretOf}
	api, err := httpapi.New(verifier, a.principalOf, sesv1.New(deps), sesv2.New(deps),
		map[string]httpapi.ServiceHandler{"sns": a.SNS.ServeAPI}, a.log.With("component", "api"))
	if err != nil {
		return err
	}
	if err := a.startSMTP(ctx); err != nil {
		return err
	}
	if err := a.startMX(ctx); err != nil { // after SMTP: it offers the same certificate
		return err
	}
	a.httpSrv = &http.Server{Handler: a.routes(api), ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	a.goRun(func() { a.Identities.Run(runCtx) })
	a.goRun(func() { worker.Run(runCtx) })
	a.goRun(func() { a.tracking.Run(runCtx) })
	a.goRun(func() { publisher.Run(runCtx) })
	if a.httpLn != nil {
		a.goRun(func() {
			if err := a.httpSrv.Serve(a.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("HTTP server stopped", "err", err)
			}
		})
	}
	return nil
}

func (a *App) goRun(f func()) {
	a.wg.Add(1)
	go func() { defer a.wg.Done(); f() }()
}

// secretOf is the SigV4 key lookup.
func (a *App) secretOf(ctx context.Context, id string) (string, error) {
	k, err := a.Accounts.LookupKey(ctx, id)
	if errors.Is(err, account.ErrUnknownKey) {
		return "", sigv4.ErrUnknownKey
	}
	return k.Secret, err
}

func (a *App) principalOf(ctx context.Context, id string) (httpapi.Principal, error) {
	k, err := a.Accounts.LookupKey(ctx, id)
	if err != nil {
		return httpapi.Principal{}, err
	}
	return httpapi.Principal{AccountID: k.AccountID, UserName: k.UserName}, nil
}

// HTTPAddr is the bound HTTP address.
func (a *App) HTTPAddr() string {
	if a.httpLn == nil {
		return ""
	}
	return a.httpLn.Addr().String()
}

// DNSAddr is the bound address of the DKIM-zone responder.
func (a *App) DNSAddr() string {
	if a.zone == nil {
		return ""
	}
	return a.zone.Addr()
}

// PublicURL is the base of links Sesame mails out.
func (a *App) PublicURL() string { return a.publicURL }

// Config returns the configuration in force.
func (a *App) Config() config.Config { return a.cfg }

// Close stops the listeners and background work and closes the store.
func (a *App) Close() error {
	var errs []error
	a.once.Do(func() {
		if a.httpSrv != nil {
			// Requests in flight get a grace period; after it, connections
			// are closed (net/http also waits out connections that were
			// opened and never used, which is no reason to fail Close).
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			if err := a.httpSrv.Shutdown(ctx); err != nil {
				a.log.Warn("HTTP shutdown: grace period over, closing connections", "err", err)
				a.httpSrv.Close()
			}
			cancel()
		} else if a.httpLn != nil {
			errs = append(errs, a.httpLn.Close())
		}
		if a.zone != nil {
			errs = append(errs, a.zone.Close())
		}
		errs = append(errs, a.closeSMTP())
		errs = append(errs, a.closeMX())
		if a.cancel != nil {
			a.cancel()
		}
		a.wg.Wait()
		errs = append(errs, a.SNS.Close())
		if a.db != nil {
			errs = append(errs, a.db.Close())
		}
	})
	return errors.Join(errs...)
}
