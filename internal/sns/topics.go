package sns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"strconv"
	"unicode/utf8"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// Topic attributes (SNS CreateTopic / SetTopicAttributes / GetTopicAttributes).
// The settable ones are stored as set; the others are computed.
const (
	AttrDisplayName             = "DisplayName"
	AttrPolicy                  = "Policy"
	AttrDeliveryPolicy          = "DeliveryPolicy"
	AttrSignatureVersion        = "SignatureVersion"
	AttrTracingConfig           = "TracingConfig"
	AttrFifoTopic               = "FifoTopic"
	AttrTopicArn                = "TopicArn"
	AttrOwner                   = "Owner"
	AttrSubscriptionsConfirmed  = "SubscriptionsConfirmed"
	AttrSubscriptionsPending    = "SubscriptionsPending"
	AttrSubscriptionsDeleted    = "SubscriptionsDeleted"
	AttrEffectiveDeliveryPolicy = "EffectiveDeliveryPolicy"
)

// PageSize is SNS's page for ListTopics and ListSubscriptions(ByTopic).
const PageSize = 100

// Tag limits (SNS "Amazon SNS tags": 50 per topic, keys 1–128 and values
// 0–256 characters).
const (
	maxTags        = 50
	maxTagKey      = 128
	maxTagValue    = 256
	maxDisplayName = 100
)

// topicRow is a stored topic.
type topicRow struct {
	attrs map[string]string
	tags  map[string]string
}

// checkTopicAttribute validates one settable attribute. create is true
// for CreateTopic, which also takes FifoTopic; keep is false when the
// attribute is accepted but not stored (FifoTopic=false).
func checkTopicAttribute(name, value string, create bool) (keep bool, err error) {
	switch name {
	case AttrDisplayName:
		if utf8.RuneCountInString(value) > maxDisplayName {
			return false, invalid("DisplayName")
		}
	case AttrPolicy:
		if value != "" && !json.Valid([]byte(value)) {
			return false, invalid("Policy Error: JSON parse error")
		}
	case AttrDeliveryPolicy:
		if _, err := parseTopicPolicy(value); err != nil {
			return false, err
		}
	case AttrSignatureVersion:
		if value != "1" && value != "2" {
			return false, invalid("SignatureVersion")
		}
	case AttrTracingConfig:
		if value != "PassThrough" && value != "Active" {
			return false, invalid("TracingConfig")
		}
	case AttrFifoTopic:
		if !create {
			return false, invalid("AttributeName")
		}
		if value != "false" {
			return false, invalid("Attributes Reason: FIFO topics are not supported by Sesame")
		}
		return false, nil
	default:
		if create {
			return false, invalid("Attributes Reason: Unknown attribute %s", name)
		}
		return false, invalid("AttributeName")
	}
	return true, nil
}

func checkTags(tags map[string]string) error {
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > maxTagKey || utf8.RuneCountInString(v) > maxTagValue {
			return invalid("Tags Reason: tag keys must have 1 to 128 characters and values at most 256")
		}
	}
	return nil
}

func tooManyTags() error {
	return fault.New(fault.LimitExceeded, "Could not complete request: tag quota of per resource exceeded")
}

// CreateTopic creates topic name in account and returns its ARN. It is
// idempotent: for an existing topic it returns the ARN, unless attrs or tags
// differ from the topic's (InvalidParameter, as SNS).
func (s *Service) CreateTopic(ctx context.Context, account, name string, attrs, tags map[string]string) (string, error) {
	if !validTopicName(name) {
		return "", invalid("Topic Name")
	}
	stored := make(map[string]string, len(attrs))
	for k, v := range attrs {
		keep, err := checkTopicAttribute(k, v, true)
		if err != nil {
			return "", err
		}
		if keep {
			stored[k] = v
		}
	}
	if err := checkTags(tags); err != nil {
		return "", err
	}
	if len(tags) > maxTags {
		return "", tooManyTags()
	}
	t := topicRef{region: s.cfg.Region, account: account, name: name}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		old, err := loadTopic(tx, t)
		switch {
		case err == nil:
			for k, v := range stored {
				if old.attrs[k] != v {
					return invalid("Attributes Reason: Topic already exists with different attributes")
				}
			}
			if len(tags) > 0 && !maps.Equal(tags, old.tags) {
				return invalid("Tags Reason: Topic already exists with different tags")
			}
			return nil
		case !fault.Is(err, fault.NotFound):
			return err
		}
		_, err = tx.Exec("INSERT INTO sns_topics(account_id, name, attributes, tags, created_at) VALUES (?, ?, ?, ?, ?)",
			account, name, mustJSON(stored), mustJSON(nonNil(tags)), store.Millis(s.now()))
		return err
	})
	if err != nil {
		return "", err
	}
	return t.arn(), nil
}

// DeleteTopic deletes a topic with its subscriptions; deliveries still
// queued for them are dropped. Deleting a topic that does not exist is not
// an error (SNS: the action is idempotent).
func (s *Service) DeleteTopic(ctx context.Context, account, arn string) error {
	t, err := s.ownTopic(account, arn, "DeleteTopic")
	if err != nil {
		return err
	}
	now := store.Millis(s.now())
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`UPDATE sns_deliveries SET state = 'dropped', lease_until = 0, updated_at = ?
			WHERE state = 'queued' AND subscription IN (SELECT arn FROM sns_subscriptions WHERE account_id = ? AND topic = ?)`,
			now, t.account, t.name); err != nil {
			return err
		}
		if _, err := tx.Exec("DELETE FROM sns_subscriptions WHERE account_id = ? AND topic = ?", t.account, t.name); err != nil {
			return err
		}
		_, err := tx.Exec("DELETE FROM sns_topics WHERE account_id = ? AND name = ?", t.account, t.name)
		return err
	})
}

// ListTopics returns up to PageSize topic ARNs of account in name order,
// after the topic named after (""; from the start), and the name to pass as
// after for the next page ("" at the end).
func (s *Service) ListTopics(ctx context.Context, account, after string) (arns []string, next string, err error) {
	rows, err := s.db.Read().QueryContext(ctx,
		"SELECT name FROM sns_topics WHERE account_id = ? AND name > ? ORDER BY name LIMIT ?", account, after, PageSize+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var names []string
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
	if len(names) > PageSize {
		names = names[:PageSize]
		next = names[PageSize-1]
	}
	arns = make([]string, len(names))
	for i, n := range names {
		arns[i] = TopicARN(s.cfg.Region, account, n)
	}
	return arns, next, nil
}

// TopicExists reports whether arn names a topic of account; SES uses it to
// check notification topics and event destinations.
func (s *Service) TopicExists(ctx context.Context, account, arn string) (bool, error) {
	t, ok := parseTopicARN(arn)
	if !ok || t.region != s.cfg.Region || t.account != account {
		return false, nil
	}
	_, err := loadTopic(s.read(ctx), t)
	if fault.Is(err, fault.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// TopicAttributes returns GetTopicAttributes' map.
func (s *Service) TopicAttributes(ctx context.Context, account, arn string) (map[string]string, error) {
	t, err := s.ownTopic(account, arn, "GetTopicAttributes")
	if err != nil {
		return nil, err
	}
	q := s.read(ctx)
	row, err := loadTopic(q, t)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	rows, err := q.Query("SELECT status, COUNT(*) FROM sns_subscriptions WHERE account_id = ? AND topic = ? GROUP BY status", t.account, t.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := maps.Clone(row.attrs)
	out[AttrTopicArn] = t.arn()
	out[AttrOwner] = t.account
	if out[AttrPolicy] == "" {
		out[AttrPolicy] = defaultPolicy(t)
	}
	if _, ok := out[AttrDisplayName]; !ok {
		out[AttrDisplayName] = ""
	}
	out[AttrSubscriptionsConfirmed] = strconv.Itoa(counts[statusConfirmed])
	out[AttrSubscriptionsPending] = strconv.Itoa(counts[statusPending])
	out[AttrSubscriptionsDeleted] = strconv.Itoa(counts[statusDeleted])
	tp, _ := parseTopicPolicy(row.attrs[AttrDeliveryPolicy]) // validated when set
	disable := tp.HTTP != nil && tp.HTTP.DisableSubscriptionOverrides
	out[AttrEffectiveDeliveryPolicy] = effective(row.attrs[AttrDeliveryPolicy], "", s.retry).topicJSON(disable)
	return out, nil
}

// SetTopicAttribute sets one settable attribute; "" resets DisplayName,
// Policy and DeliveryPolicy to their defaults.
func (s *Service) SetTopicAttribute(ctx context.Context, account, arn, name, value string) error {
	t, err := s.ownTopic(account, arn, "SetTopicAttributes")
	if err != nil {
		return err
	}
	if _, err := checkTopicAttribute(name, value, false); err != nil {
		return err
	}
	return s.updateTopic(ctx, t, func(row *topicRow) error {
		if value == "" {
			delete(row.attrs, name)
		} else {
			row.attrs[name] = value
		}
		return nil
	})
}

// TagTopic adds or replaces tags (SNS TagResource).
func (s *Service) TagTopic(ctx context.Context, account, arn string, tags map[string]string) error {
	t, err := s.ownTopic(account, arn, "TagResource")
	if err != nil {
		return err
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.updateTopic(ctx, t, func(row *topicRow) error {
		maps.Copy(row.tags, tags)
		if len(row.tags) > maxTags {
			return tooManyTags()
		}
		return nil
	})
}

// UntagTopic removes tags by key (SNS UntagResource).
func (s *Service) UntagTopic(ctx context.Context, account, arn string, keys []string) error {
	t, err := s.ownTopic(account, arn, "UntagResource")
	if err != nil {
		return err
	}
	return s.updateTopic(ctx, t, func(row *topicRow) error {
		for _, k := range keys {
			delete(row.tags, k)
		}
		return nil
	})
}

// TopicTags returns a topic's tags (SNS ListTagsForResource).
func (s *Service) TopicTags(ctx context.Context, account, arn string) (map[string]string, error) {
	t, err := s.ownTopic(account, arn, "ListTagsForResource")
	if err != nil {
		return nil, err
	}
	row, err := loadTopic(s.read(ctx), t)
	if err != nil {
		return nil, err
	}
	return row.tags, nil
}

// updateTopic applies change to a topic in one write.
func (s *Service) updateTopic(ctx context.Context, t topicRef, change func(*topicRow) error) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		row, err := loadTopic(tx, t)
		if err != nil {
			return err
		}
		if err := change(&row); err != nil {
			return err
		}
		_, err = tx.Exec("UPDATE sns_topics SET attributes = ?, tags = ? WHERE account_id = ? AND name = ?",
			mustJSON(row.attrs), mustJSON(row.tags), t.account, t.name)
		return err
	})
}

// loadTopic reads a topic; a missing one is NotFound "Topic does not exist".
func loadTopic(q queryer, t topicRef) (topicRow, error) {
	var attrs, tags string
	err := q.QueryRow("SELECT attributes, tags FROM sns_topics WHERE account_id = ? AND name = ?", t.account, t.name).Scan(&attrs, &tags)
	if errors.Is(err, sql.ErrNoRows) {
		return topicRow{}, topicNotFound(t.arn())
	}
	if err != nil {
		return topicRow{}, err
	}
	row := topicRow{attrs: map[string]string{}, tags: map[string]string{}}
	if err := json.Unmarshal([]byte(attrs), &row.attrs); err != nil {
		return topicRow{}, err
	}
	if err := json.Unmarshal([]byte(tags), &row.tags); err != nil {
		return topicRow{}, err
	}
	return row, nil
}

// defaultPolicy is the access policy SNS gives a new topic: the owner may
// do everything.
func defaultPolicy(t topicRef) string {
	type statement struct {
		Sid       string            `json:"Sid"`
		Effect    string            `json:"Effect"`
		Principal map[string]string `json:"Principal"`
		Action    []string          `json:"Action"`
		Resource  string            `json:"Resource"`
		Condition map[string]any    `json:"Condition"`
	}
	return mustJSON(struct {
		Version   string      `json:"Version"`
		ID        string      `json:"Id"`
		Statement []statement `json:"Statement"`
	}{"2008-10-17", "__default_policy_ID", []statement{{
		Sid: "__default_statement_ID", Effect: "Allow", Principal: map[string]string{"AWS": "*"},
		Action: []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
			"SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
		Resource:  t.arn(),
		Condition: map[string]any{"StringEquals": map[string]string{"AWS:SourceOwner": t.account}},
	}}})
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
