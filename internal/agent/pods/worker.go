package pods

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/volumes"
)

// worker owns one pod: every decision about its sandbox and containers is
// made in its goroutine, so they never race with each other.
type worker struct {
	m   *Manager
	uid types.UID
	// created orders pods at the start gate: first seen, first started.
	created time.Time

	mu     sync.Mutex
	pod    *corev1.Pod
	gone   bool // the API object is deleted
	wakeCh chan struct{}
	done   chan struct{}

	// Owned by the worker goroutine.
	waiting    map[string]waitReason
	backoff    map[string]*crashBackoff
	sent       *corev1.PodStatus
	lastState  *cri.PodState
	sandboxIPs map[string][]string
	startTime  time.Time
	terminated bool // containers stopped for good (terminal phase or deletion)
	// terminalReason is the pod's reason and message once it failed on
	// the node (DeadlineExceeded).
	terminalReason waitReason
	eventsSeen     map[string]time.Time
	statusMu       sync.Mutex // guards sent for readers outside the goroutine
}

// waitReason is why a container is not running now.
type waitReason struct{ reason, message string }

func newWorker(m *Manager, uid types.UID) *worker {
	return &worker{m: m, uid: uid, created: time.Now(), wakeCh: make(chan struct{}, 1), done: make(chan struct{}),
		waiting: map[string]waitReason{}, backoff: map[string]*crashBackoff{}, sandboxIPs: map[string][]string{}, eventsSeen: map[string]time.Time{}}
}

// update hands the worker a newer pod object (or its deletion).
func (w *worker) update(pod *corev1.Pod, gone bool) {
	w.mu.Lock()
	old := w.pod
	w.pod, w.gone = pod, w.gone || gone
	w.mu.Unlock()
	// A deletion that became more urgent (shorter grace, or a forced
	// removal) must not wait for a kill in progress to time out.
	if old != nil && old.DeletionTimestamp != nil && (gone || shorterGrace(pod, old)) && w.m.ctx != nil {
		go w.m.hurry(w.m.ctx, w.uid)
	}
	w.poke()
}

func shorterGrace(pod, old *corev1.Pod) bool {
	return pod.DeletionGracePeriodSeconds != nil && old.DeletionGracePeriodSeconds != nil &&
		*pod.DeletionGracePeriodSeconds < *old.DeletionGracePeriodSeconds
}

func (w *worker) poke() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

func (w *worker) current() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

func (w *worker) snapshot() (*corev1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.gone
}

// run syncs the pod whenever something changes, or when a timer it asked
// for fires, until the pod is gone and cleaned up.
func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	defer w.m.workerDone(w.uid, w)
	if !cache.WaitForCacheSync(ctx.Done(), w.m.synced...) {
		return
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		requeue, finished := w.sync(ctx)
		if finished || ctx.Err() != nil {
			return
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if requeue <= 0 {
			requeue = time.Hour
		}
		timer.Reset(requeue)
		select {
		case <-ctx.Done():
			return
		case <-w.wakeCh:
		case <-timer.C:
		}
	}
}

// runtimeRetry is the pause after the runtime failed to answer.
const runtimeRetry = time.Second

// sync makes one pass of decisions. It returns when to look again (0:
// only when something changes) and whether the worker is finished.
func (w *worker) sync(ctx context.Context) (time.Duration, bool) {
	pod, gone := w.snapshot()
	state, err := w.m.podState(ctx, w.uid)
	if err != nil {
		if ctx.Err() == nil {
			w.m.log.Warn("runtime state", "pod", podKey(pod), "err", err)
		}
		return runtimeRetry, false
	}
	w.lastState = state
	switch {
	case gone:
		return w.remove(ctx, pod, state, false)
	case pod.DeletionTimestamp != nil:
		return w.remove(ctx, pod, state, true)
	case w.terminated || isTerminal(pod.Status.Phase):
		return w.stayTerminated(ctx, pod, state)
	}
	return w.syncRunning(ctx, pod, state)
}

func isTerminal(p corev1.PodPhase) bool { return p == corev1.PodSucceeded || p == corev1.PodFailed }

func podKey(pod *corev1.Pod) string {
	if pod == nil {
		return ""
	}
	return pod.Namespace + "/" + pod.Name
}

// syncRunning drives a live pod towards its spec.
func (w *worker) syncRunning(ctx context.Context, pod *corev1.Pod, state *cri.PodState) (time.Duration, bool) {
	if w.startTime.IsZero() {
		w.startTime = time.Now()
		if pod.Status.StartTime != nil {
			w.startTime = pod.Status.StartTime.Time
		}
	}
	if d := activeDeadline(pod, w.startTime); d != nil && *d <= 0 {
		return w.deadlineExceeded(ctx, pod, state)
	}
	r := &round{w: w, pod: pod, state: state}
	requeue := r.drive(ctx)
	if d := activeDeadline(pod, w.startTime); d != nil {
		requeue = minPositive(requeue, *d)
	}
	st := w.status(ctx, pod, r)
	if err := w.send(ctx, pod, st); err != nil {
		// The API is unreachable or refused: try again, not in a loop.
		requeue = minPositive(requeue, time.Second)
	}
	if isTerminal(st.Phase) {
		w.terminated = true
		w.poke()
	}
	w.m.probes.Sync(pod, probedContainers(pod), r.targets)
	return requeue, false
}

// round is the state of one sync pass of a live pod.
type round struct {
	w     *worker
	pod   *corev1.Pod
	state *cri.PodState

	sandbox     *runtimeapi.PodSandbox
	sandboxCfg  *runtimeapi.PodSandboxConfig
	podIPs      []string
	mounts      map[string]volumes.Mount
	initDone    bool
	initFailed  bool // an init container failed and will not be retried
	initPending []string
	targets     map[string]probesTarget
	// sandboxReady is false while the sandbox is being created or failed.
	sandboxReady bool
	// changed says a container was created or started in this pass, so
	// the status needs a fresh look at the runtime.
	changed bool
}

// drive runs the pod's steps in order, each one only once the previous is
// complete, and returns when to look again.
func (r *round) drive(ctx context.Context) time.Duration {
	if wait, ok := r.network(); !ok {
		return wait
	}
	if wait, ok := r.setupVolumes(); !ok {
		return wait
	}
	if wait, ok := r.ensureSandbox(ctx); !ok {
		return wait
	}
	wait, ok := r.syncInit(ctx)
	if !ok {
		return wait
	}
	r.initDone = true
	return minPositive(wait, r.syncApps(ctx))
}

func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

// activeDeadline is the time left before activeDeadlineSeconds (nil when
// there is none).
func activeDeadline(pod *corev1.Pod, start time.Time) *time.Duration {
	if pod.Spec.ActiveDeadlineSeconds == nil {
		return nil
	}
	d := time.Until(start.Add(time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second))
	return &d
}
