package configset

import (
	"sync"
	"sync/atomic"
	"time"
)

// cacheTTL bounds how long a cached set (or its absence) is trusted. Writes
// through this Service invalidate at once; the TTL only bounds what another
// process sharing the database could change.
const cacheTTL = 5 * time.Second

// maxCached bounds the cache; past it the cache starts over.
const maxCached = 100000

// cache keeps the sets read on the sending and delivery paths, which ask
// about a message's set once per send and once per delivery attempt. A nil
// set records that there is none.
type cache struct {
	gen     atomic.Uint64 // bumped by every invalidation
	mu      sync.RWMutex
	entries map[cacheKey]cacheEntry
}

type cacheKey struct{ account, name string }

type cacheEntry struct {
	set *ConfigSet
	at  time.Time
}

func (c *cache) lookup(account, name string) (*ConfigSet, bool) {
	c.mu.RLock()
	e, ok := c.entries[cacheKey{account, name}]
	c.mu.RUnlock()
	if !ok || time.Since(e.at) > cacheTTL {
		return nil, false
	}
	if e.set == nil {
		return nil, true
	}
	return e.set.clone(), true
}

// store keeps set unless an invalidation happened since gen was read, so a
// read racing a write cannot put the old row back.
func (c *cache) store(account, name string, set *ConfigSet, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCached {
		c.entries = map[cacheKey]cacheEntry{}
	}
	if set != nil {
		set = set.clone()
	}
	c.entries[cacheKey{account, name}] = cacheEntry{set: set, at: time.Now()}
}

func (c *cache) invalidate(account, name string) {
	c.gen.Add(1)
	c.mu.Lock()
	delete(c.entries, cacheKey{account, name})
	c.mu.Unlock()
}
