package cache

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/navarch/navarch/internal/storage"
)

// direct serves a watch whose start revision has left the event window
// from its own etcd watch. etcd either replays the history (the client was
// briefly disconnected) or reports ErrCompacted, which the client turns
// into a relist, exactly as with upstream's "too old resource version".
func (w *Watcher) direct(ctx context.Context, afterRev int64) {
	defer close(w.out)
	defer w.Stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var tick <-chan time.Time
	if w.bookmarks {
		t := time.NewTicker(w.c.opts.BookmarkInterval)
		defer t.Stop()
		tick = t.C
	}
	last := afterRev
	events := w.c.s.Watch(ctx, w.prefix, afterRev)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Type == storage.EventError {
				w.send(ctx, Event{Type: watch.Error, Err: ev.Err, Rev: last})
				return
			}
			last = max(last, ev.Revision)
			out, ok := w.convert(ev)
			if ok && !w.send(ctx, out) {
				return
			}
		case <-tick:
			if !w.send(ctx, Event{Type: watch.Bookmark, Rev: last}) {
				return
			}
		case <-w.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// convert decodes and filters one etcd event the way dispatch would.
func (w *Watcher) convert(ev storage.Event) (Event, bool) {
	switch ev.Type {
	case storage.EventProgress:
		return Event{Type: watch.Bookmark, Rev: ev.Revision}, w.bookmarks
	case storage.EventPut:
		cur, err := w.c.decode(storage.KeyValue{Key: ev.Key, Value: ev.Value, ModRevision: ev.Revision})
		if err != nil {
			w.c.log.Error("watch cannot decode object", "key", ev.Key, "rev", ev.Revision, "err", err)
			return Event{}, false
		}
		ch := &change{rev: ev.Revision, typ: watch.Added, cur: cur}
		if !ev.Created {
			ch.typ = watch.Modified
			ch.prev = w.prevEntry(ev, cur)
		}
		return ch.eventFor(w.prefix, w.pred, w.all)
	case storage.EventDelete:
		if ev.PrevValue == nil {
			w.c.log.Error("watch cannot report delete without the old value", "key", ev.Key, "rev", ev.Revision)
			return Event{}, false
		}
		// Decoding at the deletion revision stamps the object with it.
		last, err := w.c.decode(storage.KeyValue{Key: ev.Key, Value: ev.PrevValue, ModRevision: ev.Revision})
		if err != nil {
			w.c.log.Error("watch cannot decode deleted object", "key", ev.Key, "rev", ev.Revision, "err", err)
			return Event{}, false
		}
		ch := &change{rev: ev.Revision, typ: watch.Deleted, cur: last}
		return ch.eventFor(w.prefix, w.pred, w.all)
	}
	return Event{}, false
}

// prevEntry decodes the value before an update, which only a filtered
// watcher needs. Without it the update is judged by the new state alone.
func (w *Watcher) prevEntry(ev storage.Event, cur *Entry) *Entry {
	if w.all || ev.PrevValue == nil {
		return cur
	}
	prev, err := w.c.decode(storage.KeyValue{Key: ev.Key, Value: ev.PrevValue})
	if err != nil {
		return cur
	}
	return prev
}
