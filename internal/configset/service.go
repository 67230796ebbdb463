package configset

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// Config holds what configuration sets need from the process settings.
type Config struct {
	// Region is the served region: SNS destinations must be in it.
	Region string
	// MaxSets and MaxDestinations override SES's limits (tests); zero keeps
	// MaxSets and MaxDestinations.
	MaxSets         int
	MaxDestinations int
}

// Service manages configuration sets.
type Service struct {
	cfg   Config
	db    *store.DB
	now   func() time.Time
	log   *slog.Logger
	cache cache
}

// New returns the configuration-set service.
func New(cfg Config, db *store.DB, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxSets <= 0 {
		cfg.MaxSets = MaxSets
	}
	if cfg.MaxDestinations <= 0 {
		cfg.MaxDestinations = MaxDestinations
	}
	return &Service{cfg: cfg, db: db, now: now, log: log}
}

// Create stores a new set with the options c carries (start from Defaults).
func (s *Service) Create(ctx context.Context, account string, c *ConfigSet) error {
	if c == nil {
		return fault.New(fault.InvalidParameter, "A configuration set is required.")
	}
	c = c.clone()
	if err := c.validate(); err != nil {
		return err
	}
	c.CreatedAt = s.now().UTC()
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var exists, n int
		if err := tx.QueryRow("SELECT count(*) FROM config_sets WHERE account_id = ? AND name = ?", account, c.Name).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return fault.Named(fault.AlreadyExists, c.Name, "Configuration set <%s> already exists.", c.Name)
		}
		if err := tx.QueryRow("SELECT count(*) FROM config_sets WHERE account_id = ?", account).Scan(&n); err != nil {
			return err
		}
		if n >= s.cfg.MaxSets {
			return fault.New(fault.LimitExceeded, "Maximum number of configuration sets (%d) reached.", s.cfg.MaxSets)
		}
		s.invalidate(tx, account, c.Name)
		return insertSet(tx, account, c)
	})
}

// Get returns a set with all its options; an unknown name is a
// ConfigSetNotFound fault.
func (s *Service) Get(ctx context.Context, account, name string) (*ConfigSet, error) {
	c, err := s.lookup(ctx, account, name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, notFound(name)
	}
	return c, nil
}

// lookup reads a set through the cache; nil, nil when there is none.
func (s *Service) lookup(ctx context.Context, account, name string) (*ConfigSet, error) {
	if c, ok := s.cache.lookup(account, name); ok {
		return c, nil
	}
	gen := s.cache.gen.Load()
	c, err := readSet(ctx, s.db.Read(), account, name)
	if err != nil {
		return nil, err
	}
	s.cache.store(account, name, c, gen)
	return c, nil
}

// List returns up to limit set names after the name after, in name order,
// and the cursor of the next page ("" on the last).
func (s *Service) List(ctx context.Context, account, after string, limit int) ([]string, string, error) {
	rows, err := s.db.Read().QueryContext(ctx, "SELECT name FROM config_sets WHERE account_id = ? AND name > ? ORDER BY name LIMIT ?",
		account, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	names := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, "", err
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(names) > limit {
		names = names[:limit]
		next = names[limit-1]
	}
	return names, next, nil
}

// Delete removes a set and its event destinations.
func (s *Service) Delete(ctx context.Context, account, name string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec("DELETE FROM config_set_destinations WHERE account_id = ? AND config_set = ?", account, name); err != nil {
			return err
		}
		r, err := tx.Exec("DELETE FROM config_sets WHERE account_id = ? AND name = ?", account, name)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound(name)
		}
		s.invalidate(tx, account, name)
		return nil
	})
}

// modify applies f to a stored set and saves the result, in one write.
func (s *Service) modify(ctx context.Context, account, name string, f func(*ConfigSet) error) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		c, err := loadSet(tx, account, name)
		if err != nil {
			return err
		}
		if c == nil {
			return notFound(name)
		}
		if err := f(c); err != nil {
			return err
		}
		if err := c.validate(); err != nil {
			return err
		}
		s.invalidate(tx, account, name)
		return updateSet(tx, account, c)
	})
}

// invalidate drops a cached set now and again once the write commits, so
// no reader caches the row the write replaces.
func (s *Service) invalidate(tx *store.Tx, account, name string) {
	s.cache.invalidate(account, name)
	tx.AfterCommit(func() { s.cache.invalidate(account, name) })
}

// SetSendingEnabled pauses or resumes sending with the set (v2
// PutConfigurationSetSendingOptions, v1 UpdateConfigurationSetSendingEnabled).
func (s *Service) SetSendingEnabled(ctx context.Context, account, name string, enabled bool) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error { c.SendingEnabled = enabled; return nil })
}

// SetReputationMetrics turns reputation metrics on or off (v2
// PutConfigurationSetReputationOptions, v1
// UpdateConfigurationSetReputationMetricsEnabled).
func (s *Service) SetReputationMetrics(ctx context.Context, account, name string, enabled bool) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error { c.Reputation.MetricsEnabled = enabled; return nil })
}

// PutDelivery replaces the delivery options (v2
// PutConfigurationSetDeliveryOptions).
func (s *Service) PutDelivery(ctx context.Context, account, name string, d Delivery) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error { c.Delivery = d; return nil })
}

// SetTLSPolicy changes only the TLS policy (v1
// PutConfigurationSetDeliveryOptions, whose DeliveryOptions has nothing else).
func (s *Service) SetTLSPolicy(ctx context.Context, account, name string, p TLSPolicy) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error { c.Delivery.TLSPolicy = p; return nil })
}

// CreateTracking sets tracking options where there are none (v1
// CreateConfigurationSetTrackingOptions); existing ones are an AlreadyExists
// fault.
func (s *Service) CreateTracking(ctx context.Context, account, name string, t Tracking) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error {
		if c.Tracking != nil {
			return fault.Named(fault.AlreadyExists, name, "Tracking options already exist for configuration set <%s>.", name)
		}
		c.Tracking = &t
		return nil
	})
}

// UpdateTracking changes existing tracking options (v1
// UpdateConfigurationSetTrackingOptions); an empty HTTPSPolicy keeps the
// current one. Missing options are a NotFound fault.
func (s *Service) UpdateTracking(ctx context.Context, account, name string, t Tracking) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error {
		if c.Tracking == nil {
			return fault.Named(fault.NotFound, name, "Tracking options do not exist for configuration set <%s>.", name)
		}
		if t.HTTPSPolicy == "" {
			t.HTTPSPolicy = c.Tracking.HTTPSPolicy
		}
		c.Tracking = &t
		return nil
	})
}

// DeleteTracking removes the tracking options (v1
// DeleteConfigurationSetTrackingOptions); missing ones are a NotFound fault.
func (s *Service) DeleteTracking(ctx context.Context, account, name string) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error {
		if c.Tracking == nil {
			return fault.Named(fault.NotFound, name, "Tracking options do not exist for configuration set <%s>.", name)
		}
		c.Tracking = nil
		return nil
	})
}

// PutTracking sets or replaces the tracking options (v2
// PutConfigurationSetTrackingOptions); with neither a domain nor a policy it
// removes them, as v1's Delete does (SES-BEHAVIOR Appendix B).
func (s *Service) PutTracking(ctx context.Context, account, name string, t Tracking) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error {
		if t.CustomRedirectDomain == "" && t.HTTPSPolicy == "" {
			c.Tracking = nil
		} else {
			c.Tracking = &t
		}
		return nil
	})
}

// PutSuppression makes the set override the account's suppression settings
// (v2 PutConfigurationSetSuppressionOptions): no reasons means no
// suppression for mail sent with the set (SES-BEHAVIOR §11).
func (s *Service) PutSuppression(ctx context.Context, account, name string, sup Suppression) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error { c.Suppression = &sup; return nil })
}

// PutVDM replaces the VDM options (v2 PutConfigurationSetVdmOptions).
func (s *Service) PutVDM(ctx context.Context, account, name string, v VDM) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error { c.VDM = v; return nil })
}

// PutArchiving sets the archive ("" stops archiving; v2
// PutConfigurationSetArchivingOptions). Sesame stores it only.
func (s *Service) PutArchiving(ctx context.Context, account, name, archiveARN string) error {
	return s.modify(ctx, account, name, func(c *ConfigSet) error { c.ArchiveARN = archiveARN; return nil })
}

// ForMessage resolves the configuration set of a message being sent
// (SES-BEHAVIOR §4.4): the set the send names, which must exist, else
// fallback — the default set of the sending identity — which is skipped if
// it no longer exists. A set whose sending is paused refuses the message. It
// returns the name to record on the message, "" for none.
func (s *Service) ForMessage(ctx context.Context, account, named, fallback string) (string, error) {
	name := named
	if name == "" {
		name = fallback
	}
	if name == "" {
		return "", nil
	}
	c, err := s.lookup(ctx, account, name)
	if err != nil {
		return "", err
	}
	if c == nil {
		if named != "" {
			return "", notFound(named)
		}
		// Debug, not Warn: it would be logged for every message of the identity.
		s.log.Debug("configset: an identity's default configuration set does not exist; sending without one",
			"account", account, "config_set", name)
		return "", nil
	}
	if !c.SendingEnabled {
		return "", fault.Named(fault.ConfigSetSendingPaused, name, "Sending is paused for this configuration set.")
	}
	return name, nil
}

// DeliveryOptions returns the delivery options of the named set: its TLS
// policy (REQUIRE: never deliver in plaintext) and MaxDeliverySeconds (how
// long delivery is attempted). No set, or a set deleted since the message
// was sent, has the zero options: opportunistic TLS, the default window.
func (s *Service) DeliveryOptions(ctx context.Context, account, name string) (Delivery, error) {
	if name == "" {
		return Delivery{}, nil
	}
	c, err := s.lookup(ctx, account, name)
	if err != nil || c == nil {
		return Delivery{}, err
	}
	return c.Delivery, nil
}

// SuppressedReasons tells the suppression check which reasons apply to mail
// sent with the named set: overrides is true when the set has suppression
// options of its own, and reasons are then the ones that apply (none means
// no suppression). When there is no such set, it has no options of its own,
// or it cannot be read, overrides is false and the account's reasons apply.
func (s *Service) SuppressedReasons(ctx context.Context, account, name string) (reasons []string, overrides bool) {
	if name == "" {
		return nil, false
	}
	c, err := s.lookup(ctx, account, name)
	if err != nil {
		s.log.Error("configset: reading suppression options; the account's apply", "account", account, "config_set", name, "err", err)
		return nil, false
	}
	if c == nil || c.Suppression == nil {
		return nil, false
	}
	return slices.Clone(c.Suppression.Reasons), true
}
