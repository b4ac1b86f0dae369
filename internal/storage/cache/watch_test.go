package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/navarch/navarch/internal/storage"
)

var (
	lx = map[string]string{"app": "x"}
	ly = map[string]string{"app": "y"}
)

// sentinel writes a matching object whose event marks the end of a test's
// expected events, so that "nothing delivered" needs no sleep.
func sentinel(f *fakeStore) int64 { return f.put("/cm/zz-sentinel", cm("zz", lx), false) }

func TestPredicateTransitions(t *testing.T) {
	// want.labels is the app label of the delivered object.
	type want = struct {
		typ    watch.EventType
		labels string
	}
	tests := []struct {
		name  string
		setup map[string]string // labels before the watch; nil: absent
		op    func(f *fakeStore) int64
		want  []want
	}{
		{"create matching", nil, func(f *fakeStore) int64 { return f.put("/cm/a", cm("a", lx), false) }, []want{{watch.Added, "x"}}},
		{"create not matching", nil, func(f *fakeStore) int64 { return f.put("/cm/a", cm("a", ly), false) }, nil},
		{"match to match", lx, func(f *fakeStore) int64 {
			return f.put("/cm/a", cm("a", map[string]string{"app": "x", "v": "2"}), false)
		}, []want{{watch.Modified, "x"}}},
		{"no match to match", ly, func(f *fakeStore) int64 { return f.put("/cm/a", cm("a", lx), false) }, []want{{watch.Added, "x"}}},
		{"match to no match", lx, func(f *fakeStore) int64 { return f.put("/cm/a", cm("a", ly), false) }, []want{{watch.Deleted, "x"}}},
		{"no match to no match", ly, func(f *fakeStore) int64 {
			return f.put("/cm/a", cm("a", map[string]string{"app": "y", "v": "2"}), false)
		}, nil},
		{"delete matching", lx, func(f *fakeStore) int64 { return f.del("/cm/a", false) }, []want{{watch.Deleted, "x"}}},
		{"delete not matching", ly, func(f *fakeStore) int64 { return f.del("/cm/a", false) }, nil},
	}
	// A resumed watch is replayed from the window, or from etcd when the
	// window (of one event here) no longer reaches back.
	modes := []struct {
		name   string
		window int
	}{{"window", 1000}, {"etcd", 1}}
	for _, tc := range tests {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				f := newFakeStore()
				if tc.setup != nil {
					f.put("/cm/a", cm("a", tc.setup), false)
				}
				c := startCache(t, f, "/cm/", Options{EventWindow: m.window})
				// The same change must look alike live and replayed.
				live := watchT(t, c, "/cm/", sel(t, "app=x"), WatchOptions{})
				from := c.Revision()
				rev := tc.op(f)
				waitRev(t, c, sentinel(f))
				replayed := watchT(t, c, "/cm/", sel(t, "app=x"), WatchOptions{AfterRev: from})
				for name, w := range map[string]*Watcher{"live": live, "replayed": replayed} {
					checkEvents(t, name, until(t, w, "/cm/zz-sentinel"), tc.want, rev)
				}
			})
		}
	}
}

func checkEvents(t *testing.T, name string, got []Event, want []struct {
	typ    watch.EventType
	labels string
}, rev int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d events %+v, want %v", name, len(got), got, want)
	}
	for i, ev := range got {
		if ev.Type != want[i].typ || ev.Entry.Labels["app"] != want[i].labels {
			t.Errorf("%s: event %d = %s app=%s, want %v", name, i, ev.Type, ev.Entry.Labels["app"], want[i])
		}
		if ev.Rev != rev || ev.Entry.Rev != rev || objRV(t, ev.Entry) != strconv.FormatInt(rev, 10) {
			t.Errorf("%s: event %d revs: event %d entry %d object %s, want %d", name, i, ev.Rev, ev.Entry.Rev, objRV(t, ev.Entry), rev)
		}
	}
}

func TestResumeFromRevision(t *testing.T) {
	tests := []struct {
		name      string
		compact   bool
		wantError bool
	}{
		{"in window", false, false},
		{"older than window, still in etcd", false, false},
		{"older than window, compacted", true, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStore()
			c := startCache(t, f, "/cm/", Options{EventWindow: 3})
			from := f.put("/cm/a", cm("a", lx), false)
			var wantKeys []string
			var last int64
			changes := 2
			if i > 0 {
				changes = 6 // push the start out of the 3-event window
			}
			for j := range changes {
				k := fmt.Sprintf("/cm/k%d", j)
				last = f.put(k, cm(k, lx), false)
				wantKeys = append(wantKeys, k)
			}
			waitRev(t, c, last)
			if tc.compact {
				if err := f.Compact(context.Background(), last); err != nil {
					t.Fatal(err)
				}
			}
			w := watchT(t, c, "/cm/", Predicate{}, WatchOptions{AfterRev: from})
			if tc.wantError {
				evs := drainClosed(t, w)
				if len(evs) != 1 || evs[0].Type != watch.Error || !errors.Is(evs[0].Err, storage.ErrCompacted) {
					t.Fatalf("events = %+v, want one Error wrapping ErrCompacted", evs)
				}
				return
			}
			for _, k := range wantKeys {
				if ev := next(t, w); ev.Type != watch.Added || ev.Entry.Key != k {
					t.Fatalf("got %s %v, want Added %s", ev.Type, ev.Entry, k)
				}
			}
			// Live changes follow the replay.
			f.put("/cm/a", cm("a", ly), false)
			if ev := next(t, w); ev.Type != watch.Modified || ev.Entry.Key != "/cm/a" {
				t.Fatalf("got %s %v, want Modified /cm/a", ev.Type, ev.Entry)
			}
		})
	}
}

func TestSendInitialEvents(t *testing.T) {
	for _, bookmarks := range []bool{true, false} {
		t.Run(fmt.Sprintf("bookmarks=%v", bookmarks), func(t *testing.T) {
			f := newFakeStore()
			f.put("/cm/c", cm("c", lx), false)
			f.put("/cm/a", cm("a", lx), false)
			f.put("/cm/b", cm("b", ly), false)
			c := startCache(t, f, "/cm/", Options{})
			snap := c.Revision()
			w := watchT(t, c, "/cm/", sel(t, "app=x"), WatchOptions{SendInitialEvents: true, Bookmarks: bookmarks})
			for _, k := range []string{"/cm/a", "/cm/c"} {
				if ev := next(t, w); ev.Type != watch.Added || ev.Entry.Key != k {
					t.Fatalf("initial event %s %v, want Added %s", ev.Type, ev.Entry, k)
				}
			}
			live := f.put("/cm/d", cm("d", lx), false)
			if bookmarks {
				ev := next(t, w)
				if ev.Type != watch.Bookmark || !ev.InitialEventsEnd || ev.Rev != snap {
					t.Fatalf("after initial events got %+v, want end bookmark at %d", ev, snap)
				}
			}
			if ev := next(t, w); ev.Type != watch.Added || ev.Entry.Key != "/cm/d" || ev.Rev != live {
				t.Fatalf("live event %+v, want Added /cm/d at %d", ev, live)
			}
		})
	}
}

// TestInitialEventsUnderWrites checks that the snapshot and the live stream
// join without a lost or duplicated event while writes keep coming.
func TestInitialEventsUnderWrites(t *testing.T) {
	f := newFakeStore()
	c := startCache(t, f, "/cm/", Options{WatcherBuffer: 10000})
	const keysN, rounds = 20, 30
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := range rounds {
			for k := range keysN {
				if r%7 == 6 && k%3 == 0 {
					f.del(fmt.Sprintf("/cm/k%d", k), false)
					continue
				}
				f.put(fmt.Sprintf("/cm/k%d", k), cm(strconv.Itoa(r), nil), false)
			}
		}
	}()
	var ws []*Watcher
	for range 5 {
		ws = append(ws, watchT(t, c, "/cm/", Predicate{}, WatchOptions{SendInitialEvents: true, Bookmarks: true}))
	}
	wg.Wait()
	last := sentinel(f)
	waitRev(t, c, last)
	want, _ := c.List("/cm/", Predicate{})
	for i, w := range ws {
		state := map[string]int64{}
		for _, ev := range until(t, w, "/cm/zz-sentinel") {
			prev, seen := state[ev.Entry.Key]
			switch {
			case ev.Rev <= prev:
				t.Fatalf("watcher %d: %s %s at %d after %d (duplicate or out of order)", i, ev.Type, ev.Entry.Key, ev.Rev, prev)
			case ev.Type == watch.Added && seen:
				t.Fatalf("watcher %d: Added %s twice", i, ev.Entry.Key)
			case ev.Type != watch.Added && !seen:
				t.Fatalf("watcher %d: %s for unknown %s", i, ev.Type, ev.Entry.Key)
			}
			if ev.Type == watch.Deleted {
				delete(state, ev.Entry.Key)
				continue
			}
			state[ev.Entry.Key] = ev.Rev
		}
		for _, e := range want {
			if e.Key != "/cm/zz-sentinel" && state[e.Key] != e.Rev {
				t.Errorf("watcher %d: %s at %d, cache has %d", i, e.Key, state[e.Key], e.Rev)
			}
		}
		if len(state) != len(want)-1 {
			t.Errorf("watcher %d tracks %d objects, cache has %d", i, len(state), len(want)-1)
		}
	}
}

func TestPeriodicBookmarks(t *testing.T) {
	f := newFakeStore()
	f.put("/cm/a", cm("a", nil), false)
	c := startCache(t, f, "/cm/", Options{BookmarkInterval: 10 * time.Millisecond})
	with := watchT(t, c, "/cm/", Predicate{}, WatchOptions{Bookmarks: true})
	without := watchT(t, c, "/cm/", Predicate{}, WatchOptions{})
	for range 2 {
		if ev := next(t, with); ev.Type != watch.Bookmark || ev.Rev != c.Revision() || ev.InitialEventsEnd {
			t.Fatalf("got %+v, want plain bookmark at %d", ev, c.Revision())
		}
	}
	// A progress-only advance shows up in the next bookmark.
	rev := f.bumpOther()
	waitRev(t, c, rev)
	for {
		ev := next(t, with)
		if ev.Type != watch.Bookmark {
			t.Fatalf("got %+v, want bookmark", ev)
		}
		if ev.Rev == rev {
			break
		}
	}
	put := f.put("/cm/b", cm("b", nil), false)
	if ev := next(t, without); ev.Type != watch.Added || ev.Rev != put {
		t.Fatalf("watcher without bookmarks got %+v first, want Added at %d", ev, put)
	}
}

func TestSlowWatcherTerminated(t *testing.T) {
	f := newFakeStore()
	c := startCache(t, f, "/cm/", Options{WatcherBuffer: 4})
	slow := watchT(t, c, "/cm/", Predicate{}, WatchOptions{})
	fast := watchT(t, c, "/cm/", Predicate{}, WatchOptions{})
	const n = 50
	for i := range n {
		f.put(fmt.Sprintf("/cm/k%02d", i), cm("k", nil), false)
		// The fast watcher keeps up, so it is never the one terminated.
		if ev := next(t, fast); ev.Entry.Key != fmt.Sprintf("/cm/k%02d", i) {
			t.Fatalf("fast watcher got %v at step %d", ev.Entry.Key, i)
		}
	}
	got := drainClosed(t, slow)
	if len(got) >= n || len(got) == 0 {
		t.Fatalf("slow watcher read %d events before close, want 1..%d", len(got), n-1)
	}
	for i, ev := range got {
		if want := fmt.Sprintf("/cm/k%02d", i); ev.Entry.Key != want {
			t.Fatalf("slow watcher event %d = %s, want %s (in order, no gaps)", i, ev.Entry.Key, want)
		}
	}
}

func TestStopAndContextEndWatch(t *testing.T) {
	f := newFakeStore()
	c := startCache(t, f, "/cm/", Options{})
	stopped := watchT(t, c, "/cm/", Predicate{}, WatchOptions{})
	stopped.Stop()
	drainClosed(t, stopped)

	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.Watch(ctx, "/cm/", Predicate{}, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	drainClosed(t, w)

	c.wmu.Lock()
	n := len(c.watchers)
	c.wmu.Unlock()
	if n != 0 {
		t.Errorf("%d watchers still registered", n)
	}
}

func TestDirectWatchBookmarks(t *testing.T) {
	f := newFakeStore()
	c := startCache(t, f, "/cm/", Options{EventWindow: 1, BookmarkInterval: 10 * time.Millisecond})
	from := f.put("/cm/a", cm("a", nil), false)
	f.put("/cm/b", cm("b", nil), false)
	last := f.del("/cm/a", false)
	waitRev(t, c, last)
	w := watchT(t, c, "/cm/", Predicate{}, WatchOptions{AfterRev: from, Bookmarks: true})
	var got []string
	for {
		ev := next(t, w)
		if ev.Type == watch.Bookmark {
			if ev.Rev > last || ev.Rev < from {
				t.Fatalf("bookmark at %d outside [%d, %d]", ev.Rev, from, last)
			}
			if ev.Rev == last {
				break
			}
			continue
		}
		got = append(got, string(ev.Type)+" "+ev.Entry.Key)
	}
	if want := []string{"ADDED /cm/b", "DELETED /cm/a"}; !equal(got, want) {
		t.Errorf("events before bookmark = %v, want %v", got, want)
	}
}
