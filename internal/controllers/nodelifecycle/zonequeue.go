package nodelifecycle

import (
	"slices"
	"sync"

	"k8s.io/client-go/util/flowcontrol"
)

// zoneQueue holds the nodes of one zone waiting for their NoExecute
// taint, released at the zone's rate.
type zoneQueue struct {
	names   []string
	rate    float64
	limiter flowcontrol.RateLimiter // nil: stopped
}

// tainters rate-limits NoExecute tainting per zone: this is what bounds
// evictions when many nodes fail at once.
type tainters struct {
	mu    sync.Mutex
	zones map[string]*zoneQueue
}

func newTainters() *tainters { return &tainters{zones: map[string]*zoneQueue{}} }

// setRate gives zone a limiter of rate nodes per second (burst 1), keeping
// the current one when the rate is unchanged.
func (t *tainters) setRate(zone string, rate float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.zone(zone)
	if q.limiter != nil && q.rate == rate {
		return
	}
	if q.limiter == nil && rate <= 0 {
		return
	}
	q.rate, q.limiter = rate, nil
	if rate > 0 {
		q.limiter = flowcontrol.NewTokenBucketRateLimiter(float32(rate), 1)
	}
}

func (t *tainters) zone(zone string) *zoneQueue {
	q := t.zones[zone]
	if q == nil {
		q = &zoneQueue{}
		t.zones[zone] = q
	}
	return q
}

// add queues a node unless it is queued already.
func (t *tainters) add(zone, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.zone(zone)
	if !slices.Contains(q.names, name) {
		q.names = append(q.names, name)
	}
}

// remove drops a node from every queue.
func (t *tainters) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, q := range t.zones {
		q.names = slices.DeleteFunc(q.names, func(n string) bool { return n == name })
	}
}

// clear empties every queue.
func (t *tainters) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, q := range t.zones {
		q.names = nil
	}
}

// pop returns the nodes whose turn has come, in queue order per zone.
func (t *tainters) pop() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, q := range t.zones {
		for len(q.names) > 0 && q.limiter != nil && q.limiter.TryAccept() {
			out = append(out, q.names[0])
			q.names = q.names[1:]
		}
	}
	return out
}

// queued reports how many nodes wait (for tests and logs).
func (t *tainters) queued() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, q := range t.zones {
		n += len(q.names)
	}
	return n
}
