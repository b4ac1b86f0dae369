package controller

import (
	"sync"
	"time"
)

// ExpectationsTTL bounds how long unobserved expectations block a key, so
// that a lost watch event cannot stall a controller forever.
const ExpectationsTTL = 5 * time.Minute

// Expectations count the creations and deletions a controller has issued
// for a key but not yet seen through its informers. While any are pending,
// the informer cache is known to be behind the controller's own writes, so
// the controller must not act on it (it would create twice).
type Expectations struct {
	mu  sync.Mutex
	m   map[string]*pending
	now func() time.Time
}

type pending struct {
	adds, dels int64
	at         time.Time
}

// NewExpectations returns empty expectations.
func NewExpectations() *Expectations {
	return &Expectations{m: map[string]*pending{}, now: time.Now}
}

// Expect records that adds creations and dels deletions are in flight.
func (e *Expectations) Expect(key string, adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &pending{adds: int64(adds), dels: int64(dels), at: e.now()}
}

// CreationObserved lowers the pending creations of key by one.
func (e *Expectations) CreationObserved(key string) { e.lower(key, 1, 0) }

// DeletionObserved lowers the pending deletions of key by one.
func (e *Expectations) DeletionObserved(key string) { e.lower(key, 0, 1) }

func (e *Expectations) lower(key string, adds, dels int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.m[key]; ok {
		p.adds -= adds
		p.dels -= dels
	}
}

// Satisfied reports whether key has nothing in flight (or its expectations
// expired, or it has none recorded).
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.m[key]
	if !ok {
		return true
	}
	return (p.adds <= 0 && p.dels <= 0) || e.now().Sub(p.at) > ExpectationsTTL
}

// Forget drops the expectations of key (when its owner is deleted).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
