package endpointslice

import (
	"strconv"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// trackerTTL bounds how long a write not yet seen in the cache holds a
// Service back (a slice someone else deleted right after our write would
// otherwise block it forever).
const trackerTTL = 10 * time.Second

// tracker remembers this controller's recent slice writes per Service, so
// that a sync never acts on a cache that has not caught up with them.
type tracker struct {
	mu  sync.Mutex
	m   map[string]map[string]expectation
	now func() time.Time
}

type expectation struct {
	rv      int64 // resourceVersion written; 0 when deleted
	deleted bool
	at      time.Time
}

func newTracker() *tracker {
	return &tracker{m: map[string]map[string]expectation{}, now: time.Now}
}

func (t *tracker) wrote(svc string, s *discoveryv1.EndpointSlice) {
	rv, _ := strconv.ParseInt(s.ResourceVersion, 10, 64)
	t.set(svc, s.Name, expectation{rv: rv, at: t.now()})
}

func (t *tracker) deleted(svc, name string) {
	t.set(svc, name, expectation{deleted: true, at: t.now()})
}

func (t *tracker) set(svc, name string, e expectation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[svc] == nil {
		t.m[svc] = map[string]expectation{}
	}
	t.m[svc][name] = e
}

func (t *tracker) forget(svc string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, svc)
}

// stale reports whether the cached slices of svc miss one of our writes.
// Expectations met (or expired) are dropped.
func (t *tracker) stale(svc string, cached []*discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp := t.m[svc]
	if len(exp) == 0 {
		return false
	}
	byName := make(map[string]*discoveryv1.EndpointSlice, len(cached))
	for _, s := range cached {
		byName[s.Name] = s
	}
	now := t.now()
	stale := false
	for name, e := range exp {
		s, present := byName[name]
		met := false
		switch {
		case now.Sub(e.at) > trackerTTL:
			met = true
		case e.deleted:
			met = !present
		case present:
			rv, _ := strconv.ParseInt(s.ResourceVersion, 10, 64)
			met = rv >= e.rv
		}
		if met {
			delete(exp, name)
		} else {
			stale = true
		}
	}
	if len(exp) == 0 {
		delete(t.m, svc)
	}
	return stale
}
