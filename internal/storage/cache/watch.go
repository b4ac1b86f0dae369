package cache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/navarch/navarch/internal/storage"
)

// Watcher is one client's watch. Events arrive on ResultChan, which is
// closed when the watch ends: Stop, the watch context ending, the watcher
// falling too far behind, a re-list of the cache, or an Error event.
type Watcher struct {
	c         *Cache
	prefix    string
	pred      Predicate
	all       bool
	bookmarks bool

	// in is the queue the dispatcher fills without blocking. Sends and
	// close happen only under c.wmu; closed records the close.
	in     chan Event
	closed bool

	out      chan Event
	done     chan struct{}
	stopOnce sync.Once
}

// ResultChan returns the event stream.
func (w *Watcher) ResultChan() <-chan Event { return w.out }

// Stop ends the watch; ResultChan is closed soon after. Safe to call more
// than once and from any goroutine.
func (w *Watcher) Stop() {
	w.stopOnce.Do(func() {
		close(w.done)
		w.c.removeWatcher(w)
	})
}

// start is what a cache-served watcher sends before live events.
type start struct {
	// snapshot holds the initial Added entries (SendInitialEvents).
	snapshot []*Entry
	// end asks for the closing bookmark, at endRev.
	end    bool
	endRev int64
	// replay holds window events after the requested revision.
	replay []Event
}

// Watch starts a watch over keys under prefix that match pred. A revision
// newer than the cache is waited for (bounded), and the error wraps
// storage.ErrFutureRevision if etcd has not reached it either. A revision
// older than the event window is served straight from etcd; if etcd no
// longer has it the watch yields an Error event with storage.ErrCompacted.
func (c *Cache) Watch(ctx context.Context, prefix string, pred Predicate, opts WatchOptions) (*Watcher, error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: watch %s before the cache was ready: %w", storage.ErrUnavailable, prefix, ctx.Err())
	}
	if opts.AfterRev > c.Revision() {
		if err := c.WaitRev(ctx, opts.AfterRev); err != nil {
			return nil, fmt.Errorf("watch %s: %w", prefix, err)
		}
	}
	w := &Watcher{
		c:         c,
		prefix:    prefix,
		pred:      pred,
		all:       pred.Empty(),
		bookmarks: opts.Bookmarks,
		out:       make(chan Event),
		done:      make(chan struct{}),
	}
	c.mu.RLock()
	st, ok := c.startLocked(w, opts)
	if ok {
		// Registering under the read lock means no change can be applied
		// between the snapshot or replay and the first live event.
		w.in = make(chan Event, c.opts.WatcherBuffer)
		c.addWatcher(w)
	}
	c.mu.RUnlock()
	if !ok {
		go w.direct(ctx, opts.AfterRev)
		return w, nil
	}
	go w.forward(ctx, st)
	return w, nil
}

// startLocked decides where w starts; false means the window does not
// reach back far enough. Caller holds c.mu.
func (c *Cache) startLocked(w *Watcher, opts WatchOptions) (start, bool) {
	switch {
	case opts.SendInitialEvents:
		st := start{snapshot: c.collect(w.prefix, w.pred)}
		st.end, st.endRev = opts.Bookmarks, c.rev
		return st, true
	case opts.AfterRev == 0 || opts.AfterRev >= c.rev:
		return start{}, true
	case c.window.covers(opts.AfterRev):
		var st start
		for _, ch := range c.window.since(opts.AfterRev) {
			if ev, ok := ch.eventFor(w.prefix, w.pred, w.all); ok {
				st.replay = append(st.replay, ev)
			}
		}
		return st, true
	}
	return start{}, false
}

func (c *Cache) addWatcher(w *Watcher) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.stopped {
		w.closed = true
		close(w.in)
		return
	}
	c.watchers[w] = struct{}{}
}

func (c *Cache) removeWatcher(w *Watcher) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.terminateLocked(w)
}

// terminateLocked unregisters w and closes its queue; the forwarder then
// delivers what is queued and closes ResultChan. Caller holds c.wmu.
func (c *Cache) terminateLocked(w *Watcher) {
	delete(c.watchers, w)
	if w.in != nil && !w.closed {
		w.closed = true
		close(w.in)
	}
}

// terminateAll ends every cache-served watcher; stop also refuses new ones
// because nothing will feed them once Run has returned.
func (c *Cache) terminateAll(stop bool) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.stopped = c.stopped || stop
	for w := range c.watchers {
		c.terminateLocked(w)
	}
}

// dispatch queues ch for every interested watcher without blocking. Caller
// holds c.mu for writing, so events are queued in revision order.
func (c *Cache) dispatch(ch *change) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for w := range c.watchers {
		ev, ok := ch.eventFor(w.prefix, w.pred, w.all)
		if !ok {
			continue
		}
		select {
		case w.in <- ev:
		default:
			c.log.Info("terminating watcher that fell behind", "watchPrefix", w.prefix, "rev", ch.rev)
			c.terminateLocked(w)
		}
	}
}

func (c *Cache) bookmarkLoop(ctx context.Context) {
	t := time.NewTicker(c.opts.BookmarkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.sendBookmarks()
		}
	}
}

// sendBookmarks tells idle bookmark watchers how far the cache has got, so
// that they can resume from there without a relist. Busy watchers learn
// revisions from their events and are skipped.
func (c *Cache) sendBookmarks() {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ev := Event{Type: watch.Bookmark, Rev: c.rev}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for w := range c.watchers {
		if !w.bookmarks || len(w.in) > 0 {
			continue
		}
		select {
		case w.in <- ev:
		default:
		}
	}
}

// forward delivers the start events, then the queue, to the client.
func (w *Watcher) forward(ctx context.Context, st start) {
	defer close(w.out)
	defer w.Stop()
	for _, e := range st.snapshot {
		if !w.send(ctx, Event{Type: watch.Added, Entry: e, Rev: e.Rev}) {
			return
		}
	}
	if st.end {
		if !w.send(ctx, Event{Type: watch.Bookmark, Rev: st.endRev, InitialEventsEnd: true}) {
			return
		}
	}
	for _, ev := range st.replay {
		if !w.send(ctx, ev) {
			return
		}
	}
	for {
		select {
		case ev, ok := <-w.in:
			if !ok || !w.send(ctx, ev) {
				return
			}
		case <-w.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (w *Watcher) send(ctx context.Context, ev Event) bool {
	select {
	case w.out <- ev:
		return true
	case <-w.done:
		return false
	case <-ctx.Done():
		return false
	}
}
