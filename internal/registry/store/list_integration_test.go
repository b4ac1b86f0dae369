package store_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/navarch/navarch/internal/registry/store"
	"github.com/navarch/navarch/internal/storage/cache"
)

func names(t *testing.T, list *corev1.ConfigMapList) []string {
	t.Helper()
	out := make([]string, len(list.Items))
	for i, it := range list.Items {
		out[i] = it.Name
	}
	return out
}

func createConfigMaps(t *testing.T, st *store.Store, ns string, n int, labelsOf func(i int) map[string]string) {
	t.Helper()
	for i := range n {
		obj := cm(ns, fmt.Sprintf("cm-%02d", i), nil)
		if labelsOf != nil {
			obj.Labels = labelsOf(i)
		}
		if _, err := st.Create(ctx(t), ns, obj, store.WriteOptions{}); err != nil {
			t.Fatalf("create: %v", err)
		}
	}
}

// TestPaginationSnapshot lists 25 objects 10 at a time while another
// object appears between pages: every page must come from the first
// page's revision.
func TestPaginationSnapshot(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	createConfigMaps(t, st, ns, 25, nil)

	var got []string
	var pages []int
	opts := store.ListOptions{Limit: 10}
	firstRV := ""
	for page := 0; ; page++ {
		obj, err := st.List(ctx(t), ns, opts)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		list := obj.(*corev1.ConfigMapList)
		pages = append(pages, len(list.Items))
		got = append(got, names(t, list)...)
		if page == 0 {
			firstRV = list.ResourceVersion
			if list.RemainingItemCount == nil || *list.RemainingItemCount != 15 {
				t.Errorf("first page remainingItemCount = %v, want 15", list.RemainingItemCount)
			}
			// Sorts between pages 1 and 2, and after everything.
			for _, n := range []string{"cm-10a", "cm-99"} {
				if _, err := st.Create(ctx(t), ns, cm(ns, n, nil), store.WriteOptions{}); err != nil {
					t.Fatalf("create between pages: %v", err)
				}
			}
		} else if list.ResourceVersion != firstRV {
			t.Errorf("page %d at resourceVersion %s, first page at %s", page, list.ResourceVersion, firstRV)
		}
		if list.Continue == "" {
			break
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		opts.Continue = list.Continue
	}
	if !slices.Equal(pages, []int{10, 10, 5}) {
		t.Errorf("page sizes %v, want [10 10 5]", pages)
	}
	want := make([]string, 25)
	for i := range want {
		want[i] = fmt.Sprintf("cm-%02d", i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged names %v\nwant %v", got, want)
	}
	full, err := st.List(ctx(t), ns, store.ListOptions{})
	if err != nil {
		t.Fatalf("full list: %v", err)
	}
	if n := len(full.(*corev1.ConfigMapList).Items); n != 27 {
		t.Errorf("unpaged list after inserts has %d items, want 27", n)
	}
}

func TestPaginationBadTokens(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	other := e.namespace(t)
	st := e.st("configmaps")
	createConfigMaps(t, st, ns, 3, nil)
	first, err := st.List(ctx(t), ns, store.ListOptions{Limit: 1})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	token := first.(*corev1.ConfigMapList).Continue
	tests := []struct {
		name string
		ns   string
		cont string
	}{
		{"garbage", ns, "not-a-token"},
		{"token of another namespace", other, token},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.List(ctx(t), tc.ns, store.ListOptions{Limit: 1, Continue: tc.cont})
			wantCode(t, err, 400)
		})
	}
}

// TestContinueAfterCompaction: a token whose revision etcd has compacted
// away must answer 410 Gone so that clients restart the list.
func TestContinueAfterCompaction(t *testing.T) {
	e := private(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	createConfigMaps(t, st, ns, 5, nil)
	obj, err := st.List(ctx(t), ns, store.ListOptions{Limit: 2})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	token := obj.(*corev1.ConfigMapList).Continue
	if _, err := st.Create(ctx(t), ns, cm(ns, "later", nil), store.WriteOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	rev, err := e.s.CurrentRevision(ctx(t))
	if err != nil {
		t.Fatalf("revision: %v", err)
	}
	if err := e.s.Compact(ctx(t), rev); err != nil {
		t.Fatalf("compact: %v", err)
	}
	_, err = st.List(ctx(t), ns, store.ListOptions{Limit: 2, Continue: token})
	if !isGone(err) {
		t.Fatalf("want 410 Expired, got %v", err)
	}
	wantCode(t, err, 410)
}

func TestListSelectors(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	createConfigMaps(t, st, ns, 12, func(i int) map[string]string {
		return map[string]string{"parity": []string{"even", "odd"}[i%2], "third": strconv.Itoa(i % 3)}
	})
	tests := []struct {
		name  string
		label string
		field string
		limit int64
		want  []string
	}{
		{"label equality", "parity=odd,third=0", "", 0, []string{"cm-03", "cm-09"}},
		{"label set", "third in (1),parity!=even", "", 0, []string{"cm-01", "cm-07"}},
		{"field name", "", "metadata.name=cm-05", 0, []string{"cm-05"}},
		{"field and label", "parity=even", "metadata.name!=cm-00", 0, []string{"cm-02", "cm-04", "cm-06", "cm-08", "cm-10"}},
		{"selector with limit", "parity=odd", "", 2, []string{"cm-01", "cm-03"}},
		{"nothing matches", "parity=none", "", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls, err := labels.Parse(tc.label)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := fields.ParseSelector(tc.field)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := st.List(ctx(t), ns, store.ListOptions{Predicate: cache.Predicate{Label: ls, Field: fs}, Limit: tc.limit})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if got := names(t, obj.(*corev1.ConfigMapList)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// recv reads the next event or fails after a deadline.
func recv(t *testing.T, w store.Watcher) cache.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return cache.Event{}
}

type evSummary struct {
	typ  watch.EventType
	name string
}

func summarize(t *testing.T, ev cache.Event) evSummary {
	t.Helper()
	if ev.Entry == nil {
		return evSummary{typ: ev.Type}
	}
	return evSummary{ev.Type, metaOf(t, ev.Entry.Object).GetName()}
}

func TestWatchResume(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	a, err := st.Create(ctx(t), ns, cm(ns, "a", nil), store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx(t), ns, cm(ns, "b", nil), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx(t), ns, "a", setData("k", "v"), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Delete(ctx(t), ns, "b", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rv   string
		want []evSummary
	}{
		{"from a's creation", rvOf(t, a), []evSummary{{watch.Added, "b"}, {watch.Modified, "a"}, {watch.Deleted, "b"}}},
		{"rv 0 sends current state", "0", []evSummary{{watch.Added, "a"}}},
		{"rv empty sends current state", "", []evSummary{{watch.Added, "a"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := st.Watch(ctx(t), ns, store.ListOptions{ResourceVersion: tc.rv})
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer w.Stop()
			var got []evSummary
			for range tc.want {
				got = append(got, summarize(t, recv(t, w)))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			// A live change arrives after the replay.
			name := "live-" + strconv.Itoa(len(tc.name))
			if _, err := st.Create(ctx(t), ns, cm(ns, name+tc.rv, nil), store.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if ev := summarize(t, recv(t, w)); ev != (evSummary{watch.Added, name + tc.rv}) {
				t.Errorf("live event %v, want ADDED %s", ev, name+tc.rv)
			}
			if _, _, err := st.Delete(ctx(t), ns, name+tc.rv, store.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if ev := summarize(t, recv(t, w)); ev != (evSummary{watch.Deleted, name + tc.rv}) {
				t.Errorf("live event %v, want DELETED %s", ev, name+tc.rv)
			}
		})
	}
}

// TestWatchInitialEventsBookmark is the watch-list protocol client-go
// uses: initial ADDED events, then a bookmark marking their end.
func TestWatchInitialEventsBookmark(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	createConfigMaps(t, st, ns, 3, nil)
	yes := true
	w, err := st.Watch(ctx(t), ns, store.ListOptions{SendInitialEvents: &yes, AllowBookmarks: true, ResourceVersionMatch: "NotOlderThan"})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()
	var added []string
	for {
		ev := recv(t, w)
		if ev.Type == watch.Bookmark {
			if !ev.InitialEventsEnd {
				continue
			}
			if ev.Rev <= 0 {
				t.Errorf("initial-events-end bookmark at revision %d", ev.Rev)
			}
			break
		}
		if ev.Type != watch.Added {
			t.Fatalf("initial event %v, want ADDED", ev.Type)
		}
		added = append(added, metaOf(t, ev.Entry.Object).GetName())
	}
	if want := []string{"cm-00", "cm-01", "cm-02"}; !slices.Equal(added, want) {
		t.Errorf("initial events %v, want %v", added, want)
	}
}
