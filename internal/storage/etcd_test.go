package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// startEtcd runs an embedded etcd in dir (a fresh temp dir when empty) and
// returns it with a storage on top; both are closed at test end.
func startEtcd(t testing.TB, dir string) (*Embedded, *Etcd) {
	t.Helper()
	return startEtcdWith(t, EmbeddedConfig{DataDir: dir})
}

func startEtcdWith(t testing.TB, cfg EmbeddedConfig) (*Embedded, *Etcd) {
	t.Helper()
	dir := cfg.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg.DataDir = dir
	e, err := StartEmbedded(ctx, cfg)
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	t.Logf("embedded etcd ready in %v at %v", e.StartDuration, e.Endpoints())
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close embedded etcd: %v", err)
		}
	})
	return e, e.Storage()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, s *Etcd, key, val string, ops ...Op) KeyValue {
	t.Helper()
	kv, err := s.Create(testCtx(t), key, []byte(val), ops...)
	if err != nil {
		t.Fatalf("Create(%s): %v", key, err)
	}
	return kv
}

func assertAbsent(t *testing.T, s *Etcd, key string) {
	t.Helper()
	if _, err := s.Get(testCtx(t), key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%s) = %v, want ErrNotFound", key, err)
	}
}

func TestCreateAndGet(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx := testCtx(t)
	kv := mustCreate(t, s, "/a", "one")
	if kv.CreateRevision == 0 || kv.CreateRevision != kv.ModRevision || string(kv.Value) != "one" {
		t.Fatalf("Create returned %+v", kv)
	}
	got, err := s.Get(ctx, "/a")
	if err != nil || got.ModRevision != kv.ModRevision || string(got.Value) != "one" {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, kv)
	}
	if _, err := s.Create(ctx, "/a", []byte("two")); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate Create err = %v, want ErrExists", err)
	}
	assertAbsent(t, s, "/missing")
	rev, err := s.CurrentRevision(ctx)
	if err != nil || rev != kv.ModRevision {
		t.Fatalf("CurrentRevision = %d, %v; want %d", rev, err, kv.ModRevision)
	}
}

func TestUpdate(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx := testCtx(t)
	created := mustCreate(t, s, "/u", "v1")
	updated, err := s.Update(ctx, "/u", []byte("v2"), created.ModRevision)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.ModRevision <= created.ModRevision || updated.CreateRevision != 0 {
		t.Fatalf("Update returned %+v after %+v", updated, created)
	}
	cur, err := s.Update(ctx, "/u", []byte("stale"), created.ModRevision)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale Update err = %v, want ErrConflict", err)
	}
	if string(cur.Value) != "v2" || cur.ModRevision != updated.ModRevision {
		t.Fatalf("stale Update returned %+v, want the current value v2@%d", cur, updated.ModRevision)
	}
	if _, err := s.Update(ctx, "/u", []byte("any"), 0); err != nil {
		t.Fatalf("unconditional Update: %v", err)
	}
	if _, err := s.Update(ctx, "/nope", []byte("x"), 5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update of a missing key err = %v, want ErrNotFound", err)
	}
	if _, err := s.Update(ctx, "/nope", []byte("x"), 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unconditional Update of a missing key err = %v, want ErrNotFound", err)
	}
	assertAbsent(t, s, "/nope")
}

func TestDelete(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx := testCtx(t)
	kv := mustCreate(t, s, "/d", "v1")
	kv2, err := s.Update(ctx, "/d", []byte("v2"), kv.ModRevision)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Delete(ctx, "/d", kv.ModRevision)
	if !errors.Is(err, ErrConflict) || string(cur.Value) != "v2" {
		t.Fatalf("stale Delete = %+v, %v; want ErrConflict with v2", cur, err)
	}
	del, err := s.Delete(ctx, "/d", kv2.ModRevision)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	rev, _ := s.CurrentRevision(ctx)
	if string(del.Value) != "v2" || del.ModRevision != rev || del.CreateRevision != kv.CreateRevision {
		t.Fatalf("Delete returned %+v, want v2 with ModRevision %d", del, rev)
	}
	assertAbsent(t, s, "/d")
	if _, err := s.Delete(ctx, "/d", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of a missing key err = %v, want ErrNotFound", err)
	}
	mustCreate(t, s, "/d2", "x")
	if _, err := s.Delete(ctx, "/d2", 0); err != nil {
		t.Fatalf("unconditional Delete: %v", err)
	}
	assertAbsent(t, s, "/d2")
}

func TestClaimsAndReleases(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx := testCtx(t)
	a := mustCreate(t, s, "/svc/a", "a", Op{Key: "/ip/1", Value: []byte("a")})
	if got, err := s.Get(ctx, "/ip/1"); err != nil || string(got.Value) != "a" {
		t.Fatalf("claim not written: %+v, %v", got, err)
	}
	before, _ := s.CurrentRevision(ctx)
	_, err := s.Create(ctx, "/svc/b", []byte("b"),
		Op{Key: "/ip/2", Value: []byte("b")}, Op{Key: "/ip/1", Value: []byte("b")})
	var ce *ClaimError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) || !slices.Equal(ce.Keys, []string{"/ip/1"}) {
		t.Fatalf("conflicting claim err = %v, want *ClaimError{/ip/1}", err)
	}
	if after, _ := s.CurrentRevision(ctx); after != before {
		t.Fatalf("failed claim changed the store: revision %d -> %d", before, after)
	}
	assertAbsent(t, s, "/svc/b")
	assertAbsent(t, s, "/ip/2")

	// Moving a's address from 1 to 3 frees 1 for b.
	if _, err := s.Update(ctx, "/svc/a", []byte("a2"), a.ModRevision,
		Op{Key: "/ip/1", Release: true}, Op{Key: "/ip/3", Value: []byte("a")}); err != nil {
		t.Fatalf("Update with release and claim: %v", err)
	}
	assertAbsent(t, s, "/ip/1")
	mustCreate(t, s, "/svc/b", "b", Op{Key: "/ip/1", Value: []byte("b")})

	// A claim failure on Update reports the claim, not a revision conflict.
	cur, _ := s.Get(ctx, "/svc/b")
	if _, err := s.Update(ctx, "/svc/b", []byte("b2"), cur.ModRevision, Op{Key: "/ip/3", Value: []byte("b")}); !errors.As(err, &ce) {
		t.Fatalf("Update claiming a taken key err = %v, want *ClaimError", err)
	}
	if _, err := s.Delete(ctx, "/svc/a", 0, Op{Key: "/ip/3", Release: true}, Op{Key: "/ip/never", Release: true}); err != nil {
		t.Fatalf("Delete with releases: %v", err)
	}
	assertAbsent(t, s, "/ip/3")
}

func TestList(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx := testCtx(t)
	for i := range 5 {
		mustCreate(t, s, fmt.Sprintf("/p/%d", i), fmt.Sprint(i))
	}
	mustCreate(t, s, "/q/0", "other prefix")
	mid, _ := s.CurrentRevision(ctx)
	mustCreate(t, s, "/p/9", "late")

	all, err := s.List(ctx, "/p/", ListOptions{})
	if err != nil || len(all.Items) != 6 || all.More || all.Revision != mid+1 {
		t.Fatalf("List all = %d items more=%v rev=%d, %v", len(all.Items), all.More, all.Revision, err)
	}
	page, err := s.List(ctx, "/p/", ListOptions{Limit: 2})
	if err != nil || len(page.Items) != 2 || !page.More || page.RemainingCount != 4 {
		t.Fatalf("List limit 2 = %+v, %v", page, err)
	}
	next, err := s.List(ctx, "/p/", ListOptions{Limit: 10, StartKey: page.Items[1].Key + "\x00", Revision: page.Revision})
	if err != nil || len(next.Items) != 4 || next.More || next.Items[0].Key != "/p/2" || next.Revision != page.Revision {
		t.Fatalf("List continue = %+v, %v", next, err)
	}
	old, err := s.List(ctx, "/p/", ListOptions{Revision: mid})
	if err != nil || len(old.Items) != 5 || old.Revision != mid {
		t.Fatalf("List at revision %d = %d items, %v", mid, len(old.Items), err)
	}
	everything, err := s.List(ctx, "", ListOptions{})
	if err != nil || len(everything.Items) != 7 {
		t.Fatalf("List of everything = %d items, %v", len(everything.Items), err)
	}
	if err := s.Compact(ctx, mid+1); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if err := s.Compact(ctx, mid); err != nil {
		t.Fatalf("Compact to an already compacted revision: %v", err)
	}
	if _, err := s.List(ctx, "/p/", ListOptions{Revision: mid}); !errors.Is(err, ErrCompacted) {
		t.Fatalf("List at compacted revision err = %v, want ErrCompacted", err)
	}
	if _, err := s.List(ctx, "/p/", ListOptions{Revision: mid + 100}); !errors.Is(err, ErrFutureRevision) {
		t.Fatalf("List at future revision err = %v, want ErrFutureRevision", err)
	}
}

// next returns the next event or fails after a deadline.
func next(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed early")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return Event{}
}

func TestWatchReplaysHistory(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx := testCtx(t)
	start, _ := s.CurrentRevision(ctx)
	a := mustCreate(t, s, "/w/a", "1")
	mustCreate(t, s, "/other", "x")
	a2, _ := s.Update(ctx, "/w/a", []byte("2"), a.ModRevision)
	del, _ := s.Delete(ctx, "/w/a", 0)

	ch := s.Watch(ctx, "/w/", start)
	want := []Event{
		{Type: EventPut, Key: "/w/a", Value: []byte("1"), Created: true, Revision: a.ModRevision},
		{Type: EventPut, Key: "/w/a", Value: []byte("2"), PrevValue: []byte("1"), Revision: a2.ModRevision},
		{Type: EventDelete, Key: "/w/a", PrevValue: []byte("2"), Revision: del.ModRevision},
	}
	for i, w := range want {
		got := next(t, ch)
		if got.Type != w.Type || got.Key != w.Key || string(got.Value) != string(w.Value) ||
			string(got.PrevValue) != string(w.PrevValue) || got.Created != w.Created || got.Revision != w.Revision {
			t.Fatalf("event %d = %+v, want %+v", i, got, w)
		}
	}
	// Live events follow the replay.
	b := mustCreate(t, s, "/w/b", "live")
	if got := next(t, ch); got.Key != "/w/b" || got.Revision != b.ModRevision {
		t.Fatalf("live event = %+v", got)
	}
}

func TestWatchClosesWithContext(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx, cancel := context.WithCancel(testCtx(t))
	ch := s.Watch(ctx, "/w/", 0)
	cancel()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch channel not closed after context cancel")
		}
	}
}

func TestWatchFromCompactedRevision(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx := testCtx(t)
	first := mustCreate(t, s, "/w/a", "1")
	mustCreate(t, s, "/w/b", "2")
	last := mustCreate(t, s, "/w/c", "3")
	if err := s.Compact(ctx, last.ModRevision); err != nil {
		t.Fatal(err)
	}
	ch := s.Watch(ctx, "/w/", first.ModRevision-1)
	ev := next(t, ch)
	if ev.Type != EventError || !errors.Is(ev.Err, ErrCompacted) {
		t.Fatalf("event = %+v, want an EventError with ErrCompacted", ev)
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after EventError")
	}
}

func TestRequestProgress(t *testing.T) {
	// No periodic notifications: every EventProgress must be requested.
	_, s := startEtcdWith(t, EmbeddedConfig{ProgressNotifyInterval: time.Hour})
	ctx := testCtx(t)
	mustCreate(t, s, "/elsewhere", "x")
	rev, _ := s.CurrentRevision(ctx)
	// Two idle watches on different prefixes must both hear of progress,
	// which proves they share the stream RequestProgress targets, even
	// when a caller's context carries its own gRPC metadata.
	w1 := s.Watch(ctx, "/idle1/", rev)
	w2 := s.Watch(metadata.AppendToOutgoingContext(ctx, "caller", "x"), "/idle2/", rev)
	// etcd answers only once its revision reaches a watch's start
	// (afterRev+1), so move it on outside the watched prefixes.
	rev = mustCreate(t, s, "/elsewhere2", "y").ModRevision
	for _, ch := range []<-chan Event{w1, w2} {
		ev := awaitProgress(t, s, ch)
		if ev.Revision != rev {
			t.Fatalf("progress revision %d, want current %d", ev.Revision, rev)
		}
	}
}

// awaitProgress requests progress until ch reports it: etcd only answers
// once the watch is registered and synced, which a client cannot observe.
func awaitProgress(t *testing.T, s *Etcd, ch <-chan Event) Event {
	t.Helper()
	ctx := testCtx(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if err := s.RequestProgress(ctx); err != nil {
			t.Fatalf("RequestProgress: %v", err)
		}
		select {
		case ev := <-ch:
			if ev.Type != EventProgress {
				t.Fatalf("event = %+v, want EventProgress", ev)
			}
			return ev
		case <-tick.C:
		case <-deadline:
			t.Fatal("no progress event within 10s")
		}
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e, s := startEtcd(t, dir)
	kv := mustCreate(t, s, "/keep", "me")
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, s2 := startEtcd(t, dir)
	got, err := s2.Get(testCtx(t), "/keep")
	if err != nil || string(got.Value) != "me" || got.ModRevision != kv.ModRevision {
		t.Fatalf("after restart Get = %+v, %v; want %+v", got, err, kv)
	}
}

func TestCompactorAgainstEtcd(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	first := mustCreate(t, s, "/c/a", "1")
	go RunCompactor(ctx, s, 20*time.Millisecond, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mustCreate(t, s, fmt.Sprintf("/c/%d", time.Now().UnixNano()), "x")
		_, err := s.List(ctx, "/c/", ListOptions{Revision: first.ModRevision})
		if errors.Is(err, ErrCompacted) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d still readable after 10s of compactor ticks (err %v)", first.ModRevision, err)
		}
		time.Sleep(10 * time.Millisecond) // pacing the poll, not waiting for an outcome
	}
	// The newest revision is never compacted away.
	rev, _ := s.CurrentRevision(ctx)
	if _, err := s.List(ctx, "/c/", ListOptions{Revision: rev}); err != nil {
		t.Fatalf("List at current revision %d: %v", rev, err)
	}
}

func TestEmbeddedUnixSocket(t *testing.T) {
	dir := t.TempDir()
	sock := "unix://" + dir + "/c.sock"
	e, err := StartEmbedded(testCtx(t), EmbeddedConfig{DataDir: dir + "/data", ClientURL: sock})
	if err != nil {
		t.Fatalf("StartEmbedded on %s: %v", sock, err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if got := e.Endpoints(); len(got) != 1 || got[0] != sock {
		t.Fatalf("Endpoints = %v, want [%s]", got, sock)
	}
	s := e.Storage()
	kv := mustCreate(t, s, "/sock", "ok")
	if got, err := s.Get(testCtx(t), "/sock"); err != nil || got.ModRevision != kv.ModRevision {
		t.Fatalf("Get over unix socket = %+v, %v", got, err)
	}
}

// An in-process client has no connection for raw writes; NewEtcd on one
// must fail writes clearly instead of crashing.
func TestNewEtcdWithoutConnection(t *testing.T) {
	c := clientv3.NewCtxClient(context.Background())
	s := NewEtcd(c)
	t.Cleanup(func() { _ = s.Close() })
	_, err := s.Create(context.Background(), "/k", []byte("v"))
	if err == nil || !strings.Contains(err.Error(), "Embedded.Storage") {
		t.Fatalf("Create through a connection-less client: err = %v, want one naming Embedded.Storage", err)
	}
}

// Values over etcd's request limit (1.5 MiB by default) are refused with
// ErrTooLarge by every write, and nothing is written.
func TestWriteTooLarge(t *testing.T) {
	_, s := startEtcd(t, "")
	ctx := testCtx(t)
	big := make([]byte, 2<<20)
	kv := mustCreate(t, s, "/big", "small")
	writes := []struct {
		name string
		do   func() error
	}{
		{"create", func() error { _, err := s.Create(ctx, "/big2", big); return err }},
		{"update", func() error { _, err := s.Update(ctx, "/big", big, kv.ModRevision); return err }},
		{"claim", func() error {
			_, err := s.Create(ctx, "/big3", []byte("v"), Op{Key: "/claims/big", Value: big})
			return err
		}},
	}
	for _, w := range writes {
		if err := w.do(); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s of 2 MiB: err = %v, want ErrTooLarge", w.name, err)
		}
	}
	if cur, err := s.Get(ctx, "/big"); err != nil || string(cur.Value) != "small" {
		t.Fatalf("after refused writes: %q, %v; want the old value", cur.Value, err)
	}
	assertAbsent(t, s, "/big2")
	assertAbsent(t, s, "/big3")
}
