package cache

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/navarch/navarch/internal/storage"
)

// Defaults for Options fields left zero.
const (
	DefaultEventWindow      = 1000
	DefaultBookmarkInterval = 10 * time.Second
	DefaultWatcherBuffer    = 256
	DefaultFreshTimeout     = 3 * time.Second
)

// Options tunes a Cache. Zero values pick the defaults above.
type Options struct {
	// EventWindow is how many recent events are kept so that watches can
	// resume from a recent resourceVersion without going to etcd.
	EventWindow int
	// BookmarkInterval is how often bookmark-enabled watchers get a
	// Bookmark carrying the cache revision.
	BookmarkInterval time.Duration
	// WatcherBuffer is each watcher's queue length. A watcher that falls
	// that far behind is terminated (its channel closed) so that it cannot
	// hold up the others; the client re-watches from its last revision.
	WatcherBuffer int
	// FreshTimeout bounds WaitFresh and WaitRev (upstream uses 3s).
	FreshTimeout time.Duration
	// Logger receives decode and watch failures; nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.EventWindow <= 0 {
		o.EventWindow = DefaultEventWindow
	}
	if o.BookmarkInterval <= 0 {
		o.BookmarkInterval = DefaultBookmarkInterval
	}
	if o.WatcherBuffer <= 0 {
		o.WatcherBuffer = DefaultWatcherBuffer
	}
	if o.FreshTimeout <= 0 {
		o.FreshTimeout = DefaultFreshTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Cache mirrors every object under one key prefix. Lock order: mu before
// wmu. mu guards the store, the window and the revision; wmu guards the
// watcher set and every send to or close of a watcher queue, so that Stop
// never waits for a reader of the store.
type Cache struct {
	s      storage.Interface
	prefix string
	decode DecodeFunc
	opts   Options
	log    *slog.Logger

	mu     sync.RWMutex
	items  *index
	rev    int64
	window *window
	// revCh is closed (and replaced) whenever rev advances, waking WaitRev.
	revCh chan struct{}

	wmu      sync.Mutex
	watchers map[*Watcher]struct{}
	stopped  bool

	ready     chan struct{}
	readyOnce sync.Once
}

// New returns a cache of the keys under prefix. Nothing happens until Run.
func New(s storage.Interface, prefix string, decode DecodeFunc, opts Options) *Cache {
	opts = opts.withDefaults()
	return &Cache{
		s:        s,
		prefix:   prefix,
		decode:   decode,
		opts:     opts,
		log:      opts.Logger.With("prefix", prefix),
		items:    newIndex(map[string]*Entry{}),
		window:   newWindow(opts.EventWindow),
		revCh:    make(chan struct{}),
		watchers: map[*Watcher]struct{}{},
		ready:    make(chan struct{}),
	}
}

// Ready is closed once the first list has been loaded.
func (c *Cache) Ready() <-chan struct{} { return c.ready }

// Revision returns the newest revision the cache reflects.
func (c *Cache) Revision() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// Get returns the cached entry for key and the cache revision.
func (c *Cache) Get(key string) (*Entry, int64, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.items.get(key)
	if e == nil {
		return nil, c.rev, fmt.Errorf("cache %s: %w", key, storage.ErrNotFound)
	}
	return e, c.rev, nil
}

// List returns the entries under prefix that match pred, sorted by key,
// and the revision they were read at.
func (c *Cache) List(prefix string, pred Predicate) ([]*Entry, int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.collect(prefix, pred), c.rev
}

// collect returns a new slice of the matching entries in key order. Caller
// holds mu.
func (c *Cache) collect(prefix string, pred Predicate) []*Entry {
	in := c.items.withPrefix(prefix)
	if pred.Empty() {
		return slices.Clone(in)
	}
	var out []*Entry
	for _, e := range in {
		if pred.Matches(e) {
			out = append(out, e)
		}
	}
	return out
}

// setRevLocked advances the revision and wakes revision waiters. Caller
// holds mu for writing.
func (c *Cache) setRevLocked(rev int64) {
	if rev == c.rev {
		return
	}
	c.rev = rev
	close(c.revCh)
	c.revCh = make(chan struct{})
}

// revWait returns the current revision and a channel closed when it moves.
func (c *Cache) revWait() (int64, <-chan struct{}) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev, c.revCh
}
