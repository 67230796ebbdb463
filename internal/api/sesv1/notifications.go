package sesv1

import (
	"context"

	"github.com/sesamehq/sesame/internal/api/v1wire"
)

// Identity notifications (SES-BEHAVIOR §5.7): the SNS topics an identity's
// Bounce, Complaint and Delivery notifications go to, whether they carry
// the message's headers, and feedback forwarding.

func (s *Service) SetIdentityNotificationTopic(ctx context.Context, in *v1wire.SetIdentityNotificationTopicRequest) (*v1wire.SetIdentityNotificationTopicResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Identities.SetNotificationTopic(ctx, acct, in.Identity, in.NotificationType, in.SnsTopic); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.SetIdentityNotificationTopicResponse{}, nil
}

func (s *Service) SetIdentityHeadersInNotificationsEnabled(ctx context.Context, in *v1wire.SetIdentityHeadersInNotificationsEnabledRequest) (*v1wire.SetIdentityHeadersInNotificationsEnabledResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Identities.SetNotificationHeaders(ctx, acct, in.Identity, in.NotificationType, *in.Enabled); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.SetIdentityHeadersInNotificationsEnabledResponse{}, nil
}

// GetIdentityNotificationAttributes answers for the identities that exist;
// unknown ones are left out, as SES does.
func (s *Service) GetIdentityNotificationAttributes(ctx context.Context, in *v1wire.GetIdentityNotificationAttributesRequest) (*v1wire.GetIdentityNotificationAttributesResponse, error) {
	found, err := s.lookupAll(ctx, in.Identities)
	if err != nil {
		return nil, err
	}
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	out := &v1wire.GetIdentityNotificationAttributesResponse{NotificationAttributes: map[string]v1wire.IdentityNotificationAttributes{}}
	for name, id := range found {
		n, err := s.Identities.Notifications(ctx, acct, id.Name)
		if err != nil {
			return nil, wireError(err)
		}
		forwarding, bounce, complaint, delivery := id.FeedbackForwarding, n.BounceHeaders, n.ComplaintHeaders, n.DeliveryHeaders
		out.NotificationAttributes[name] = v1wire.IdentityNotificationAttributes{
			BounceTopic: n.BounceTopic, ComplaintTopic: n.ComplaintTopic, DeliveryTopic: n.DeliveryTopic,
			ForwardingEnabled:                      &forwarding,
			HeadersInBounceNotificationsEnabled:    &bounce,
			HeadersInComplaintNotificationsEnabled: &complaint,
			HeadersInDeliveryNotificationsEnabled:  &delivery,
		}
	}
	return out, nil
}
