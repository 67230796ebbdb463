package configset

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/sesamehq/sesame/internal/store"
)

// The rows of config_sets and config_set_destinations (migration 0004) and
// their conversion to the domain types, kept in this one file.

const setColumns = `name, created_at, sending_enabled, reputation_metrics, last_fresh_start, tls_policy, sending_pool,
	max_delivery_secs, tracking, tracking_domain, https_policy, suppression, suppressed_reasons, validation_enabled,
	validation_verdict, vdm_engagement, vdm_shared_delivery, archive_arn, tags`

type scanner interface{ Scan(dest ...any) error }

func scanSet(row scanner) (*ConfigSet, error) {
	var c ConfigSet
	var created, fresh int64
	var sending, metrics, tracking, suppression int
	var trackDomain, httpsPolicy, reasons, valEnabled, valVerdict, tags string
	err := row.Scan(&c.Name, &created, &sending, &metrics, &fresh, &c.Delivery.TLSPolicy, &c.Delivery.SendingPoolName,
		&c.Delivery.MaxDeliverySeconds, &tracking, &trackDomain, &httpsPolicy, &suppression, &reasons, &valEnabled,
		&valVerdict, &c.VDM.EngagementMetrics, &c.VDM.OptimizedSharedDelivery, &c.ArchiveARN, &tags)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.Reputation.LastFreshStart = store.FromMillis(created), store.FromMillis(fresh)
	c.SendingEnabled, c.Reputation.MetricsEnabled = sending == 1, metrics == 1
	if tracking == 1 {
		c.Tracking = &Tracking{CustomRedirectDomain: trackDomain, HTTPSPolicy: httpsPolicy}
	}
	if suppression == 1 {
		c.Suppression = &Suppression{Reasons: splitList(reasons)}
		if valEnabled != "" {
			c.Suppression.Validation = &Validation{ConditionThresholdEnabled: valEnabled, ConfidenceVerdictThreshold: valVerdict}
		}
	}
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// setArgs are c's values for setColumns, in order.
func setArgs(c *ConfigSet) ([]any, error) {
	var trackDomain, httpsPolicy, reasons, valEnabled, valVerdict, tags string
	if t := c.Tracking; t != nil {
		trackDomain, httpsPolicy = t.CustomRedirectDomain, t.HTTPSPolicy
	}
	if s := c.Suppression; s != nil {
		reasons = strings.Join(s.Reasons, ",")
		if v := s.Validation; v != nil {
			valEnabled, valVerdict = v.ConditionThresholdEnabled, v.ConfidenceVerdictThreshold
		}
	}
	if len(c.Tags) > 0 {
		b, err := json.Marshal(c.Tags)
		if err != nil {
			return nil, err
		}
		tags = string(b)
	}
	return []any{c.Name, store.Millis(c.CreatedAt), boolInt(c.SendingEnabled), boolInt(c.Reputation.MetricsEnabled),
		millis0(c.Reputation), string(c.Delivery.TLSPolicy), c.Delivery.SendingPoolName, c.Delivery.MaxDeliverySeconds,
		boolInt(c.Tracking != nil), trackDomain, httpsPolicy, boolInt(c.Suppression != nil), reasons, valEnabled, valVerdict,
		c.VDM.EngagementMetrics, c.VDM.OptimizedSharedDelivery, c.ArchiveARN, tags}, nil
}

func millis0(r Reputation) int64 {
	if r.LastFreshStart.IsZero() {
		return 0
	}
	return store.Millis(r.LastFreshStart)
}

// insertSet adds a new row.
func insertSet(tx *store.Tx, account string, c *ConfigSet) error {
	args, err := setArgs(c)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO config_sets(account_id, `+setColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		append([]any{account}, args...)...)
	return err
}

// updateSet rewrites an existing row (all of setColumns but the name).
func updateSet(tx *store.Tx, account string, c *ConfigSet) error {
	args, err := setArgs(c)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`UPDATE config_sets SET created_at = ?, sending_enabled = ?, reputation_metrics = ?, last_fresh_start = ?,
		tls_policy = ?, sending_pool = ?, max_delivery_secs = ?, tracking = ?, tracking_domain = ?, https_policy = ?,
		suppression = ?, suppressed_reasons = ?, validation_enabled = ?, validation_verdict = ?, vdm_engagement = ?,
		vdm_shared_delivery = ?, archive_arn = ?, tags = ?
		WHERE account_id = ? AND name = ?`, append(args[1:], account, c.Name)...)
	return err
}

// loadSet reads one set inside a write; nil when absent.
func loadSet(tx *store.Tx, account, name string) (*ConfigSet, error) {
	c, err := scanSet(tx.QueryRow("SELECT "+setColumns+" FROM config_sets WHERE account_id = ? AND name = ?", account, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// readSet reads one set outside a write; nil when absent.
func readSet(ctx context.Context, db *sql.DB, account, name string) (*ConfigSet, error) {
	c, err := scanSet(db.QueryRowContext(ctx, "SELECT "+setColumns+" FROM config_sets WHERE account_id = ? AND name = ?", account, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

const destColumns = "name, enabled, event_types, kind, target_arn, role_arn, dimensions"

func scanDestination(row scanner) (*EventDestination, error) {
	var d EventDestination
	var enabled int
	var types, kind, target, role, dims string
	if err := row.Scan(&d.Name, &enabled, &types, &kind, &target, &role, &dims); err != nil {
		return nil, err
	}
	d.Enabled = enabled == 1
	for _, t := range splitList(types) {
		d.Types = append(d.Types, EventType(t))
	}
	switch Kind(kind) {
	case KindSNS:
		d.SNS = &SNS{TopicARN: target}
	case KindCloudWatch:
		d.CloudWatch = &CloudWatch{}
		if dims != "" {
			if err := json.Unmarshal([]byte(dims), &d.CloudWatch.Dimensions); err != nil {
				return nil, err
			}
		}
	case KindFirehose:
		d.Firehose = &Firehose{DeliveryStreamARN: target, IAMRoleARN: role}
	case KindEventBridge:
		d.EventBridge = &EventBridge{EventBusARN: target}
	case KindPinpoint:
		d.Pinpoint = &Pinpoint{ApplicationARN: target}
	}
	return &d, nil
}

// destinationArgs are d's values for destColumns, in order.
func destinationArgs(d *EventDestination) ([]any, error) {
	types := make([]string, len(d.Types))
	for i, t := range d.Types {
		types[i] = string(t)
	}
	var target, role, dims string
	switch {
	case d.SNS != nil:
		target = d.SNS.TopicARN
	case d.CloudWatch != nil:
		b, err := json.Marshal(d.CloudWatch.Dimensions)
		if err != nil {
			return nil, err
		}
		dims = string(b)
	case d.Firehose != nil:
		target, role = d.Firehose.DeliveryStreamARN, d.Firehose.IAMRoleARN
	case d.EventBridge != nil:
		target = d.EventBridge.EventBusARN
	case d.Pinpoint != nil:
		target = d.Pinpoint.ApplicationARN
	}
	return []any{d.Name, boolInt(d.Enabled), strings.Join(types, ","), string(d.Kind()), target, role, dims}, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
