package cache

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/fields"

	"github.com/navarch/navarch/internal/storage"
)

func keys(es []*Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListGetAfterEvents(t *testing.T) {
	f := newFakeStore()
	f.put("/cm/ns/a", cm("a", map[string]string{"app": "x"}), false)
	f.put("/cm/ns/b", cm("b", map[string]string{"app": "y"}), false)
	f.put("/other/z", cm("z", nil), false)
	c := startCache(t, f, "/cm/", Options{})

	f.put("/cm/ns/c", cm("c", map[string]string{"app": "x"}), false)
	revA := f.put("/cm/ns/a", cm("a", map[string]string{"app": "y"}), false)
	f.put("/cm/nt/d", cm("d", map[string]string{"app": "x"}), false)
	last := f.del("/cm/ns/b", false)
	waitRev(t, c, last)

	tests := []struct {
		name   string
		prefix string
		pred   Predicate
		want   []string
	}{
		{"all", "/cm/", Predicate{}, []string{"/cm/ns/a", "/cm/ns/c", "/cm/nt/d"}},
		{"namespace", "/cm/ns/", Predicate{}, []string{"/cm/ns/a", "/cm/ns/c"}},
		{"label", "/cm/", sel(t, "app=x"), []string{"/cm/ns/c", "/cm/nt/d"}},
		{"label and namespace", "/cm/ns/", sel(t, "app=x"), []string{"/cm/ns/c"}},
		{"field", "/cm/", Predicate{Field: fields.OneTermEqualSelector("metadata.name", "a")}, []string{"/cm/ns/a"}},
		{"no match", "/cm/", sel(t, "app=none"), []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, rev := c.List(tc.prefix, tc.pred)
			if !equal(keys(got), tc.want) {
				t.Errorf("List = %v, want %v", keys(got), tc.want)
			}
			if rev != last {
				t.Errorf("List revision = %d, want %d", rev, last)
			}
		})
	}

	e, rev, err := c.Get("/cm/ns/a")
	if err != nil || e.Rev != revA || e.Labels["app"] != "y" || rev != last {
		t.Errorf("Get a = %+v rev %d err %v; want rev %d app=y at %d", e, rev, err, revA, last)
	}
	if _, _, err := c.Get("/cm/ns/b"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get deleted b: err = %v, want ErrNotFound", err)
	}
	if _, _, err := c.Get("/other/z"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get outside prefix: err = %v, want ErrNotFound", err)
	}
}

func TestPagedInitialList(t *testing.T) {
	f := newFakeStore()
	const n = listPage + 5
	for i := range n {
		f.data["/cm/"+strconv.Itoa(i)] = storage.KeyValue{Key: "/cm/" + strconv.Itoa(i), Value: cm(strconv.Itoa(i), nil), ModRevision: 1}
	}
	c := startCache(t, f, "/cm/", Options{})
	if got, _ := c.List("/cm/", Predicate{}); len(got) != n {
		t.Fatalf("List after paged load = %d entries, want %d", len(got), n)
	}
	if lists, _ := f.counts(); lists != 2 {
		t.Errorf("list calls = %d, want 2 pages", lists)
	}
}

func TestWaitFreshAdvancesOnProgress(t *testing.T) {
	f := newFakeStore()
	f.put("/cm/a", cm("a", nil), false)
	c := startCache(t, f, "/cm/", Options{})
	// Writes elsewhere move etcd's revision; only progress tells the cache.
	f.bumpOther()
	want := f.bumpOther()
	got, err := c.WaitFresh(context.Background())
	if err != nil {
		t.Fatalf("WaitFresh: %v", err)
	}
	if got != want || c.Revision() < want {
		t.Errorf("WaitFresh = %d, cache rev %d; want %d", got, c.Revision(), want)
	}
	// WaitRev uses the same mechanism for an already reached etcd revision.
	want = f.bumpOther()
	if err := c.WaitRev(context.Background(), want); err != nil || c.Revision() < want {
		t.Errorf("WaitRev(%d) = %v, cache rev %d", want, err, c.Revision())
	}
}

func TestWaitErrors(t *testing.T) {
	f := newFakeStore()
	c := startCache(t, f, "/cm/", Options{FreshTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	cur, _ := f.CurrentRevision(ctx)

	if err := c.WaitRev(ctx, cur+100); !errors.Is(err, storage.ErrFutureRevision) {
		t.Errorf("WaitRev(future) = %v, want ErrFutureRevision", err)
	}
	if _, err := c.Watch(ctx, "/cm/", Predicate{}, WatchOptions{AfterRev: cur + 100}); !errors.Is(err, storage.ErrFutureRevision) {
		t.Errorf("Watch(future) = %v, want ErrFutureRevision", err)
	}

	f.mu.Lock()
	f.noProgress = true
	f.mu.Unlock()
	f.bumpOther()
	if _, err := c.WaitFresh(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("WaitFresh without progress = %v, want ErrUnavailable", err)
	}
	if err := c.WaitRev(ctx, f.bumpOther()); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("WaitRev(reached by etcd, not cache) = %v, want ErrUnavailable", err)
	}
}

func TestRestartAfterWatchError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantRelist bool
	}{
		{"compacted re-lists", storage.ErrCompacted, true},
		{"broken connection resumes", errors.New("connection reset"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStore()
			f.put("/cm/a", cm("a", nil), false)
			f.put("/cm/b", cm("b", nil), false)
			c := startCache(t, f, "/cm/", Options{})
			w := watchT(t, c, "/cm/", Predicate{}, WatchOptions{})
			if tc.wantRelist {
				// Changes the watch never delivers, lost to compaction.
				f.del("/cm/a", true)
				f.put("/cm/c", cm("c", nil), true)
				if err := f.Compact(context.Background(), f.rev); err != nil {
					t.Fatal(err)
				}
			}
			f.failWatches(tc.err)
			last := f.put("/cm/d", cm("d", nil), false)
			waitRev(t, c, last)

			want := []string{"/cm/a", "/cm/b", "/cm/d"}
			if tc.wantRelist {
				want = []string{"/cm/b", "/cm/c", "/cm/d"}
			}
			if got, _ := c.List("/cm/", Predicate{}); !equal(keys(got), want) {
				t.Errorf("List = %v, want %v", keys(got), want)
			}
			lists, _ := f.counts()
			if tc.wantRelist {
				if lists != 2 {
					t.Errorf("list calls = %d, want 2", lists)
				}
				// The old watcher cannot be served consistently: closed.
				drainClosed(t, w)
				return
			}
			if lists != 1 {
				t.Errorf("list calls = %d, want 1", lists)
			}
			if ev := next(t, w); ev.Entry == nil || ev.Entry.Key != "/cm/d" || ev.Rev != last {
				t.Errorf("watcher after resumed watch got %+v, want /cm/d at %d", ev, last)
			}
		})
	}
}

func TestRunStopClosesWatchers(t *testing.T) {
	f := newFakeStore()
	c := New(f, "/cm/", decodeCM, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	<-c.Ready()
	w, err := c.Watch(context.Background(), "/cm/", Predicate{}, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	drainClosed(t, w)
	late, err := c.Watch(context.Background(), "/cm/", Predicate{}, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	drainClosed(t, late)
}
