package sending

import (
	"context"

	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/tracking"
)

// track applies open and click tracking to an accepted message
// (SES-BEHAVIOR §9). As in SES, what turns tracking on is the message's
// configuration set having an enabled event destination for OPEN (the
// pixel) or CLICK (the links): nothing would consume the events otherwise.
// The set's TrackingOptions only choose the custom redirect domain and its
// HttpsPolicy. A message without either is left byte for byte as it was.
// The rewrite happens before the message is committed, so DKIM, added at
// delivery, signs the tracked message.
func (s *Service) track(ctx context.Context, msg *queue.Message) error {
	if s.cfg.Tracker == nil || msg.ConfigSet == "" {
		return nil
	}
	dests, err := s.configSets.EventDestinations(ctx, msg.AccountID, msg.ConfigSet)
	if err != nil {
		return err
	}
	o := tracking.Options{MessageID: msg.ID, BaseURL: s.cfg.PublicURL}
	for _, d := range dests {
		if !d.Enabled {
			continue
		}
		for _, t := range d.Types {
			o.Open = o.Open || t == configset.EventOpen
			o.Click = o.Click || t == configset.EventClick
		}
	}
	if !o.Open && !o.Click {
		return nil
	}
	set, err := s.configSets.Get(ctx, msg.AccountID, msg.ConfigSet)
	if err != nil {
		return err
	}
	if set.Tracking != nil {
		o.Domain, o.HTTPSPolicy = set.Tracking.CustomRedirectDomain, set.Tracking.HTTPSPolicy
	}
	res := s.cfg.Tracker.Rewrite(msg.Data, o)
	if res.Links+res.Pixels > 0 {
		s.log.Debug("tracking added", "msg_id", msg.ID, "config_set", msg.ConfigSet, "links", res.Links, "pixels", res.Pixels)
	}
	msg.Data = res.Data
	return nil
}
