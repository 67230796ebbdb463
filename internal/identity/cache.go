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
// recipients, and their notification settings, read for every Delivery,
// Bounce and Complaint event. Both are dropped together by invalidate:
// every change to notification settings saves the identity too.
type cache struct {
	gen   atomic.Uint64 // bumped by every invalidation
	mu    sync.RWMutex
	ids   table[*Identity] // nil records that there is none
	notes table[Notifications]
}

type cacheKey struct{ account, name string }

// table is one kind of cached value, with when it was read. Its methods
// are called with cache.mu held.
type table[V any] map[cacheKey]timed[V]

type timed[V any] struct {
	v  V
	at time.Time
}

func (t table[V]) get(k cacheKey) (V, bool) {
	e, ok := t[k]
	if !ok || time.Since(e.at) > cacheTTL {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v, starting the table afresh when it is missing or too big.
func (t *table[V]) put(k cacheKey, v V) {
	if *t == nil || len(*t) > 100000 {
		*t = table[V]{}
	}
	(*t)[k] = timed[V]{v: v, at: time.Now()}
}

// lookup returns a copy of the cached identity: callers may change it.
func (c *cache) lookup(account, name string) (*Identity, bool) {
	c.mu.RLock()
	id, ok := c.ids.get(cacheKey{account, name})
	c.mu.RUnlock()
	return clone(id), ok
}

// store keeps id unless an invalidation happened since gen was read, so a
// read racing a write cannot put the old row back.
func (c *cache) store(account, name string, id *Identity, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() == gen {
		c.ids.put(cacheKey{account, name}, clone(id))
	}
}

// lookupNotes returns cached notification settings, as lookup does.
func (c *cache) lookupNotes(account, name string) (Notifications, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.notes.get(cacheKey{account, name})
}

// storeNotes keeps n unless an invalidation happened since gen was read.
func (c *cache) storeNotes(account, name string, n Notifications, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() == gen {
		c.notes.put(cacheKey{account, name}, n)
	}
}

func (c *cache) invalidate(account, name string) {
	c.gen.Add(1)
	c.mu.Lock()
	delete(c.ids, cacheKey{account, name})
	delete(c.notes, cacheKey{account, name})
	c.mu.Unlock()
}

func clone(id *Identity) *Identity {
	if id == nil {
		return nil
	}
	cp := *id
	return &cp
}
