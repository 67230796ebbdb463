package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/tracking"
)

// trackingKeyFile holds the HMAC key of open and click tracking tokens in
// the data directory. Losing it invalidates the links of mail already sent.
const trackingKeyFile = "tracking.key"

// startTracking loads (or makes, at the first start) the tracking key and
// builds the /t/open and /t/click handler, which records events in the
// queue's timeline.
func (a *App) startTracking() (*tracking.Signer, error) {
	key, err := loadTrackingKey(filepath.Join(a.cfg.DataDir, trackingKeyFile))
	if err != nil {
		return nil, fmt.Errorf("tracking key: %w", err)
	}
	signer, err := tracking.NewSigner(key)
	if err != nil {
		return nil, err
	}
	a.tracking = tracking.NewHandler(signer, a.recordEngagement, a.now, a.log.With("component", "tracking"))
	return signer, nil
}

// recordEngagement stores an open or click; one for a message that no
// longer exists is dropped.
func (a *App) recordEngagement(ctx context.Context, e tracking.Event) error {
	en := queue.Engagement{At: e.At, IPAddress: e.IPAddress, UserAgent: e.UserAgent}
	var err error
	if e.Kind == tracking.KindClick {
		en.Link = e.Link.URL
		if len(e.Link.Tags) > 0 {
			en.LinkTags = map[string][]string{}
			for _, t := range e.Link.Tags {
				en.LinkTags[t.Name] = append(en.LinkTags[t.Name], t.Value)
			}
		}
		err = a.Queue.RecordClick(ctx, e.MessageID, en)
	} else {
		err = a.Queue.RecordOpen(ctx, e.MessageID, en)
	}
	if errors.Is(err, queue.ErrNoMessage) {
		a.log.Debug("tracking: event for an unknown message", "msg_id", e.MessageID)
		return nil
	}
	return err
}

// loadTrackingKey reads the key, or makes one with 0600 permissions.
func loadTrackingKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != tracking.KeySize {
			return nil, fmt.Errorf("%s: want %d bytes, have %d", path, tracking.KeySize, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key = make([]byte, tracking.KeySize)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // made meanwhile by another start
		return loadTrackingKey(path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}
