package identity

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// Notification types of v1 SetIdentityNotificationTopic (SES-BEHAVIOR §5.7).
const (
	NotifyBounce    = "Bounce"
	NotifyComplaint = "Complaint"
	NotifyDelivery  = "Delivery"
)

// Topics is what the identity service needs of SNS: whether a topic ARN
// names a topic of the account.
type Topics interface {
	TopicExists(ctx context.Context, account, arn string) (bool, error)
}

// SetTopics sets the topics service notification topics are checked
// against; without it every topic is refused.
func (s *Service) SetTopics(t Topics) { s.topics = t }

// Notifications are an identity's notification settings (v1
// IdentityNotificationAttributes): per type, the SNS topic ("" for none)
// and whether the notification carries the message's headers.
type Notifications struct {
	BounceTopic, ComplaintTopic, DeliveryTopic       string
	BounceHeaders, ComplaintHeaders, DeliveryHeaders bool
}

// Topic returns the topic for a notification type ("" for none).
func (n *Notifications) Topic(typ string) string {
	switch typ {
	case NotifyBounce:
		return n.BounceTopic
	case NotifyComplaint:
		return n.ComplaintTopic
	case NotifyDelivery:
		return n.DeliveryTopic
	}
	return ""
}

// Headers reports whether notifications of typ include headers.
func (n *Notifications) Headers(typ string) bool {
	switch typ {
	case NotifyBounce:
		return n.BounceHeaders
	case NotifyComplaint:
		return n.ComplaintHeaders
	case NotifyDelivery:
		return n.DeliveryHeaders
	}
	return false
}

// fields returns pointers to the topic and headers setting of typ.
func (n *Notifications) fields(typ string) (*string, *bool, error) {
	switch typ {
	case NotifyBounce:
		return &n.BounceTopic, &n.BounceHeaders, nil
	case NotifyComplaint:
		return &n.ComplaintTopic, &n.ComplaintHeaders, nil
	case NotifyDelivery:
		return &n.DeliveryTopic, &n.DeliveryHeaders, nil
	}
	return nil, nil, fault.New(fault.InvalidParameter, "Invalid notification type %s.", typ)
}

// Notifications returns an identity's notification settings; an identity
// without any has the zero value. It does not check the identity exists.
func (s *Service) Notifications(ctx context.Context, account, name string) (Notifications, error) {
	name = Normalize(name)
	if n, ok := s.cache.lookupNotes(account, name); ok {
		return n, nil
	}
	gen := s.cache.gen.Load()
	n, err := readNotifications(s.db.QueryRow(ctx, notificationsQuery, account, name))
	if err == nil {
		s.cache.storeNotes(account, name, n, gen)
	}
	return n, err
}

const notificationsQuery = `SELECT bounce_topic, complaint_topic, delivery_topic, bounce_headers, complaint_headers, delivery_headers
	FROM identity_notifications WHERE account_id = ? AND identity = ?`

func readNotifications(row *sql.Row) (Notifications, error) {
	var n Notifications
	err := row.Scan(&n.BounceTopic, &n.ComplaintTopic, &n.DeliveryTopic, &n.BounceHeaders, &n.ComplaintHeaders, &n.DeliveryHeaders)
	if errors.Is(err, sql.ErrNoRows) {
		return Notifications{}, nil
	}
	return n, err
}

func saveNotifications(tx *store.Tx, account, name string, n Notifications) error {
	_, err := tx.Exec(`INSERT OR REPLACE INTO identity_notifications(account_id, identity, bounce_topic, complaint_topic, delivery_topic,
		bounce_headers, complaint_headers, delivery_headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		account, name, n.BounceTopic, n.ComplaintTopic, n.DeliveryTopic, boolInt(n.BounceHeaders), boolInt(n.ComplaintHeaders), boolInt(n.DeliveryHeaders))
	return err
}

// SetNotificationTopic is v1 SetIdentityNotificationTopic: topicARN ("" to
// clear) receives the identity's notifications of typ. The topic must be
// one of the account's. Clearing the Bounce or Complaint topic of an
// identity that has feedback forwarding off turns forwarding back on: SES
// never leaves bounces and complaints unreported (SES-BEHAVIOR §5.7).
func (s *Service) SetNotificationTopic(ctx context.Context, account, name, typ, topicARN string) error {
	if topicARN != "" {
		ok := false
		if s.topics != nil {
			var err error
			if ok, err = s.topics.TopicExists(ctx, account, topicARN); err != nil {
				return err
			}
		}
		if !ok {
			return fault.New(fault.InvalidParameter, "Invalid SNS topic: %s.", topicARN)
		}
	}
	return s.modifyNotifications(ctx, account, name, func(id *Identity, n *Notifications) error {
		topic, _, err := n.fields(typ)
		if err != nil {
			return err
		}
		*topic = topicARN
		if n.BounceTopic == "" || n.ComplaintTopic == "" {
			id.FeedbackForwarding = true
		}
		return nil
	})
}

// SetNotificationHeaders is v1 SetIdentityHeadersInNotificationsEnabled.
func (s *Service) SetNotificationHeaders(ctx context.Context, account, name, typ string, enabled bool) error {
	return s.modifyNotifications(ctx, account, name, func(_ *Identity, n *Notifications) error {
		_, headers, err := n.fields(typ)
		if err != nil {
			return err
		}
		*headers = enabled
		return nil
	})
}

// SetForwardingWithTopics is v1 SetIdentityFeedbackForwardingEnabled:
// forwarding can be turned off only while both the Bounce and the Complaint
// topic are set (SES-BEHAVIOR §5.7). v2 PutEmailIdentityFeedbackAttributes,
// whose notifications go through event destinations instead, is
// SetFeedbackForwarding.
func (s *Service) SetForwardingWithTopics(ctx context.Context, account, name string, enabled bool) error {
	return s.modifyNotifications(ctx, account, name, func(id *Identity, n *Notifications) error {
		if !enabled && (n.BounceTopic == "" || n.ComplaintTopic == "") {
			return fault.New(fault.InvalidParameter,
				"Feedback forwarding cannot be disabled for identity %s because it has no SNS topics set for both bounces and complaints.", id.Name)
		}
		id.FeedbackForwarding = enabled
		return nil
	})
}

// modifyNotifications applies f to an identity and its notification
// settings in one write, saving both (the identity through save, which
// drops the cached copy).
func (s *Service) modifyNotifications(ctx context.Context, account, name string, f func(*Identity, *Notifications) error) error {
	name = Normalize(name)
	return s.db.Write(ctx, func(tx *store.Tx) error {
		id, err := load(tx, account, name)
		if err != nil {
			return err
		}
		if id == nil {
			return fault.Named(fault.NotFound, name, "Email identity %s does not exist.", name)
		}
		n, err := readNotifications(tx.QueryRow(notificationsQuery, account, name))
		if err != nil {
			return err
		}
		if err := f(id, &n); err != nil {
			return err
		}
		if err := saveNotifications(tx, account, name, n); err != nil {
			return err
		}
		return s.save(tx, id)
	})
}
