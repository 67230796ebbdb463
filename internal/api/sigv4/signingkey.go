package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// deriveKey is SES-BEHAVIOR.md §2.2 step 4:
//
//	kDate    = HMAC("AWS4"+secret, YYYYMMDD)
//	kRegion  = HMAC(kDate, region)
//	kService = HMAC(kRegion, service)
//	kSigning = HMAC(kService, "aws4_request")
func deriveKey(secret, date, region, service string) [sha256.Size]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k[:], region)
	k = hmacSHA256(k[:], service)
	return hmacSHA256(k[:], terminator)
}

func hmacSHA256(key []byte, msg string) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// keyCacheGeneration bounds the signing-key cache: at most twice this many
// keys are held. A key lives for a UTC day per access key, so a few hundred
// covers every active key of a busy deployment.
const keyCacheGeneration = 256

// keyCache memoises derived signing keys. It is a two-generation cache: new
// keys go into cur; when cur is full it becomes old and a fresh cur starts;
// a hit in old is promoted. That bounds memory, keeps hot keys, and costs
// O(1) per operation without list bookkeeping. The zero value is ready.
type keyCache struct {
	mu       sync.Mutex
	cur, old map[keyID][sha256.Size]byte
}

// keyID names a signing key. It holds the secret itself rather than the
// access key id, so a rotated secret can never hit a stale entry.
type keyID struct{ secret, date, region, service string }

// get returns the signing key for id, deriving and caching it on a miss.
func (c *keyCache) get(id keyID) [sha256.Size]byte {
	c.mu.Lock()
	if k, ok := c.cur[id]; ok {
		c.mu.Unlock()
		return k
	}
	if k, ok := c.old[id]; ok {
		c.putLocked(id, k)
		c.mu.Unlock()
		return k
	}
	c.mu.Unlock()

	// Derive outside the lock; a concurrent miss on the same id derives the
	// same bytes, so a duplicate put is harmless.
	k := deriveKey(id.secret, id.date, id.region, id.service)
	c.mu.Lock()
	c.putLocked(id, k)
	c.mu.Unlock()
	return k
}

func (c *keyCache) putLocked(id keyID, k [sha256.Size]byte) {
	if c.cur == nil {
		c.cur = make(map[keyID][sha256.Size]byte, keyCacheGeneration)
	}
	if len(c.cur) >= keyCacheGeneration {
		c.old, c.cur = c.cur, make(map[keyID][sha256.Size]byte, keyCacheGeneration)
	}
	c.cur[id] = k
}

// len reports how many keys are cached (for tests).
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
