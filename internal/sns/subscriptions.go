package sns

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/sesamehq/sesame/internal/store"
)

// Subscription states.
const (
	statusPending   = "pending"
	statusConfirmed = "confirmed"
	statusDeleted   = "deleted" // unsubscribed; restorable until its token expires
)

// PendingARN is the SubscriptionArn SNS shows for an unconfirmed
// subscription: Subscribe answers "pending confirmation", the List
// operations "PendingConfirmation".
const (
	PendingSubscribeARN = "pending confirmation"
	PendingListARN      = "PendingConfirmation"
)

// Subscription attributes (SNS GetSubscriptionAttributes /
// SetSubscriptionAttributes / Subscribe Attributes).
const (
	AttrSubscriptionArn              = "SubscriptionArn"
	AttrProtocol                     = "Protocol"
	AttrEndpoint                     = "Endpoint"
	AttrPendingConfirmation          = "PendingConfirmation"
	AttrConfirmationWasAuthenticated = "ConfirmationWasAuthenticated"
	AttrRawMessageDelivery           = "RawMessageDelivery"
)

// Subscription is one subscription as the List operations show it.
type Subscription struct {
	ARN      string // the real ARN, also while pending
	TopicARN string
	Owner    string
	Protocol string
	Endpoint string // with any password in the URL masked
	Pending  bool
}

// subscriptionRow is a stored subscription.
type subscriptionRow struct {
	arn, account, topic, protocol, endpoint, status, token string
	tokenExpires                                           int64
	authenticated, authUnsubscribe, raw                    bool
	deliveryPolicy                                         string
}

const subscriptionColumns = "arn, account_id, topic, protocol, endpoint, status, token, token_expires, authenticated, auth_unsubscribe, raw, delivery_policy"

func scanSubscription(sc interface{ Scan(...any) error }) (subscriptionRow, error) {
	var r subscriptionRow
	err := sc.Scan(&r.arn, &r.account, &r.topic, &r.protocol, &r.endpoint, &r.status, &r.token, &r.tokenExpires,
		&r.authenticated, &r.authUnsubscribe, &r.raw, &r.deliveryPolicy)
	return r, err
}

func (r subscriptionRow) view(region string) Subscription {
	return Subscription{
		ARN: r.arn, TopicARN: TopicARN(region, r.account, r.topic), Owner: r.account,
		Protocol: r.protocol, Endpoint: redact(r.endpoint), Pending: r.status == statusPending,
	}
}

// redact masks a password in an endpoint URL (https://user:pass@host/…),
// which SNS uses for HTTP basic authentication.
func redact(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	return u.Redacted()
}

// checkSubscriptionAttribute validates one settable subscription attribute.
func checkSubscriptionAttribute(name, value string) error {
	switch name {
	case AttrRawMessageDelivery:
		if value != "true" && value != "false" {
			return invalid("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", value)
		}
	case AttrDeliveryPolicy:
		if _, err := parseSubscriptionPolicy(value); err != nil {
			return err
		}
	case "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy":
		return invalid("Attributes Reason: %s is not supported by Sesame", name)
	default:
		return invalid("AttributeName")
	}
	return nil
}

// checkEndpoint accepts an absolute URL of the protocol's scheme.
func checkEndpoint(protocol, endpoint string) error {
	switch protocol {
	case "http", "https":
	case "email", "email-json", "sms", "sqs", "application", "lambda", "firehose":
		return invalid("Protocol Reason: Sesame delivers only to http and https endpoints")
	default:
		return invalid("Amazon SNS does not support this protocol string: %s", protocol)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != protocol || u.Host == "" || len(endpoint) > 2048 {
		return invalid("Endpoint Reason: an %s endpoint must be an absolute %s:// URL", protocol, protocol)
	}
	return nil
}

func newToken() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}

// Subscribe subscribes an HTTP(S) endpoint to a topic of account and queues
// its SubscriptionConfirmation. The subscription is pending until the
// endpoint visits the SubscribeURL (or ConfirmSubscription is called with
// its token). An existing subscription of the same endpoint is returned as
// is (a pending one is sent a new confirmation).
func (s *Service) Subscribe(ctx context.Context, account, topicARN, protocol, endpoint string, attrs map[string]string) (Subscription, error) {
	t, err := s.ownTopic(account, topicARN, "Subscribe")
	if err != nil {
		return Subscription{}, err
	}
	if err := checkEndpoint(protocol, endpoint); err != nil {
		return Subscription{}, err
	}
	for k, v := range attrs {
		if err := checkSubscriptionAttribute(k, v); err != nil {
			return Subscription{}, err
		}
	}
	var out subscriptionRow
	now := s.now()
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := loadTopic(tx, t); err != nil {
			return err
		}
		row, err := scanSubscription(tx.QueryRow("SELECT "+subscriptionColumns+
			" FROM sns_subscriptions WHERE account_id = ? AND topic = ? AND protocol = ? AND endpoint = ? AND status <> 'deleted'",
			t.account, t.name, protocol, endpoint))
		switch {
		case err == nil:
			if !sameAttributes(row, attrs) {
				return invalid("Attributes Reason: Subscription already exists with different attributes")
			}
			out = row
			if row.status != statusPending {
				return nil
			}
			// Send the confirmation again, with the token's validity renewed.
			if _, err := tx.Exec("UPDATE sns_subscriptions SET token_expires = ?, updated_at = ? WHERE arn = ?",
				store.Millis(now.Add(s.cfg.TokenTTL)), store.Millis(now), row.arn); err != nil {
				return err
			}
			return s.queueConfirmation(tx, t, row.arn, TypeSubscriptionConfirmation, row.token, now)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		out = subscriptionRow{
			arn: newSubscriptionARN(t), account: t.account, topic: t.name, protocol: protocol, endpoint: endpoint,
			status: statusPending, token: newToken(), tokenExpires: store.Millis(now.Add(s.cfg.TokenTTL)),
			raw: attrs[AttrRawMessageDelivery] == "true", deliveryPolicy: attrs[AttrDeliveryPolicy],
		}
		if _, err := tx.Exec(`INSERT INTO sns_subscriptions(arn, account_id, topic, protocol, endpoint, status, token, token_expires,
			raw, delivery_policy, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			out.arn, out.account, out.topic, out.protocol, out.endpoint, out.status, out.token, out.tokenExpires,
			boolInt(out.raw), out.deliveryPolicy, store.Millis(now), store.Millis(now)); err != nil {
			return err
		}
		return s.queueConfirmation(tx, t, out.arn, TypeSubscriptionConfirmation, out.token, now)
	})
	if err != nil {
		return Subscription{}, err
	}
	return out.view(s.cfg.Region), nil
}

// sameAttributes reports whether a Subscribe's attributes match an existing
// subscription's.
func sameAttributes(r subscriptionRow, attrs map[string]string) bool {
	for k, v := range attrs {
		switch k {
		case AttrRawMessageDelivery:
			if (v == "true") != r.raw {
				return false
			}
		case AttrDeliveryPolicy:
			if v != r.deliveryPolicy {
				return false
			}
		}
	}
	return true
}

// ConfirmSubscription confirms the subscription whose confirmation carried
// token, for the topic topicARN, and returns its ARN. caller is the account
// that signed the request, or "" for a visit to the SubscribeURL;
// authenticateOnUnsubscribe then forbids unauthenticated unsubscribes
// (honoured only for a signed request, as in SNS). The token of an
// UnsubscribeConfirmation restores the subscription. Confirming again with
// a valid token returns the ARN.
func (s *Service) ConfirmSubscription(ctx context.Context, caller, topicARN, token string, authenticateOnUnsubscribe bool) (string, error) {
	t, ok := parseTopicARN(topicARN)
	if !ok || t.region != s.cfg.Region {
		return "", invalid("TopicArn")
	}
	if token == "" {
		return "", invalid("Token")
	}
	now := s.now()
	var arn string
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := loadTopic(tx, t); err != nil {
			return err
		}
		row, err := scanSubscription(tx.QueryRow("SELECT "+subscriptionColumns+
			" FROM sns_subscriptions WHERE token = ? AND account_id = ? AND topic = ?", token, t.account, t.name))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && row.tokenExpires < store.Millis(now)) {
			return invalid("Token")
		}
		if err != nil {
			return err
		}
		arn = row.arn
		authenticated := caller != ""
		if row.status == statusConfirmed {
			if authenticated && authenticateOnUnsubscribe && !row.authUnsubscribe {
				_, err := tx.Exec("UPDATE sns_subscriptions SET auth_unsubscribe = 1, updated_at = ? WHERE arn = ?", store.Millis(now), arn)
				return err
			}
			return nil
		}
		if row.status == statusDeleted {
			// The endpoint may have subscribed again since it unsubscribed:
			// it keeps that subscription.
			var live string
			err := tx.QueryRow("SELECT arn FROM sns_subscriptions WHERE account_id = ? AND topic = ? AND protocol = ? AND endpoint = ? AND status <> 'deleted'",
				row.account, row.topic, row.protocol, row.endpoint).Scan(&live)
			if err == nil {
				arn = live
				_, err = tx.Exec("DELETE FROM sns_subscriptions WHERE arn = ?", row.arn)
				return err
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		_, err = tx.Exec("UPDATE sns_subscriptions SET status = 'confirmed', authenticated = ?, auth_unsubscribe = ?, updated_at = ? WHERE arn = ?",
			boolInt(authenticated), boolInt(authenticated && authenticateOnUnsubscribe), store.Millis(now), arn)
		return err
	})
	if err != nil {
		return "", err
	}
	s.log.Info("sns: subscription confirmed", "account", t.account, "subscription", arn, "authenticated", caller != "")
	return arn, nil
}

// Unsubscribe deletes a subscription and drops its queued deliveries; a
// confirmed HTTP(S) endpoint is sent an UnsubscribeConfirmation whose
// SubscribeURL restores it. caller is the signing account, or "" for a
// visit to the UnsubscribeURL, which a subscription confirmed with
// AuthenticateOnUnsubscribe refuses.
func (s *Service) Unsubscribe(ctx context.Context, caller, subscriptionARN string) error {
	ref, ok := parseSubscriptionARN(subscriptionARN)
	if !ok || ref.topic.region != s.cfg.Region {
		return invalid("SubscriptionArn")
	}
	if caller != "" && caller != ref.topic.account {
		return notAuthorized(caller, "Unsubscribe", subscriptionARN)
	}
	now := s.now()
	return s.db.Write(ctx, func(tx *store.Tx) error {
		row, err := loadSubscription(tx, ref)
		if err != nil {
			return err
		}
		if caller == "" && row.authUnsubscribe {
			return &AuthorizationError{Message: "Unsubscribe must be authenticated for this subscription"}
		}
		if _, err := tx.Exec("UPDATE sns_deliveries SET state = 'dropped', lease_until = 0, updated_at = ? WHERE subscription = ? AND state = 'queued'",
			store.Millis(now), row.arn); err != nil {
			return err
		}
		if row.status == statusPending {
			_, err := tx.Exec("DELETE FROM sns_subscriptions WHERE arn = ?", row.arn)
			return err
		}
		token := newToken()
		if _, err := tx.Exec("UPDATE sns_subscriptions SET status = 'deleted', token = ?, token_expires = ?, updated_at = ? WHERE arn = ?",
			token, store.Millis(now.Add(s.cfg.TokenTTL)), store.Millis(now), row.arn); err != nil {
			return err
		}
		return s.queueConfirmation(tx, ref.topic, row.arn, TypeUnsubscribeConfirmation, token, now)
	})
}

// loadSubscription reads a live (pending or confirmed) subscription.
func loadSubscription(q queryer, ref subscriptionRef) (subscriptionRow, error) {
	row, err := scanSubscription(q.QueryRow("SELECT "+subscriptionColumns+
		" FROM sns_subscriptions WHERE arn = ? AND status <> 'deleted'", ref.arn()))
	if errors.Is(err, sql.ErrNoRows) {
		return row, subscriptionNotFound(ref.arn())
	}
	return row, err
}

// ListSubscriptions returns up to PageSize live subscriptions of account in
// ARN order — of one topic when topicARN is not "" — after the ARN after,
// and the ARN to pass as after for the next page ("" at the end).
func (s *Service) ListSubscriptions(ctx context.Context, account, topicARN, after string) ([]Subscription, string, error) {
	q := s.read(ctx)
	query := "SELECT " + subscriptionColumns + " FROM sns_subscriptions WHERE account_id = ? AND status <> 'deleted' AND arn > ?"
	args := []any{account, after}
	if topicARN != "" {
		t, err := s.ownTopic(account, topicARN, "ListSubscriptionsByTopic")
		if err != nil {
			return nil, "", err
		}
		if _, err := loadTopic(q, t); err != nil {
			return nil, "", err
		}
		query += " AND topic = ?"
		args = append(args, t.name)
	}
	rows, err := q.Query(query+" ORDER BY arn LIMIT ?", append(args, PageSize+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		r, err := scanSubscription(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r.view(s.cfg.Region))
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > PageSize {
		out = out[:PageSize]
		next = out[PageSize-1].ARN
	}
	return out, next, nil
}

// SubscriptionAttributes returns GetSubscriptionAttributes' map.
func (s *Service) SubscriptionAttributes(ctx context.Context, account, subscriptionARN string) (map[string]string, error) {
	ref, err := s.ownSubscription(account, subscriptionARN, "GetSubscriptionAttributes")
	if err != nil {
		return nil, err
	}
	q := s.read(ctx)
	row, err := loadSubscription(q, ref)
	if err != nil {
		return nil, err
	}
	topic, err := loadTopic(q, ref.topic)
	if err != nil {
		return nil, err
	}
	out := map[string]string{
		AttrSubscriptionArn:              row.arn,
		AttrTopicArn:                     ref.topic.arn(),
		AttrOwner:                        row.account,
		AttrProtocol:                     row.protocol,
		AttrEndpoint:                     redact(row.endpoint),
		AttrPendingConfirmation:          strconv.FormatBool(row.status == statusPending),
		AttrConfirmationWasAuthenticated: strconv.FormatBool(row.authenticated),
		AttrRawMessageDelivery:           strconv.FormatBool(row.raw),
		AttrEffectiveDeliveryPolicy:      effective(topic.attrs[AttrDeliveryPolicy], row.deliveryPolicy, s.retry).subscriptionJSON(),
	}
	if row.deliveryPolicy != "" {
		out[AttrDeliveryPolicy] = row.deliveryPolicy
	}
	return out, nil
}

// SetSubscriptionAttribute sets RawMessageDelivery or DeliveryPolicy ("" resets it).
func (s *Service) SetSubscriptionAttribute(ctx context.Context, account, subscriptionARN, name, value string) error {
	ref, err := s.ownSubscription(account, subscriptionARN, "SetSubscriptionAttributes")
	if err != nil {
		return err
	}
	if !(name == AttrDeliveryPolicy && value == "") {
		if err := checkSubscriptionAttribute(name, value); err != nil {
			return err
		}
	}
	column, arg := "raw", any(boolInt(value == "true"))
	if name == AttrDeliveryPolicy {
		column, arg = "delivery_policy", value
	}
	now := store.Millis(s.now())
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := loadSubscription(tx, ref); err != nil {
			return err
		}
		_, err := tx.Exec("UPDATE sns_subscriptions SET "+column+" = ?, updated_at = ? WHERE arn = ?", arg, now, ref.arn())
		return err
	})
}

func (s *Service) ownSubscription(account, arn, action string) (subscriptionRef, error) {
	ref, ok := parseSubscriptionARN(arn)
	if !ok || ref.topic.region != s.cfg.Region {
		return subscriptionRef{}, invalid("SubscriptionArn")
	}
	if ref.topic.account != account {
		return subscriptionRef{}, notAuthorized(account, action, arn)
	}
	return ref, nil
}

// queueConfirmation queues a SubscriptionConfirmation or
// UnsubscribeConfirmation for one subscription.
func (s *Service) queueConfirmation(tx *store.Tx, t topicRef, subscriptionARN, typ, token string, now time.Time) error {
	var text string
	if typ == TypeSubscriptionConfirmation {
		text = "You have chosen to subscribe to the topic " + t.arn() + ".\nTo confirm the subscription, visit the SubscribeURL included in this message."
	} else {
		text = "You have chosen to deactivate subscription " + subscriptionARN + ".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
	}
	m := outboxMessage{account: t.account, topicARN: t.arn(), typ: typ, body: text, token: token, sigVersion: "1"}
	topic, err := loadTopic(tx, t)
	if err == nil && topic.attrs[AttrSignatureVersion] != "" {
		m.sigVersion = topic.attrs[AttrSignatureVersion]
	}
	_, err = s.enqueue(tx, m, []string{subscriptionARN}, now)
	return err
}
