package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/navarch/navarch/internal/storage"
)

// progressEvery re-asks etcd for progress while waiting: a request made
// while the cache's watch was being (re)established is simply lost.
const progressEvery = 250 * time.Millisecond

// WaitFresh makes the cache at least as new as etcd is now, for consistent
// reads, and returns that revision. It fails with an error wrapping
// storage.ErrUnavailable after Options.FreshTimeout.
func (c *Cache) WaitFresh(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.FreshTimeout)
	defer cancel()
	want, err := c.s.CurrentRevision(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: current revision for %s: %w", storage.ErrUnavailable, c.prefix, err)
	}
	if err := c.waitFor(ctx, want); err != nil {
		return 0, fmt.Errorf("%w: cache of %s did not reach revision %d: %w", storage.ErrUnavailable, c.prefix, want, err)
	}
	return want, nil
}

// WaitRev blocks until the cache reflects revision rev, for reads that must
// be "not older than" rev. If that does not happen within
// Options.FreshTimeout the error wraps storage.ErrFutureRevision when etcd
// itself has not reached rev (upstream's "Too large resource version"),
// storage.ErrUnavailable otherwise.
func (c *Cache) WaitRev(ctx context.Context, rev int64) error {
	if c.Revision() >= rev {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, c.opts.FreshTimeout)
	defer cancel()
	err := c.waitFor(wctx, rev)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: waiting for revision %d: %w", storage.ErrUnavailable, rev, ctx.Err())
	}
	cctx, ccancel := context.WithTimeout(ctx, time.Second)
	defer ccancel()
	cur, cerr := c.s.CurrentRevision(cctx)
	if cerr == nil && rev > cur {
		return fmt.Errorf("%w: resource version %d is newer than %d", storage.ErrFutureRevision, rev, cur)
	}
	return fmt.Errorf("%w: cache of %s did not reach revision %d: %w", storage.ErrUnavailable, c.prefix, rev, err)
}

// waitFor waits until the cache revision is at least want, asking etcd for
// progress notifications so that an idle prefix still catches up.
func (c *Cache) waitFor(ctx context.Context, want int64) error {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	ask := true
	for {
		rev, moved := c.revWait()
		if rev >= want {
			return nil
		}
		if ask {
			if err := c.s.RequestProgress(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("watch cache progress request failed", "err", err)
			}
			ask = false
		}
		select {
		case <-moved:
		case <-tick.C:
			ask = true
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
