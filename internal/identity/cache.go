package identity

import (
	"sync"
	"sync/atomic"
	"time"
)

// cacheTTL bounds how long a cached identity (or its absence) is trusted.
// Writes through this Service invalidate at once; the TTL only bounds what
// another process sharing the database could change.
const cacheTTL = 5 * time.Second

// cache keeps identities read on the sending path, where every message asks
// about its sender, its sender's parent domains and (in the sandbox) its
// recipients. A nil identity records that there is none.
type cache struct {
	gen     atomic.Uint64 // bumped by every invalidation
	mu      sync.RWMutex
	entries map[cacheKey]cacheEntry
	// notes are identities' notification settings, read for every
	// Delivery, Bounce and Complaint event; saved and dropped with the
	// identity (every change to them saves the identity too).
	notes map[cacheKey]notesEntry
}

type notesEntry struct {
	n  Notifications
	at time.Time
}

type cacheKey struct{ account, name string }

type cacheEntry struct {
	id *Identity
	at time.Time
}

func (c *cache) lookup(account, name string) (*Identity, bool) {
	c.mu.RLock()
	e, ok := c.entries[cacheKey{account, name}]
	c.mu.RUnlock()
	if !ok || time.Since(e.at) > cacheTTL {
		return nil, false
	}
	if e.id == nil {
		return nil, true
	}
	cp := *e.id
	return &cp, true
}

// store keeps id unless an invalidation happened since gen was read, so a
// read racing a write cannot put the old row back.
func (c *cache) store(account, name string, id *Identity, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if c.entries == nil || len(c.entries) > 100000 {
		c.entries = map[cacheKey]cacheEntry{}
	}
	var cp *Identity
	if id != nil {
		v := *id
		cp = &v
	}
	c.entries[cacheKey{account, name}] = cacheEntry{id: cp, at: time.Now()}
}

func (c *cache) invalidate(account, name string) {
	c.gen.Add(1)
	c.mu.Lock()
	delete(c.entries, cacheKey{account, name})
	delete(c.notes, cacheKey{account, name})
	c.mu.Unlock()
}

// lookupNotes returns cached notification settings, as lookup does.
func (c *cache) lookupNotes(account, name string) (Notifications, bool) {
	c.mu.RLock()
	e, ok := c.notes[cacheKey{account, name}]
	c.mu.RUnlock()
	if !ok || time.Since(e.at) > cacheTTL {
		return Notifications{}, false
	}
	return e.n, true
}

// storeNotes keeps n unless an invalidation happened since gen was read.
func (c *cache) storeNotes(account, name string, n Notifications, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if c.notes == nil || len(c.notes) > 100000 {
		c.notes = map[cacheKey]notesEntry{}
	}
	c.notes[cacheKey{account, name}] = notesEntry{n: n, at: time.Now()}
}
