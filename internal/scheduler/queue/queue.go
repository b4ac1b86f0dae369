package queue

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// ErrClosed is returned by Pop after Close.
var ErrClosed = errors.New("scheduling queue is closed")

// Upstream's intervals.
const (
	// unschedulableTimeout: a pod left unschedulable this long is retried
	// even without an event.
	unschedulableTimeout = 5 * time.Minute
	backoffFlushInterval = time.Second
	leftoverInterval     = 30 * time.Second
)

// Options configure the queue.
type Options struct {
	// Less orders the active heap (the QueueSort plugin).
	Less func(a, b *framework.QueuedPodInfo) bool
	// InitialBackoff and MaxBackoff bound the back-off of failed pods.
	InitialBackoff, MaxBackoff time.Duration
	// Events maps plugin names to the events that may help pods they
	// rejected.
	Events    map[string][]framework.ClusterEvent
	Nominator *Nominator
	// Now is the clock (tests).
	Now func() time.Time
}

// Queue is the scheduling queue. It is safe for concurrent use.
type Queue struct {
	mu            sync.Mutex
	cond          *sync.Cond
	opts          Options
	active        *keyedHeap
	backoff       *keyedHeap
	unschedulable map[string]*framework.QueuedPodInfo
	// gated pods have scheduling gates: only their own update can free them.
	gated map[string]*framework.QueuedPodInfo
	// schedulingCycle counts Pops; moveRequestCycle is the cycle of the
	// last move request, so that a pod failing while the cluster changed
	// backs off instead of waiting for another event.
	schedulingCycle, moveRequestCycle int64
	closed                            bool
}

// New returns an empty queue.
func New(opts Options) *Queue {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Nominator == nil {
		opts.Nominator = NewNominator()
	}
	q := &Queue{opts: opts, active: newHeap(opts.Less), unschedulable: map[string]*framework.QueuedPodInfo{},
		gated: map[string]*framework.QueuedPodInfo{}}
	q.backoff = newHeap(func(a, b *framework.QueuedPodInfo) bool { return q.backoffExpiry(a).Before(q.backoffExpiry(b)) })
	q.cond = sync.NewCond(&q.mu)
	return q
}

func key(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }

// Nominator returns the queue's nominator.
func (q *Queue) Nominator() *Nominator { return q.opts.Nominator }

// Run flushes expired back-offs every second and long-unschedulable pods
// every 30 seconds until ctx ends, then closes the queue.
func (q *Queue) Run(ctx context.Context) {
	backoff, leftover := time.NewTicker(backoffFlushInterval), time.NewTicker(leftoverInterval)
	defer backoff.Stop()
	defer leftover.Stop()
	for {
		select {
		case <-ctx.Done():
			q.Close()
			return
		case <-backoff.C:
			q.FlushBackoffCompleted()
		case <-leftover.C:
			q.FlushUnschedulableLeftover()
		}
	}
}

// Close wakes Pop callers with ErrClosed.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

func (q *Queue) newQueued(pi *framework.PodInfo) *framework.QueuedPodInfo {
	return &framework.QueuedPodInfo{PodInfo: pi, Timestamp: q.opts.Now()}
}

// Add queues a new pending pod.
func (q *Queue) Add(pi *framework.PodInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := key(pi.Pod)
	delete(q.unschedulable, k)
	q.backoff.Delete(k)
	delete(q.gated, k)
	qp := q.newQueued(pi)
	q.opts.Nominator.Add(pi, "")
	if len(pi.Pod.Spec.SchedulingGates) > 0 {
		q.gated[k] = qp
		return
	}
	q.active.AddOrUpdate(qp)
	q.cond.Broadcast()
}

// Update applies a change of a pending pod. A pod waiting for an event
// retries at once when its spec or labels changed (status-only changes,
// such as the scheduler's own condition, do not count).
func (q *Queue) Update(old, cur *framework.PodInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := key(cur.Pod)
	if old != nil {
		q.opts.Nominator.Update(old, cur)
	} else {
		q.opts.Nominator.Add(cur, "")
	}
	if qp, ok := q.active.Get(k); ok {
		qp.PodInfo = cur
		q.active.AddOrUpdate(qp)
		return
	}
	if qp, ok := q.backoff.Get(k); ok {
		qp.PodInfo = cur
		q.backoff.AddOrUpdate(qp)
		return
	}
	if qp, ok := q.gated[k]; ok {
		qp.PodInfo = cur
		if len(cur.Pod.Spec.SchedulingGates) == 0 {
			delete(q.gated, k)
			q.active.AddOrUpdate(qp)
			q.cond.Broadcast()
		}
		return
	}
	if qp, ok := q.unschedulable[k]; ok {
		changed := old == nil || specChanged(old.Pod, cur.Pod)
		qp.PodInfo = cur
		if changed {
			delete(q.unschedulable, k)
			q.requeue(qp)
		}
		return
	}
	// Not queued: in flight, or its failure is not recorded yet. Adding
	// it is harmless: the scheduler skips pods already assumed or bound.
	q.active.AddOrUpdate(q.newQueued(cur))
	q.cond.Broadcast()
}

// specChanged ignores status and bookkeeping fields.
func specChanged(old, cur *corev1.Pod) bool {
	if !maps.Equal(old.Labels, cur.Labels) || !maps.Equal(old.Annotations, cur.Annotations) {
		return true
	}
	return !reflect.DeepEqual(old.Spec, cur.Spec)
}

// Delete removes a pod from the queue.
func (q *Queue) Delete(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := key(pod)
	q.active.Delete(k)
	q.backoff.Delete(k)
	delete(q.unschedulable, k)
	delete(q.gated, k)
	q.opts.Nominator.Delete(pod.UID)
}

// Pop blocks until a pod is active and returns it, or until ctx ends or
// the queue is closed.
func (q *Queue) Pop(ctx context.Context) (*framework.QueuedPodInfo, error) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.cond.Broadcast()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 {
		if q.closed {
			return nil, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.cond.Wait()
	}
	qp := q.active.PopTop()
	q.schedulingCycle++
	qp.Attempts++
	if qp.InitialAttemptTimestamp == nil {
		t := q.opts.Now()
		qp.InitialAttemptTimestamp = &t
	}
	return qp, nil
}

// SchedulingCycle is the number of Pops so far.
func (q *Queue) SchedulingCycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.schedulingCycle
}

// AddUnschedulableIfNotPresent puts back a pod whose attempt in cycle
// failed. Pods rejected by plugins wait for an event, unless the cluster
// changed during their attempt; pods that failed on an error back off.
func (q *Queue) AddUnschedulableIfNotPresent(qp *framework.QueuedPodInfo, cycle int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := key(qp.Pod)
	if _, ok := q.active.Get(k); ok {
		return
	}
	if _, ok := q.backoff.Get(k); ok {
		return
	}
	if _, ok := q.unschedulable[k]; ok {
		return
	}
	qp.Timestamp = q.opts.Now()
	q.opts.Nominator.Add(qp.PodInfo, q.opts.Nominator.NominatedNode(qp.Pod.UID))
	if len(qp.UnschedulablePlugins) == 0 || q.moveRequestCycle >= cycle {
		q.backoff.AddOrUpdate(qp)
		return
	}
	q.unschedulable[k] = qp
}

// requeue sends a pod to back-off if it is still backing off, else to
// the active heap. q.mu must be held.
func (q *Queue) requeue(qp *framework.QueuedPodInfo) {
	if q.backoffExpiry(qp).After(q.opts.Now()) {
		q.backoff.AddOrUpdate(qp)
		return
	}
	q.active.AddOrUpdate(qp)
	q.cond.Broadcast()
}

// MoveAllToActiveOrBackoff retries the unschedulable pods the event may
// help: those rejected by a plugin that registered it, and those no plugin
// rejected. preCheck, when set, must also accept the pod.
func (q *Queue) MoveAllToActiveOrBackoff(event framework.ClusterEvent, preCheck func(*corev1.Pod) bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveRequestCycle = q.schedulingCycle
	if len(q.unschedulable) == 0 {
		return
	}
	for k, qp := range q.unschedulable {
		if !q.helps(qp, event) || preCheck != nil && !preCheck(qp.Pod) {
			continue
		}
		delete(q.unschedulable, k)
		q.requeue(qp)
	}
}

func (q *Queue) helps(qp *framework.QueuedPodInfo, event framework.ClusterEvent) bool {
	if event.Label == framework.EventUnschedulableTimeout.Label || event.Label == framework.EventForceActivate.Label ||
		len(qp.UnschedulablePlugins) == 0 {
		return true
	}
	for pl := range qp.UnschedulablePlugins {
		for _, ev := range q.opts.Events[pl] {
			if ev.Match(event) {
				return true
			}
		}
	}
	return false
}

// FlushBackoffCompleted moves pods whose back-off expired to active.
func (q *Queue) FlushBackoffCompleted() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	moved := false
	for {
		top := q.backoff.Peek()
		if top == nil || q.backoffExpiry(top).After(now) {
			break
		}
		q.backoff.PopTop()
		q.active.AddOrUpdate(top)
		moved = true
	}
	if moved {
		q.cond.Broadcast()
	}
}

// FlushUnschedulableLeftover retries pods unschedulable for too long.
func (q *Queue) FlushUnschedulableLeftover() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	for k, qp := range q.unschedulable {
		if now.Sub(qp.Timestamp) > unschedulableTimeout {
			delete(q.unschedulable, k)
			q.requeue(qp)
		}
	}
}

// backoffExpiry is when a pod's back-off ends: InitialBackoff doubled per
// attempt beyond the first, capped at MaxBackoff.
func (q *Queue) backoffExpiry(qp *framework.QueuedPodInfo) time.Time {
	d := q.opts.InitialBackoff
	for i := 1; i < qp.Attempts && d < q.opts.MaxBackoff; i++ {
		d *= 2
	}
	return qp.Timestamp.Add(min(d, q.opts.MaxBackoff))
}

// Lengths returns the sizes of the active heap, the back-off heap, the
// unschedulable pool and the gated pool.
func (q *Queue) Lengths() (active, backoff, unschedulable, gated int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len(), len(q.unschedulable), len(q.gated)
}
