package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/navarch/navarch/internal/storage"
)

// listPage bounds one etcd range read during a (re-)list.
const listPage = 10000

var errWatchClosed = errors.New("cache: storage watch closed")

// Run lists the prefix, then follows it with one etcd watch, re-listing
// whenever history is lost. It blocks until ctx ends and then returns nil.
func (c *Cache) Run(ctx context.Context) error {
	go c.bookmarkLoop(ctx)
	defer c.terminateAll(true)
	backoff := newBackoff()
	needList := true
	for ctx.Err() == nil {
		if needList {
			if err := c.relist(ctx); err != nil {
				c.log.Warn("watch cache list failed", "err", err)
				backoff.wait(ctx)
				continue
			}
			needList = false
		}
		from := c.Revision()
		err := c.follow(ctx, from)
		if ctx.Err() != nil {
			break
		}
		if c.Revision() > from {
			backoff.reset()
		}
		// Lost history cannot be replayed: re-list. Anything else (a
		// broken connection) resumes from the cache revision.
		needList = errors.Is(err, storage.ErrCompacted)
		c.log.Info("watch cache restarting watch", "err", err, "relist", needList)
		if !needList {
			backoff.wait(ctx)
		}
	}
	return nil
}

// relist replaces the whole store with a fresh list. Watchers served from
// the cache are closed: the changes between the old revision and the list
// are unknown, so their clients must resume from their own revision.
func (c *Cache) relist(ctx context.Context) error {
	items, rev, err := c.listAll(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.items = newIndex(items)
	c.window.reset(rev)
	c.setRevLocked(rev)
	c.terminateAll(false)
	c.mu.Unlock()
	c.readyOnce.Do(func() { close(c.ready) })
	return nil
}

func (c *Cache) listAll(ctx context.Context) (map[string]*Entry, int64, error) {
	items := map[string]*Entry{}
	opts := storage.ListOptions{Limit: listPage}
	for {
		res, err := c.s.List(ctx, c.prefix, opts)
		if err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", c.prefix, err)
		}
		for _, kv := range res.Items {
			e, err := c.decode(kv)
			if err != nil {
				c.log.Error("watch cache cannot decode object", "key", kv.Key, "err", err)
				continue
			}
			items[kv.Key] = e
		}
		// Later pages must be read at the revision of the first one.
		opts.Revision = res.Revision
		if !res.More || len(res.Items) == 0 {
			return items, res.Revision, nil
		}
		opts.StartKey = res.Items[len(res.Items)-1].Key + "\x00"
	}
}

// follow applies the storage watch from rev until it fails.
func (c *Cache) follow(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for ev := range c.s.Watch(wctx, c.prefix, rev) {
		if ev.Type == storage.EventError {
			return fmt.Errorf("watch %s from %d: %w", c.prefix, rev, ev.Err)
		}
		c.apply(ev)
	}
	return errWatchClosed
}

// apply folds one storage event into the store, window and watchers.
// Decoding happens before the write lock so that readers wait only for the
// map update and the non-blocking fan-out.
func (c *Cache) apply(ev storage.Event) {
	ch := c.prepare(ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.Revision < c.rev {
		return
	}
	if ev.Type == storage.EventDelete {
		c.items.remove(ev.Key)
	}
	c.setRevLocked(ev.Revision)
	if ch == nil {
		return
	}
	if ch.typ != watch.Deleted {
		c.items.put(ch.cur)
	}
	c.window.add(ch)
	c.dispatch(ch)
}

// prepare builds the change for a put or delete; nil means there is nothing
// to tell watchers. Only Run's goroutine writes the store, so the cached
// previous state read here is still current when apply installs the change.
func (c *Cache) prepare(ev storage.Event) *change {
	if ev.Type != storage.EventPut && ev.Type != storage.EventDelete {
		return nil
	}
	c.mu.RLock()
	prev := c.items.get(ev.Key)
	c.mu.RUnlock()
	if ev.Type == storage.EventPut {
		return c.prepPut(ev, prev)
	}
	return c.prepDelete(ev, prev)
}

func (c *Cache) prepPut(ev storage.Event, prev *Entry) *change {
	kv := storage.KeyValue{Key: ev.Key, Value: ev.Value, ModRevision: ev.Revision}
	if ev.Created {
		kv.CreateRevision = ev.Revision
	}
	e, err := c.decode(kv)
	if err != nil {
		// The stale entry stays: dropping it would be a delete nobody made.
		c.log.Error("watch cache cannot decode object", "key", ev.Key, "rev", ev.Revision, "err", err)
		return nil
	}
	typ := watch.Modified
	if prev == nil {
		typ = watch.Added
	}
	return &change{rev: ev.Revision, typ: typ, cur: e, prev: prev}
}

// prepDelete builds the last state stamped with the deletion revision,
// which is what upstream reports in a DELETED event.
func (c *Cache) prepDelete(ev storage.Event, prev *Entry) *change {
	var last *Entry
	switch {
	case prev != nil:
		last = restamp(prev, ev.Revision)
	case ev.PrevValue != nil:
		// Not cached (it failed to decode before?): try the etcd copy.
		e, err := c.decode(storage.KeyValue{Key: ev.Key, Value: ev.PrevValue, ModRevision: ev.Revision})
		if err != nil {
			c.log.Error("watch cache cannot decode deleted object", "key", ev.Key, "err", err)
			return nil
		}
		last = e
	default:
		return nil
	}
	return &change{rev: ev.Revision, typ: watch.Deleted, cur: last, prev: prev}
}

// backoff spaces out retries against an unhealthy etcd.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 50 * time.Millisecond} }

func (b *backoff) reset() { b.d = 50 * time.Millisecond }

func (b *backoff) wait(ctx context.Context) {
	t := time.NewTimer(b.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	b.d = min(b.d*2, 5*time.Second)
}
