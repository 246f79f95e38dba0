package server

import (
	lru "github.com/hashicorp/golang-lru"
)

// responseCacheEntries bounds each installation client's ETag cache; httpcache's own
// memory cache never evicts.
const responseCacheEntries = 2000

// responseCache is an httpcache.Cache that evicts the least recently used response.
type responseCache struct{ c *lru.Cache }

func newResponseCache(entries int) responseCache {
	c, err := lru.New(entries)
	if err != nil {
		panic(err) // only for entries <= 0, a programming error
	}
	return responseCache{c: c}
}

func (r responseCache) Get(key string) ([]byte, bool) {
	v, ok := r.c.Get(key)
	if !ok {
		return nil, false
	}
	return v.([]byte), true
}

func (r responseCache) Set(key string, body []byte) { r.c.Add(key, body) }

func (r responseCache) Delete(key string) { r.c.Remove(key) }
