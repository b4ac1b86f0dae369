package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Result tells the loop what to do after a successful sync.
type Result struct {
	// RequeueAfter schedules another sync of the key after this long.
	RequeueAfter time.Duration
}

// SyncFunc reconciles one key ("namespace/name" or "name"). A returned error
// retries the key with exponential back-off; wrap it with Terminal to log
// it and give up until the key is enqueued again.
type SyncFunc func(ctx context.Context, key string) (Result, error)

// Controller is what the manager runs.
type Controller interface {
	Name() string
	// Run blocks until ctx ends.
	Run(ctx context.Context) error
}

type terminalError struct{ err error }

func (t terminalError) Error() string { return t.err.Error() }
func (t terminalError) Unwrap() error { return t.err }

// Terminal marks an error that retrying cannot fix.
func Terminal(err error) error { return terminalError{err} }

// IsTerminal reports whether err (or an error it wraps) was marked Terminal.
func IsTerminal(err error) bool {
	var term terminalError
	return errors.As(err, &term)
}

// Loop is a named work queue whose workers call a SyncFunc.
type Loop struct {
	name    string
	sync    SyncFunc
	queue   workqueue.TypedRateLimitingInterface[string]
	log     *slog.Logger
	workers int
	synced  []cache.InformerSynced
}

// NewLoop returns a loop with the default controller rate limiter
// (per-key exponential back-off from 5 ms to 1000 s, overall 10 qps burst 100).
func NewLoop(name string, workers int, sync SyncFunc, log *slog.Logger) *Loop {
	return NewLoopWithRateLimiter(name, workers, sync, log, workqueue.DefaultTypedControllerRateLimiter[string]())
}

// NewLoopWithRateLimiter returns a loop whose retries follow rl, for
// controllers whose upstream counterpart caps its back-off differently.
func NewLoopWithRateLimiter(name string, workers int, sync SyncFunc, log *slog.Logger, rl workqueue.TypedRateLimiter[string]) *Loop {
	if log == nil {
		log = slog.Default()
	}
	q := workqueue.NewTypedRateLimitingQueueWithConfig(rl, workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
	return &Loop{name: name, sync: sync, queue: q, log: log.With("controller", name), workers: max(workers, 1)}
}

// Name returns the loop's name.
func (l *Loop) Name() string { return l.name }

// WaitFor adds informers whose caches must sync before workers start.
func (l *Loop) WaitFor(synced ...cache.InformerSynced) { l.synced = append(l.synced, synced...) }

// Add enqueues a key.
func (l *Loop) Add(key string) { l.queue.Add(key) }

// AddAfter enqueues a key after a delay.
func (l *Loop) AddAfter(key string, d time.Duration) { l.queue.AddAfter(key, d) }

// Enqueue enqueues the key of an object, including a deleted one's tombstone.
func (l *Loop) Enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		l.log.Error("cannot compute key", "err", err)
		return
	}
	l.queue.Add(key)
}

// Handler returns informer handlers that enqueue every added, updated and
// deleted object.
func (l *Loop) Handler() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    l.Enqueue,
		UpdateFunc: func(_, obj any) { l.Enqueue(obj) },
		DeleteFunc: l.Enqueue,
	}
}

// Len reports the queue depth (for tests and metrics).
func (l *Loop) Len() int { return l.queue.Len() }

// Run waits for the informer caches, runs the workers and blocks until
// ctx ends, then drains the queue.
func (l *Loop) Run(ctx context.Context) error {
	defer l.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), l.synced...) {
		return fmt.Errorf("%s: caches did not sync: %w", l.name, ctx.Err())
	}
	l.log.Debug("started", "workers", l.workers)
	for range l.workers {
		go l.worker(ctx)
	}
	<-ctx.Done()
	return nil
}

func (l *Loop) worker(ctx context.Context) {
	for l.next(ctx) {
	}
}

func (l *Loop) next(ctx context.Context) bool {
	key, quit := l.queue.Get()
	if quit {
		return false
	}
	defer l.queue.Done(key)
	res, err := l.sync(ctx, key)
	var term terminalError
	switch {
	case errors.As(err, &term):
		l.log.Error("sync failed; not retrying", "key", key, "err", err)
		l.queue.Forget(key)
	case err != nil:
		if ctx.Err() == nil {
			l.log.Debug("sync failed; retrying", "key", key, "err", err)
		}
		l.queue.AddRateLimited(key)
	default:
		l.queue.Forget(key)
		if res.RequeueAfter > 0 {
			l.queue.AddAfter(key, res.RequeueAfter)
		}
	}
	return true
}
