// Package cache is the API server's watch cache: one etcd watch per resource
// keeps an in-memory copy of every object under a key prefix plus a window of
// recent events, and serves LIST and WATCH to any number of clients from it.
// It decodes each etcd value once; callers must treat entries as read-only.
package cache

import (
	"sync"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/navarch/navarch/internal/storage"
)

// Entry is one decoded object as stored at revision Rev. It is shared by
// every reader and must never be mutated.
type Entry struct {
	Key    string
	Object runtime.Object
	Labels labels.Set
	Fields fields.Set
	// Rev is the object's mod revision (its resourceVersion).
	Rev int64

	memo sync.Map
}

// Memo returns the value computed by f for key, computing it at most once
// per entry. The API server uses it to serialize an object once per media
// type however many watchers receive it.
func (e *Entry) Memo(key any, f func() ([]byte, error)) ([]byte, error) {
	if v, ok := e.memo.Load(key); ok {
		return v.([]byte), nil
	}
	b, err := f()
	if err != nil {
		return nil, err
	}
	v, _ := e.memo.LoadOrStore(key, b)
	return v.([]byte), nil
}

// DecodeFunc turns a stored value into an Entry (object, labels, fields).
type DecodeFunc func(kv storage.KeyValue) (*Entry, error)

// Predicate selects entries by label and field. Nil selectors match all.
type Predicate struct {
	Label labels.Selector
	Field fields.Selector
}

// Matches reports whether e satisfies p.
func (p Predicate) Matches(e *Entry) bool {
	if p.Label != nil && !p.Label.Empty() && !p.Label.Matches(e.Labels) {
		return false
	}
	if p.Field != nil && !p.Field.Empty() && !p.Field.Matches(e.Fields) {
		return false
	}
	return true
}

// Empty reports whether p matches everything.
func (p Predicate) Empty() bool {
	return (p.Label == nil || p.Label.Empty()) && (p.Field == nil || p.Field.Empty())
}

// Event is one watch event delivered to a client.
type Event struct {
	// Type is watch.Added, Modified, Deleted, Bookmark or Error.
	Type watch.EventType
	// Entry is the object: the new state, or for Deleted the last state
	// with Rev set to the revision of the deletion. Nil for Bookmark/Error.
	Entry *Entry
	// Rev is the revision of the event (for a Bookmark, the revision the
	// watcher has seen everything up to).
	Rev int64
	// InitialEventsEnd marks the Bookmark that closes the initial events of
	// a watch started with SendInitialEvents (annotation
	// k8s.io/initial-events-end on the wire).
	InitialEventsEnd bool
	// Err is set for Error events (storage.ErrCompacted when the requested
	// revision is no longer in history).
	Err error
}

// WatchOptions says where a watch starts and what it sends.
type WatchOptions struct {
	// AfterRev: deliver changes with revisions greater than this.
	AfterRev int64
	// SendInitialEvents first sends an Added event for every matching
	// object as of a revision >= AfterRev, then continues from there.
	SendInitialEvents bool
	// Bookmarks enables periodic Bookmark events (and the closing bookmark
	// of initial events).
	Bookmarks bool
}
