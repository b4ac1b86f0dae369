package garbagecollector

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/workqueue"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Name is the controller's name in the manager.
const Name = "garbagecollector"

// syncTimeout bounds the wait for every informer to list its resource
// before the workers start anyway: a resource that cannot be watched must
// not stop collection everywhere. Decisions are checked against the live
// API, so a missing informer costs promptness, not correctness.
const syncTimeout = 60 * time.Second

// Controller is the garbage collector.
type Controller struct {
	md       metadata.Interface
	disc     discovery.DiscoveryInterface
	mapper   *mapper
	graph    *graph
	monitors *monitors
	absent   *absentCache
	log      *slog.Logger
	workers  int
	resync   time.Duration

	changes  workqueue.TypedInterface[*change]
	toDelete workqueue.TypedRateLimitingInterface[types.UID]
	toOrphan workqueue.TypedRateLimitingInterface[types.UID]
}

// New returns the garbage collector. It watches resources with its own
// metadata informers, not the shared typed ones.
func New(cc controller.Context) (controller.Controller, error) {
	opts := cc.Options.WithDefaults()
	c := &Controller{
		md:      cc.Metadata,
		disc:    cc.Client.Discovery(),
		mapper:  newMapper(cc.Client.Discovery()),
		graph:   newGraph(),
		absent:  newAbsentCache(),
		log:     cc.Logger.With("controller", Name),
		workers: max(opts.Workers, 1),
		resync:  opts.GCResourceResyncPeriod,
		changes: workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[*change]{Name: "garbage_collector_graph_changes"}),
		toDelete: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[types.UID](),
			workqueue.TypedRateLimitingQueueConfig[types.UID]{Name: "garbage_collector_attempt_to_delete"}),
		toOrphan: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[types.UID](),
			workqueue.TypedRateLimitingQueueConfig[types.UID]{Name: "garbage_collector_attempt_to_orphan"}),
	}
	c.monitors = &monitors{md: c.md, log: c.log, m: map[schema.GroupVersionResource]*monitor{},
		observe: func(ch change) { c.changes.Add(&ch) }}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run watches every deletable resource and collects garbage until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer func() {
		c.monitors.stopAll()
		c.changes.ShutDown()
		c.toDelete.ShutDown()
		c.toOrphan.ShutDown()
		wg.Wait()
	}()
	if err := c.mapper.refresh(); err != nil {
		c.log.Warn("discovery failed; retrying", "err", err)
	}
	c.resyncMonitors(ctx)
	wg.Add(1)
	go func() { defer wg.Done(); c.processChanges() }()
	c.waitSynced(ctx)
	c.log.Debug("graph built; collecting", "workers", c.workers)
	for range c.workers {
		go c.worker(ctx, c.toDelete, c.attemptToDelete)
		go c.worker(ctx, c.toOrphan, c.attemptToOrphan)
	}
	wait.UntilWithContext(ctx, c.resyncMonitors, c.resync)
	return nil
}

func (c *Controller) waitSynced(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		return c.monitors.synced(), nil
	})
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		c.log.Warn("some resources did not sync; collecting anyway", "timeout", syncTimeout)
	}
}

// resyncMonitors follows resources appearing and going away.
func (c *Controller) resyncMonitors(ctx context.Context) {
	want, err := deletable(c.disc)
	if err != nil {
		c.log.Warn("resource discovery incomplete", "err", err)
	}
	if want == nil {
		return
	}
	if err != nil {
		// Keep watching what a failing group served before.
		c.monitors.mu.Lock()
		for gvr, m := range c.monitors.m {
			if _, ok := want[gvr]; !ok {
				want[gvr] = m.res
			}
		}
		c.monitors.mu.Unlock()
	}
	if c.monitors.sync(ctx, want) {
		if err := c.mapper.refresh(); err != nil {
			c.log.Warn("discovery failed", "err", err)
		}
	}
}

// processChanges applies observed changes to the graph, one at a time, in
// the order the informers delivered them.
func (c *Controller) processChanges() {
	for {
		ch, quit := c.changes.Get()
		if quit {
			return
		}
		w := c.graph.apply(*ch)
		c.changes.Done(ch)
		for _, uid := range w.attemptToDelete {
			c.toDelete.Add(uid)
		}
		for _, uid := range w.attemptToOrphan {
			c.toOrphan.Add(uid)
		}
	}
}

// result tells a worker what to do with an item.
type result int

const (
	forget result = iota
	requeue
)

func (c *Controller) worker(ctx context.Context, q workqueue.TypedRateLimitingInterface[types.UID], fn func(context.Context, types.UID) (result, error)) {
	for {
		uid, quit := q.Get()
		if quit {
			return
		}
		res, err := fn(ctx, uid)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				c.log.Debug("garbage collection failed; retrying", "uid", uid, "err", err)
			}
			q.AddRateLimited(uid)
		case res == requeue:
			q.AddRateLimited(uid)
		default:
			q.Forget(uid)
		}
		q.Done(uid)
	}
}
