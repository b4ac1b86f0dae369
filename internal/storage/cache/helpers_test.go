package cache

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

const testWait = 5 * time.Second

// startCache runs a cache over f and waits until it is ready. Run is
// stopped, and checked to return, when the test ends.
func startCache(t testing.TB, f *fakeStore, prefix string, opts Options) *Cache {
	t.Helper()
	c := New(f, prefix, decodeCM, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(testWait):
			t.Errorf("Run did not return after cancel")
		}
	})
	select {
	case <-c.Ready():
	case <-time.After(testWait):
		t.Fatal("cache never became ready")
	}
	return c
}

// waitRev waits until the cache has applied rev.
func waitRev(t testing.TB, c *Cache, rev int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := c.WaitRev(ctx, rev); err != nil {
		t.Fatalf("WaitRev(%d): %v", rev, err)
	}
}

func watchT(t testing.TB, c *Cache, prefix string, pred Predicate, opts WatchOptions) *Watcher {
	t.Helper()
	w, err := c.Watch(context.Background(), prefix, pred, opts)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	t.Cleanup(w.Stop)
	return w
}

// next returns the next event, failing the test if none arrives in time
// or the channel closes.
func next(t testing.TB, w *Watcher) Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch channel closed unexpectedly")
		}
		return ev
	case <-time.After(testWait):
		t.Fatal("no watch event in time")
	}
	return Event{}
}

// until collects events up to (excluding) the first event for key stop.
func until(t testing.TB, w *Watcher, stop string) []Event {
	t.Helper()
	var out []Event
	for {
		ev := next(t, w)
		if ev.Entry != nil && ev.Entry.Key == stop {
			return out
		}
		if ev.Type == watch.Bookmark {
			continue
		}
		out = append(out, ev)
	}
}

// drainClosed reads until the channel closes and returns what it read.
func drainClosed(t testing.TB, w *Watcher) []Event {
	t.Helper()
	var out []Event
	deadline := time.After(testWait)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return out
			}
			out = append(out, ev)
		case <-deadline:
			t.Fatalf("watch channel not closed; read %d events", len(out))
		}
	}
}

func sel(t testing.TB, s string) Predicate {
	t.Helper()
	l, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return Predicate{Label: l}
}

// objRV returns the resourceVersion stamped on an event's object.
func objRV(t testing.TB, e *Entry) string {
	t.Helper()
	acc, err := meta.Accessor(e.Object)
	if err != nil {
		t.Fatal(err)
	}
	return acc.GetResourceVersion()
}
