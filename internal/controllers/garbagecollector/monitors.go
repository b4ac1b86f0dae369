package garbagecollector

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// monitor is the metadata informer of one resource.
type monitor struct {
	res    apiResource
	inf    cache.SharedIndexInformer
	cancel context.CancelFunc
}

// monitors keeps one informer per deletable resource and feeds every
// relevant change into the graph's change queue.
type monitors struct {
	md      metadata.Interface
	observe func(change)
	log     *slog.Logger

	mu sync.Mutex
	m  map[schema.GroupVersionResource]*monitor
}

// sync starts informers for new resources and stops those of resources
// no longer served. It reports whether the set changed.
func (ms *monitors) sync(ctx context.Context, want map[schema.GroupVersionResource]apiResource) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	changed := false
	for gvr, m := range ms.m {
		if _, ok := want[gvr]; !ok {
			m.cancel()
			delete(ms.m, gvr)
			changed = true
			ms.log.Info("stopped watching resource", "resource", gvr.String())
		}
	}
	for gvr, res := range want {
		if _, ok := ms.m[gvr]; ok {
			continue
		}
		ms.m[gvr] = ms.start(ctx, res)
		changed = true
	}
	return changed
}

func (ms *monitors) start(ctx context.Context, res apiResource) *monitor {
	inf := metadatainformer.NewFilteredMetadataInformer(ms.md, res.gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { ms.observeObj(res, nil, obj, addOrUpdate) },
		UpdateFunc: func(old, obj any) { ms.observeObj(res, old, obj, addOrUpdate) },
		DeleteFunc: func(obj any) { ms.observeObj(res, nil, obj, deleted) },
	})
	ctx, cancel := context.WithCancel(ctx)
	go inf.RunWithContext(ctx)
	return &monitor{res: res, inf: inf, cancel: cancel}
}

// synced reports whether every informer has listed its resource.
func (ms *monitors) synced() bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, m := range ms.m {
		if !m.inf.HasSynced() {
			return false
		}
	}
	return true
}

func (ms *monitors) stopAll() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for gvr, m := range ms.m {
		m.cancel()
		delete(ms.m, gvr)
	}
}

func (ms *monitors) observeObj(res apiResource, oldObj, obj any, kind changeKind) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	var old metav1.Object
	if oldObj != nil {
		if old, err = meta.Accessor(oldObj); err != nil {
			old = nil
		}
	}
	if kind == addOrUpdate && old != nil && !relevantUpdate(old, acc) {
		return
	}
	c := change{
		kind: kind,
		ref: objectRef{APIVersion: res.gvk.GroupVersion().String(), Kind: res.gvk.Kind,
			Namespace: acc.GetNamespace(), Name: acc.GetName(), UID: acc.GetUID()},
		owners: acc.GetOwnerReferences(),
	}
	c.deleted, c.orphan, c.foreground = deletionState(acc)
	if old != nil {
		d, o, f := deletionState(old)
		c.old = &state{deleted: d, orphan: o, foreground: f}
	}
	ms.observe(c)
}

func deletionState(acc metav1.Object) (deleted, orphan, foreground bool) {
	fins := acc.GetFinalizers()
	return acc.GetDeletionTimestamp() != nil,
		slices.Contains(fins, metav1.FinalizerOrphanDependents),
		slices.Contains(fins, metav1.FinalizerDeleteDependents)
}

// relevantUpdate filters out the updates that cannot change the graph
// (status writes, Lease renewals): same owners, deletion state and
// finalizers.
func relevantUpdate(old, cur metav1.Object) bool {
	if (old.GetDeletionTimestamp() == nil) != (cur.GetDeletionTimestamp() == nil) || old.GetUID() != cur.GetUID() {
		return true
	}
	if !slices.Equal(old.GetFinalizers(), cur.GetFinalizers()) {
		return true
	}
	a, b := old.GetOwnerReferences(), cur.GetOwnerReferences()
	if len(a) != len(b) {
		return true
	}
	for i := range a {
		if a[i].UID != b[i].UID || blocks(&a[i]) != blocks(&b[i]) || a[i].Name != b[i].Name || a[i].Kind != b[i].Kind || a[i].APIVersion != b[i].APIVersion {
			return true
		}
	}
	return false
}
