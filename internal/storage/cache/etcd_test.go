package cache

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/navarch/navarch/internal/storage"
)

// TestWithEmbeddedEtcd runs the cache against the real etcd storage:
// initial events, live changes with PrevValue-based deletes, progress-driven
// freshness on an idle prefix, and a too-old resume after compaction.
func TestWithEmbeddedEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	emb, err := storage.StartEmbedded(ctx, storage.EmbeddedConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	s := emb.Storage()

	mustCreate := func(key string, l map[string]string) storage.KeyValue {
		t.Helper()
		kv, err := s.Create(ctx, key, cm(key, l))
		if err != nil {
			t.Fatalf("create %s: %v", key, err)
		}
		return kv
	}
	mustCreate("/cm/ns/a", lx)
	mustCreate("/cm/ns/b", ly)

	c := New(s, "/cm/", decodeCM, Options{EventWindow: 2})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	<-c.Ready()

	w := watchT(t, c, "/cm/", sel(t, "app=x"), WatchOptions{SendInitialEvents: true, Bookmarks: true})
	if ev := next(t, w); ev.Type != watch.Added || ev.Entry.Key != "/cm/ns/a" {
		t.Fatalf("initial event %+v, want Added a", ev)
	}
	if ev := next(t, w); ev.Type != watch.Bookmark || !ev.InitialEventsEnd {
		t.Fatalf("got %+v, want initial-events-end bookmark", ev)
	}
	from := c.Revision()

	b := mustCreate("/cm/ns/c", lx)
	kvB, err := s.Get(ctx, "/cm/ns/b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "/cm/ns/b", cm("b", lx), kvB.ModRevision); err != nil {
		t.Fatalf("update b: %v", err)
	}
	del, err := s.Delete(ctx, "/cm/ns/a", 0)
	if err != nil {
		t.Fatalf("delete a: %v", err)
	}
	wantEvents := []struct {
		typ watch.EventType
		key string
	}{{watch.Added, "/cm/ns/c"}, {watch.Added, "/cm/ns/b"}, {watch.Deleted, "/cm/ns/a"}}
	for _, want := range wantEvents {
		ev := next(t, w)
		if ev.Type != want.typ || ev.Entry.Key != want.key {
			t.Fatalf("got %s %s, want %s %s", ev.Type, ev.Entry.Key, want.typ, want.key)
		}
		if ev.Type == watch.Deleted && (ev.Rev != del.ModRevision || objRV(t, ev.Entry) != strconv.FormatInt(del.ModRevision, 10)) {
			t.Errorf("delete event at %d, object rv %s; want %d", ev.Rev, objRV(t, ev.Entry), del.ModRevision)
		}
	}
	if b.ModRevision <= from {
		t.Errorf("create revision %d not after watch start %d", b.ModRevision, from)
	}

	// A write elsewhere: only a progress notification can tell the cache.
	other, err := s.Create(ctx, "/other/x", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := c.WaitFresh(ctx)
	if err != nil || fresh < other.ModRevision || c.Revision() < other.ModRevision {
		t.Fatalf("WaitFresh = %d, %v; cache rev %d; want >= %d", fresh, err, c.Revision(), other.ModRevision)
	}

	// The window holds 2 events, so resuming from before them goes to
	// etcd, which has compacted that history away.
	if err := s.Compact(ctx, del.ModRevision); err != nil {
		t.Fatalf("compact: %v", err)
	}
	old := watchT(t, c, "/cm/", Predicate{}, WatchOptions{AfterRev: from})
	evs := drainClosed(t, old)
	if len(evs) != 1 || evs[0].Type != watch.Error || !errors.Is(evs[0].Err, storage.ErrCompacted) {
		t.Fatalf("too-old watch got %+v, want one Error wrapping ErrCompacted", evs)
	}
}
