package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// recorder is a SyncFunc that remembers when each key was synced and
// answers from a script of results.
type recorder struct {
	mu     sync.Mutex
	calls  map[string][]time.Time
	script func(key string, n int) (Result, error)
	seen   chan string
}

func newRecorder(script func(key string, n int) (Result, error)) *recorder {
	return &recorder{calls: map[string][]time.Time{}, script: script, seen: make(chan string, 100)}
}

func (r *recorder) sync(_ context.Context, key string) (Result, error) {
	r.mu.Lock()
	r.calls[key] = append(r.calls[key], time.Now())
	n := len(r.calls[key])
	r.mu.Unlock()
	res, err := r.script(key, n)
	r.seen <- key
	return res, err
}

func (r *recorder) times(key string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.calls[key]...)
}

// waitCalls waits until key was synced n times, failing after timeout.
func (r *recorder) waitCalls(t *testing.T, key string, n int, timeout time.Duration) []time.Time {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := r.times(key); len(got) >= n {
			return got
		}
		select {
		case <-r.seen:
		case <-deadline:
			t.Fatalf("key %q synced %d times within %v, want %d", key, len(r.times(key)), timeout, n)
		}
	}
}

func runLoop(t *testing.T, l *Loop) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return cancel
}

var errTransient = errors.New("transient")

func TestLoopRetriesWithBackoff(t *testing.T) {
	const failures = 5
	r := newRecorder(func(_ string, n int) (Result, error) {
		if n <= failures {
			return Result{}, errTransient
		}
		return Result{}, nil
	})
	l := NewLoop("retry", 1, r.sync, nil)
	runLoop(t, l)
	l.Add("ns/a")
	calls := r.waitCalls(t, "ns/a", failures+1, 10*time.Second)
	// The default limiter doubles a per-key delay from 5 ms, so the last
	// retry waits at least 5 ms * 2^(failures-1).
	gaps := make([]time.Duration, 0, len(calls)-1)
	for i := 1; i < len(calls); i++ {
		gaps = append(gaps, calls[i].Sub(calls[i-1]))
	}
	if want := 5 * time.Millisecond * (1 << (failures - 1)); gaps[len(gaps)-1] < want {
		t.Errorf("last retry came after %v, want at least %v (exponential back-off); gaps %v", gaps[len(gaps)-1], want, gaps)
	}
	// After a success the key is not retried and its back-off is
	// forgotten.
	assertQuiet(t, r, "ns/a", failures+1, 50*time.Millisecond)
	if n := l.queue.NumRequeues("ns/a"); n != 0 {
		t.Errorf("requeues after success = %d, want 0 (forgotten)", n)
	}
}

// assertQuiet checks that key is not synced again beyond n calls for d.
func assertQuiet(t *testing.T, r *recorder, key string, n int, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case <-r.seen:
			if got := len(r.times(key)); got > n {
				t.Fatalf("key %q synced %d times, want %d", key, got, n)
			}
		case <-deadline:
			return
		}
	}
}

func TestLoopTerminalErrorIsNotRetried(t *testing.T) {
	r := newRecorder(func(string, int) (Result, error) {
		return Result{}, Terminal(errors.New("bad spec"))
	})
	l := NewLoop("terminal", 2, r.sync, nil)
	runLoop(t, l)
	l.Add("x")
	r.waitCalls(t, "x", 1, 5*time.Second)
	assertQuiet(t, r, "x", 1, 300*time.Millisecond)
	if n := l.queue.NumRequeues("x"); n != 0 {
		t.Errorf("requeues = %d, want 0", n)
	}
	// A new event for the key syncs it again.
	l.Add("x")
	r.waitCalls(t, "x", 2, 5*time.Second)
}

func TestTerminalUnwraps(t *testing.T) {
	base := errors.New("root cause")
	err := Terminal(base)
	if !errors.Is(err, base) {
		t.Errorf("errors.Is(Terminal(err), err) = false")
	}
	if err.Error() != "root cause" {
		t.Errorf("message %q", err.Error())
	}
	if !IsTerminal(err) || IsTerminal(base) {
		t.Errorf("IsTerminal wrong")
	}
}

func TestLoopRequeueAfter(t *testing.T) {
	const delay = 150 * time.Millisecond
	r := newRecorder(func(_ string, n int) (Result, error) {
		if n == 1 {
			return Result{RequeueAfter: delay}, nil
		}
		return Result{}, nil
	})
	l := NewLoop("requeue", 1, r.sync, nil)
	runLoop(t, l)
	l.Add("k")
	calls := r.waitCalls(t, "k", 2, 5*time.Second)
	if gap := calls[1].Sub(calls[0]); gap < delay {
		t.Errorf("requeued after %v, want at least %v", gap, delay)
	}
	assertQuiet(t, r, "k", 2, 2*delay)
}

func TestLoopDeduplicatesAndSerializesKeys(t *testing.T) {
	var mu sync.Mutex
	running := map[string]bool{}
	overlap := false
	release := make(chan struct{})
	r := newRecorder(func(key string, n int) (Result, error) {
		mu.Lock()
		if running[key] {
			overlap = true
		}
		running[key] = true
		mu.Unlock()
		if n == 1 {
			<-release
		}
		mu.Lock()
		running[key] = false
		mu.Unlock()
		return Result{}, nil
	})
	l := NewLoop("dedup", 4, r.sync, nil)
	runLoop(t, l)
	l.Add("k")
	r.waitStarted(t)
	// Three adds while the key is being processed collapse into one
	// more sync, run after the first finishes, never concurrently.
	l.Add("k")
	l.Add("k")
	l.Add("k")
	close(release)
	r.waitCalls(t, "k", 2, 5*time.Second)
	assertQuiet(t, r, "k", 2, 200*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if overlap {
		t.Error("one key was synced by two workers at once")
	}
}

// waitStarted waits for the first sync to have begun.
func (r *recorder) waitStarted(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		n := len(r.calls)
		r.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond) // polling, not waiting for an outcome
	}
	t.Fatal("no sync started")
}

func TestLoopEnqueueKeys(t *testing.T) {
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}}
	cluster := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
	tomb := cache.DeletedFinalStateUnknown{Key: "ns/gone", Obj: obj}
	tests := []struct {
		name string
		obj  any
		want string
	}{
		{"namespaced", obj, "ns/a"},
		{"cluster-scoped", cluster, "node-1"},
		{"tombstone", tomb, "ns/gone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLoop("keys", 1, nil, nil)
			defer l.queue.ShutDown()
			l.Enqueue(tc.obj)
			if l.Len() != 1 {
				t.Fatalf("queue length %d, want 1", l.Len())
			}
			if got, _ := l.queue.Get(); got != tc.want {
				t.Errorf("key %q, want %q", got, tc.want)
			}
		})
	}
	l := NewLoop("keys", 1, nil, nil)
	defer l.queue.ShutDown()
	l.Enqueue("not an object")
	if l.Len() != 0 {
		t.Errorf("an object without metadata was enqueued")
	}
	if _, err := meta.Accessor(obj); err != nil {
		t.Fatal(err)
	}
}

func TestLoopRunFailsWhenCachesNeverSync(t *testing.T) {
	l := NewLoop("unsynced", 1, func(context.Context, string) (Result, error) { return Result{}, nil }, nil)
	l.WaitFor(func() bool { return false })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := l.Run(ctx); err == nil {
		t.Fatal("Run returned nil although its caches never synced")
	}
}

func TestLoopStopsWorkersOnCancel(t *testing.T) {
	r := newRecorder(func(string, int) (Result, error) { return Result{}, nil })
	l := NewLoop("stop", 2, r.sync, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	l.Add("a")
	r.waitCalls(t, "a", 1, 5*time.Second)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !l.queue.ShuttingDown() {
		t.Error("queue not shut down after Run returned")
	}
}

func TestLoopCustomRateLimiter(t *testing.T) {
	r := newRecorder(func(_ string, n int) (Result, error) {
		if n < 3 {
			return Result{}, errTransient
		}
		return Result{}, nil
	})
	const delay = 100 * time.Millisecond
	rl := workqueue.NewTypedItemExponentialFailureRateLimiter[string](delay, delay)
	l := NewLoopWithRateLimiter("custom", 1, r.sync, nil, rl)
	runLoop(t, l)
	l.Add("k")
	calls := r.waitCalls(t, "k", 3, 5*time.Second)
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].Sub(calls[i-1]); gap < delay {
			t.Errorf("retry %d after %v, want at least the limiter's %v", i, gap, delay)
		}
	}
}
