package cache

import (
	"sort"
	"strconv"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/watch"
)

// change is one applied etcd event, kept in the window and dispatched to
// watchers. cur and prev are the same Entry values the store holds, so the
// window costs no object copies.
type change struct {
	rev int64
	// typ is Added, Modified or Deleted as seen by an unfiltered watcher.
	typ watch.EventType
	// cur is the new state, or for Deleted the last state at rev.
	cur *Entry
	// prev is the state before the change; nil for Added.
	prev *Entry
	// gone is prev re-stamped with rev, built on first need, for watchers
	// whose predicate stops matching (they see a Deleted).
	gone atomic.Pointer[Entry]
}

// eventFor filters ch for one watcher: it returns the event to deliver, or
// false when the watcher must not see the change.
func (ch *change) eventFor(prefix string, pred Predicate, all bool) (Event, bool) {
	if len(ch.cur.Key) < len(prefix) || ch.cur.Key[:len(prefix)] != prefix {
		return Event{}, false
	}
	if all {
		return Event{Type: ch.typ, Entry: ch.cur, Rev: ch.rev}, true
	}
	switch ch.typ {
	case watch.Added, watch.Deleted:
		if !pred.Matches(ch.cur) {
			return Event{}, false
		}
		return Event{Type: ch.typ, Entry: ch.cur, Rev: ch.rev}, true
	}
	newOK := pred.Matches(ch.cur)
	oldOK := ch.prev != nil && pred.Matches(ch.prev)
	switch {
	case newOK && oldOK:
		return Event{Type: watch.Modified, Entry: ch.cur, Rev: ch.rev}, true
	case newOK:
		return Event{Type: watch.Added, Entry: ch.cur, Rev: ch.rev}, true
	case oldOK:
		return Event{Type: watch.Deleted, Entry: ch.goneEntry(), Rev: ch.rev}, true
	}
	return Event{}, false
}

// goneEntry returns prev as it looked when it left the watcher's view: the
// old object with the change's revision, as upstream reports it.
func (ch *change) goneEntry() *Entry {
	if e := ch.gone.Load(); e != nil {
		return e
	}
	e := restamp(ch.prev, ch.rev)
	if ch.gone.CompareAndSwap(nil, e) {
		return e
	}
	return ch.gone.Load()
}

// restamp returns a copy of e whose object carries resourceVersion rev. The
// object is deep-copied because entries are shared and read-only.
func restamp(e *Entry, rev int64) *Entry {
	obj := e.Object
	if obj != nil {
		obj = obj.DeepCopyObject()
		if acc, err := meta.Accessor(obj); err == nil {
			acc.SetResourceVersion(strconv.FormatInt(rev, 10))
		}
	}
	return &Entry{Key: e.Key, Object: obj, Labels: e.Labels, Fields: e.Fields, Rev: rev}
}

// window is a ring of the most recent changes. start is the revision the
// window covers from: every change with a revision above start is in it.
type window struct {
	buf   []*change
	head  int // index of the oldest change
	n     int
	start int64
}

func newWindow(size int) *window { return &window{buf: make([]*change, size)} }

// reset empties the window, which now covers everything after rev.
func (w *window) reset(rev int64) {
	clear(w.buf)
	w.head, w.n, w.start = 0, 0, rev
}

func (w *window) add(ch *change) {
	if w.n == len(w.buf) {
		w.start = w.buf[w.head].rev
		w.buf[w.head] = nil
		w.head = (w.head + 1) % len(w.buf)
		w.n--
	}
	w.buf[(w.head+w.n)%len(w.buf)] = ch
	w.n++
}

func (w *window) at(i int) *change { return w.buf[(w.head+i)%len(w.buf)] }

// covers reports whether every change after rev is still in the window.
func (w *window) covers(rev int64) bool { return rev >= w.start }

// since returns the changes with revisions greater than rev, oldest first.
func (w *window) since(rev int64) []*change {
	i := sort.Search(w.n, func(i int) bool { return w.at(i).rev > rev })
	out := make([]*change, 0, w.n-i)
	for ; i < w.n; i++ {
		out = append(out, w.at(i))
	}
	return out
}
