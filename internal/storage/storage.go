// Package storage keeps API objects in etcd v3. It deals in keys, opaque
// bytes and etcd revisions; it knows nothing of Kubernetes types, encodings or
// HTTP. The etcd revision of a write is the resourceVersion the API reports.
//
// Every call takes a context first. Errors are wrapped around the sentinel
// classes below with %w so that callers test them with errors.Is; the API
// server translates them to HTTP in exactly one place.
package storage

import (
	"context"
	"errors"
)

// Error classes. Wrap them with %w; never compare error strings.
var (
	// ErrNotFound means the key does not exist (at the requested revision).
	ErrNotFound = errors.New("storage: key not found")
	// ErrExists means a create found the key already present.
	ErrExists = errors.New("storage: key already exists")
	// ErrConflict means a compare-and-swap precondition did not hold: the
	// key's mod revision was not the expected one, or a claimed side key
	// already existed (see ClaimError).
	ErrConflict = errors.New("storage: revision conflict")
	// ErrCompacted means the requested revision is older than the oldest
	// revision etcd still keeps.
	ErrCompacted = errors.New("storage: revision compacted")
	// ErrFutureRevision means the requested revision is newer than etcd's.
	ErrFutureRevision = errors.New("storage: revision in the future")
	// ErrUnavailable means etcd could not be reached in time.
	ErrUnavailable = errors.New("storage: etcd unavailable")
	// ErrTooLarge means etcd refused a value over its request size limit.
	ErrTooLarge = errors.New("storage: value too large")
)

// ClaimError reports the side keys of an Op list that already existed.
// It wraps ErrConflict.
type ClaimError struct{ Keys []string }

func (e *ClaimError) Error() string {
	return "storage: claimed keys already exist: " + joinKeys(e.Keys)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ClaimError) Unwrap() error { return ErrConflict }

func joinKeys(keys []string) string {
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += k
	}
	return out
}

// KeyValue is one stored object.
type KeyValue struct {
	Key   string
	Value []byte
	// CreateRevision is 0 in the result of Update.
	CreateRevision int64
	// ModRevision is the revision of the last write to the key, or, for a
	// value returned by Delete, the revision of the deletion itself.
	ModRevision int64
}

// Op is a side effect applied atomically with a Create, Update or Delete.
// It exists so that allocations (Service cluster IPs, NodePorts) live and die
// in the same etcd transaction as the object that owns them.
type Op struct {
	Key string
	// Value is written to Key, which must not exist yet (a claim). A claim
	// whose key exists fails the whole transaction with a *ClaimError.
	Value []byte
	// Release deletes Key instead of claiming it; a missing key is fine.
	Release bool
}

// ListOptions narrows a List.
type ListOptions struct {
	// Revision reads the state as of that revision; 0 means the newest.
	Revision int64
	// Limit caps the number of items; 0 means no limit.
	Limit int64
	// StartKey, when set, starts the range at this key (inclusive) instead
	// of at the prefix. Used to continue a paginated list.
	StartKey string
}

// ListResult is one page of a List.
type ListResult struct {
	Items []KeyValue
	// Revision is the revision the list was read at.
	Revision int64
	// More reports that keys remain after the last item.
	More bool
	// RemainingCount is the number of keys after the last item when More.
	RemainingCount int64
}

// EventType says what happened to a key.
type EventType int

// Event types. Progress carries only a revision: nothing under the watched
// prefix changed up to it.
const (
	EventPut EventType = iota
	EventDelete
	EventProgress
	// EventError ends a watch; Err says why (ErrCompacted, for example).
	EventError
)

// Event is one change seen by a watch.
type Event struct {
	Type EventType
	Key  string
	// Value is the new value for EventPut; nil for EventDelete.
	Value []byte
	// PrevValue is the value before the change, when there was one.
	PrevValue []byte
	// Created is true for an EventPut that created the key.
	Created  bool
	Revision int64
	Err      error
}

// Interface is the narrow storage contract. Implementations must be safe for
// concurrent use.
type Interface interface {
	// Get returns the current value of key, or ErrNotFound.
	Get(ctx context.Context, key string) (KeyValue, error)
	// List returns keys under prefix in key order.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)
	// Create writes key if it does not exist (ErrExists otherwise), together
	// with ops, atomically. It returns the stored value with its revision.
	Create(ctx context.Context, key string, value []byte, ops ...Op) (KeyValue, error)
	// Update writes key if its mod revision equals expectedRev. On a
	// mismatch it returns ErrConflict together with the current value, so
	// that a retry loop need not read again; ErrNotFound if the key is gone.
	Update(ctx context.Context, key string, value []byte, expectedRev int64, ops ...Op) (KeyValue, error)
	// Delete removes key if its mod revision equals expectedRev (0 means any
	// revision). It returns the deleted value with ModRevision set to the
	// revision of the deletion. Mismatch and absence behave as in Update.
	Delete(ctx context.Context, key string, expectedRev int64, ops ...Op) (KeyValue, error)
	// Watch streams changes under prefix with revisions greater than
	// afterRev. The channel closes when ctx ends or after an EventError.
	Watch(ctx context.Context, prefix string, afterRev int64) <-chan Event
	// RequestProgress asks every open watch to report an EventProgress
	// with the current revision, so that caches can tell they are fresh.
	RequestProgress(ctx context.Context) error
	// CurrentRevision returns the newest revision of the whole store.
	CurrentRevision(ctx context.Context) (int64, error)
	// Compact discards history older than rev.
	Compact(ctx context.Context, rev int64) error
	// Close releases the connection. It does not stop an embedded etcd.
	Close() error
}
