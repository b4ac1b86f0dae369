package pods

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// startGate bounds how many pods create sandboxes and containers at once,
// serving the oldest pod first. The runtime's work per pod start is mostly
// CPU (runc, the CNI plugins, the shim); with every pod of a burst in
// flight together they all finish late, whereas a short queue lets the
// first pods run while the last wait, which is what a user waiting for
// their pod sees as latency. Image pulls are not gated.
type startGate struct {
	mu      sync.Mutex
	free    int
	waiting waiters
}

func newStartGate(slots int) *startGate { return &startGate{free: slots} }

type waiter struct {
	since time.Time
	ready chan struct{}
	index int
}

// acquire waits for a slot; older pods (since) go first.
func (g *startGate) acquire(ctx context.Context, since time.Time) (func(), error) {
	g.mu.Lock()
	if g.free > 0 && len(g.waiting) == 0 {
		g.free--
		g.mu.Unlock()
		return g.release, nil
	}
	w := &waiter{since: since, ready: make(chan struct{})}
	heap.Push(&g.waiting, w)
	g.mu.Unlock()
	select {
	case <-w.ready:
		return g.release, nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		select {
		case <-w.ready:
			// Granted just now: hand the slot on.
			g.releaseLocked()
		default:
			heap.Remove(&g.waiting, w.index)
		}
		return nil, ctx.Err()
	}
}

func (g *startGate) release() {
	g.mu.Lock()
	g.releaseLocked()
	g.mu.Unlock()
}

func (g *startGate) releaseLocked() {
	if len(g.waiting) > 0 {
		w := heap.Pop(&g.waiting).(*waiter)
		close(w.ready)
		return
	}
	g.free++
}

// waiters is a min-heap by since.
type waiters []*waiter

func (h waiters) Len() int           { return len(h) }
func (h waiters) Less(i, j int) bool { return h[i].since.Before(h[j].since) }
func (h waiters) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waiters) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waiters) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}
