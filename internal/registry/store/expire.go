package store

import (
	"context"
	"errors"
	"time"

	"github.com/navarch/navarch/internal/storage"
	"github.com/navarch/navarch/internal/storage/cache"
)

// RunExpiry deletes the resource's objects once ttl has passed since their
// Resource.LastWritten time, as kube-apiserver expires Events after
// --event-ttl, until ctx ends. It does nothing if ttl <= 0 or the resource
// does not expire. It waits for the watch cache, sweeps right away (a
// server that was down may find a backlog) and then every ttl/4, between a
// second and a minute. An object whose LastWritten is zero never expires:
// the store stamps creationTimestamp, so only objects written around it
// lack a time.
//
// Expired objects are deleted straight from storage, skipping finalizers
// and grace periods as upstream's etcd leases do. Each delete is
// conditional on the revision that was judged expired: if it fails,
// another API server got there first or a concurrent update rewrote the
// object, which restarts its clock anyway.
func (st *Store) RunExpiry(ctx context.Context, ttl time.Duration) {
	if ttl <= 0 || st.res.LastWritten == nil {
		return
	}
	select {
	case <-st.cache.Ready():
	case <-ctx.Done():
		return
	}
	tick := time.NewTicker(max(time.Second, min(ttl/4, time.Minute)))
	defer tick.Stop()
	for {
		st.expire(ctx, ttl)
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// expire makes one pass over the watch cache.
func (st *Store) expire(ctx context.Context, ttl time.Duration) {
	entries, _ := st.cache.List(st.prefix, cache.Predicate{})
	cutoff := time.Now().Add(-ttl)
	n := 0
	for _, e := range entries {
		if t := st.res.LastWritten(e.Object); t.IsZero() || !t.Before(cutoff) {
			continue
		}
		_, err := st.s.Delete(ctx, e.Key, e.Rev)
		switch {
		case err == nil:
			n++
		case ctx.Err() != nil:
			return
		case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrConflict):
		default:
			st.log.Warn("expire object", "resource", st.gr, "key", e.Key, "err", err)
		}
	}
	if n > 0 {
		st.log.Debug("expired objects", "resource", st.gr, "count", n, "ttl", ttl)
	}
}
