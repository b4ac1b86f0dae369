package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/navarch/navarch/internal/storage"
)

// fakeStore is an in-memory storage.Interface: a map, a revision counter
// and a history that every watch replays and then follows.
type fakeStore struct {
	mu        sync.Mutex
	rev       int64
	compacted int64
	data      map[string]storage.KeyValue
	hist      []storage.Event
	// changed is closed and replaced on every change a watch must notice.
	changed     chan struct{}
	progressGen int
	failGen     int
	failErr     error
	listCalls   int
	watchCalls  int
	// noProgress makes RequestProgress a no-op, as if etcd ignored it.
	noProgress bool
}

func newFakeStore() *fakeStore {
	return &fakeStore{data: map[string]storage.KeyValue{}, changed: make(chan struct{}), rev: 1}
}

func (f *fakeStore) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeStore) Get(_ context.Context, key string) (storage.KeyValue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kv, ok := f.data[key]
	if !ok {
		return storage.KeyValue{}, storage.ErrNotFound
	}
	return kv, nil
}

func (f *fakeStore) List(_ context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listCalls++
	var keys []string
	for k := range f.data {
		if strings.HasPrefix(k, prefix) && k >= opts.StartKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := storage.ListResult{Revision: f.rev}
	for i, k := range keys {
		if opts.Limit > 0 && int64(i) == opts.Limit {
			res.More, res.RemainingCount = true, int64(len(keys)-i)
			break
		}
		res.Items = append(res.Items, f.data[k])
	}
	return res, nil
}

// put writes key, recording the event unless silent (a change the cache's
// watch will never see, as if lost to compaction).
func (f *fakeStore) put(key string, value []byte, silent bool) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	old, existed := f.data[key]
	kv := storage.KeyValue{Key: key, Value: value, ModRevision: f.rev, CreateRevision: f.rev}
	if existed {
		kv.CreateRevision = old.CreateRevision
	}
	f.data[key] = kv
	if !silent {
		f.hist = append(f.hist, storage.Event{Type: storage.EventPut, Key: key, Value: value, PrevValue: old.Value, Created: !existed, Revision: f.rev})
		f.notifyLocked()
	}
	return f.rev
}

func (f *fakeStore) del(key string, silent bool) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	old := f.data[key]
	delete(f.data, key)
	if !silent {
		f.hist = append(f.hist, storage.Event{Type: storage.EventDelete, Key: key, PrevValue: old.Value, Revision: f.rev})
		f.notifyLocked()
	}
	return f.rev
}

// bumpOther advances the revision as a write under another prefix would.
func (f *fakeStore) bumpOther() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	return f.rev
}

// failWatches ends every open watch with err.
func (f *fakeStore) failWatches(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failGen++
	f.failErr = err
	f.notifyLocked()
}

func (f *fakeStore) Create(_ context.Context, key string, value []byte, _ ...storage.Op) (storage.KeyValue, error) {
	f.put(key, value, false)
	return f.Get(context.Background(), key)
}

func (f *fakeStore) Update(_ context.Context, key string, value []byte, _ int64, _ ...storage.Op) (storage.KeyValue, error) {
	f.put(key, value, false)
	return f.Get(context.Background(), key)
}

func (f *fakeStore) Delete(_ context.Context, key string, _ int64, _ ...storage.Op) (storage.KeyValue, error) {
	rev := f.del(key, false)
	return storage.KeyValue{Key: key, ModRevision: rev}, nil
}

func (f *fakeStore) Watch(ctx context.Context, prefix string, afterRev int64) <-chan storage.Event {
	out := make(chan storage.Event)
	f.mu.Lock()
	f.watchCalls++
	f.mu.Unlock()
	go f.serveWatch(ctx, prefix, afterRev, out)
	return out
}

func (f *fakeStore) serveWatch(ctx context.Context, prefix string, afterRev int64, out chan<- storage.Event) {
	defer close(out)
	send := func(ev storage.Event) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	f.mu.Lock()
	if afterRev < f.compacted {
		f.mu.Unlock()
		send(storage.Event{Type: storage.EventError, Err: fmt.Errorf("watch from %d: %w", afterRev, storage.ErrCompacted)})
		return
	}
	pos := sort.Search(len(f.hist), func(i int) bool { return f.hist[i].Revision > afterRev })
	pgen, fgen := f.progressGen, f.failGen
	f.mu.Unlock()
	for {
		f.mu.Lock()
		if f.failGen != fgen {
			err := f.failErr
			f.mu.Unlock()
			send(storage.Event{Type: storage.EventError, Err: err})
			return
		}
		var evs []storage.Event
		for _, ev := range f.hist[pos:] {
			if strings.HasPrefix(ev.Key, prefix) {
				evs = append(evs, ev)
			}
		}
		pos = len(f.hist)
		if f.progressGen != pgen {
			pgen = f.progressGen
			evs = append(evs, storage.Event{Type: storage.EventProgress, Revision: f.rev})
		}
		wake := f.changed
		f.mu.Unlock()
		for _, ev := range evs {
			if !send(ev) {
				return
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}

func (f *fakeStore) RequestProgress(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noProgress {
		return nil
	}
	f.progressGen++
	f.notifyLocked()
	return nil
}

func (f *fakeStore) CurrentRevision(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rev, nil
}

func (f *fakeStore) Compact(_ context.Context, rev int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compacted = rev
	return nil
}

func (f *fakeStore) Close() error { return nil }

func (f *fakeStore) counts() (lists, watches int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.listCalls, f.watchCalls
}

// cm encodes a ConfigMap with the given labels as a stored value.
func cm(name string, lbls map[string]string) []byte {
	b, err := json.Marshal(&corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: lbls},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// decodeCM is the DecodeFunc of the tests; like the API server's it stamps
// the object with the value's mod revision.
func decodeCM(kv storage.KeyValue) (*Entry, error) {
	obj := &corev1.ConfigMap{}
	if err := json.Unmarshal(kv.Value, obj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	obj.ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
	return &Entry{
		Key:    kv.Key,
		Object: obj,
		Labels: obj.Labels,
		Fields: fields.Set{"metadata.name": obj.Name, "metadata.namespace": obj.Namespace},
		Rev:    kv.ModRevision,
	}, nil
}
