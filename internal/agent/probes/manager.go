package probes

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Kind is the probe's role.
type Kind string

// The three probe kinds, with the capitalised names events use.
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// Result is a probe's current verdict.
type Result int

// Results. Unknown is "not decided yet".
const (
	Unknown Result = iota
	Success
	Failure
)

type key struct {
	uid       types.UID
	container string
	kind      Kind
}

// Manager runs one worker per probed container and probe kind.
type Manager struct {
	ctx    context.Context
	cancel context.CancelFunc
	runner *Runner
	// OnChange is called (from a worker goroutine) when a result changes.
	OnChange func(uid types.UID)
	// OnFailure is called for every failed attempt, for the Unhealthy
	// event.
	OnFailure func(pod *corev1.Pod, container string, kind Kind, output string)

	mu      sync.Mutex
	workers map[key]*worker
	results map[key]Result
}

// NewManager returns a Manager running probes with r.
func NewManager(r *Runner) *Manager {
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{ctx: ctx, cancel: cancel, runner: r, workers: map[key]*worker{}, results: map[key]Result{}}
}

// Stop ends every probe worker (the agent is stopping).
func (m *Manager) Stop() { m.cancel() }

// Get returns the result for a container's probe of kind. A container
// without such a probe is Success for every kind.
func (m *Manager) Get(uid types.UID, container string, kind Kind) Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := key{uid, container, kind}
	if _, ok := m.workers[k]; !ok {
		if r, ok := m.results[k]; ok {
			return r
		}
		return Success
	}
	return m.results[k]
}

func (m *Manager) set(k key, r Result) {
	m.mu.Lock()
	old, had := m.results[k]
	m.results[k] = r
	m.mu.Unlock()
	if (!had || old != r) && m.OnChange != nil {
		m.OnChange(k.uid)
	}
}

// Sync makes the probe workers match the pod's running containers
// (targets by container name). A new container instance restarts its
// probes from scratch.
func (m *Manager) Sync(pod *corev1.Pod, probed []*corev1.Container, targets map[string]Target) {
	want := map[key]bool{}
	for _, c := range probed {
		t, running := targets[c.Name]
		if !running {
			continue
		}
		for _, kp := range []struct {
			kind Kind
			p    *corev1.Probe
		}{{Startup, c.StartupProbe}, {Liveness, c.LivenessProbe}, {Readiness, c.ReadinessProbe}} {
			kind, p := kp.kind, kp.p
			if p == nil {
				continue
			}
			k := key{pod.UID, c.Name, kind}
			want[k] = true
			m.ensure(k, pod, c, p, t)
		}
	}
	m.mu.Lock()
	var stop []*worker
	for k, w := range m.workers {
		if k.uid == pod.UID && !want[k] {
			stop = append(stop, w)
			delete(m.workers, k)
			delete(m.results, k)
		}
	}
	m.mu.Unlock()
	for _, w := range stop {
		w.cancel()
	}
}

func (m *Manager) ensure(k key, pod *corev1.Pod, c *corev1.Container, p *corev1.Probe, t Target) {
	t.Container = c
	m.mu.Lock()
	if w, ok := m.workers[k]; ok {
		if w.target.ContainerID == t.ContainerID {
			w.pod = pod
			m.mu.Unlock()
			return
		}
		w.cancel()
	}
	ctx, cancel := context.WithCancel(m.ctx)
	w := &worker{m: m, key: k, pod: pod, probe: p, target: t, cancel: cancel}
	m.workers[k] = w
	initial := Unknown
	switch k.kind {
	case Liveness:
		initial = Success
	case Readiness:
		initial = Failure
	}
	m.results[k] = initial
	m.mu.Unlock()
	go w.run(ctx)
}

// Remove stops every probe of a pod.
func (m *Manager) Remove(uid types.UID) {
	m.mu.Lock()
	var stop []*worker
	for k, w := range m.workers {
		if k.uid == uid {
			stop = append(stop, w)
			delete(m.workers, k)
		}
	}
	for k := range m.results {
		if k.uid == uid {
			delete(m.results, k)
		}
	}
	m.mu.Unlock()
	for _, w := range stop {
		w.cancel()
	}
}

type worker struct {
	m      *Manager
	key    key
	pod    *corev1.Pod
	probe  *corev1.Probe
	target Target
	cancel context.CancelFunc
}

func (w *worker) run(ctx context.Context) {
	p := w.probe
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	succ, fail := max(p.SuccessThreshold, 1), max(p.FailureThreshold, 1)
	if !w.wait(ctx, time.Duration(p.InitialDelaySeconds)*time.Second) {
		return
	}
	var okRun, failRun int32
	for {
		// Liveness and readiness wait for the startup probe, if any.
		if w.key.kind == Startup || w.target.Container.StartupProbe == nil || w.m.Get(w.key.uid, w.key.container, Startup) == Success {
			ok, out := w.m.runner.Run(ctx, p, w.target)
			if ctx.Err() != nil {
				return
			}
			switch {
			case out == ErrUnknown:
				// Neither: the counts stay as they are.
			case ok:
				okRun, failRun = okRun+1, 0
			default:
				okRun, failRun = 0, failRun+1
				if w.m.OnFailure != nil {
					w.m.mu.Lock()
					pod := w.pod
					w.m.mu.Unlock()
					w.m.OnFailure(pod, w.key.container, w.key.kind, out)
				}
			}
			switch {
			case okRun >= succ:
				w.m.set(w.key, Success)
				if w.key.kind == Startup {
					return // a started container stays started
				}
			case failRun >= fail:
				w.m.set(w.key, Failure)
				if w.key.kind != Readiness {
					return // the container gets restarted: a new worker probes it
				}
			}
		}
		if !w.wait(ctx, period) {
			return
		}
	}
}

func (w *worker) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
