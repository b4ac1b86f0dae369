package store

import (
	"context"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/storage/cache"
)

// Watch starts a watch with the upstream resourceVersion semantics: "" and
// "0" first send the current state as ADDED events, N resumes after N.
// sendInitialEvents overrides that choice, as the watch-list protocol asks.
func (st *Store) Watch(ctx context.Context, ns string, opts ListOptions) (Watcher, error) {
	wo := cache.WatchOptions{Bookmarks: opts.AllowBookmarks}
	switch opts.ResourceVersion {
	case "", "0":
		if opts.ResourceVersion == "" && !st.direct {
			if _, err := st.cache.WaitFresh(ctx); err != nil {
				return nil, ToAPI(err, st.gr, "")
			}
		}
		wo.AfterRev = st.cache.Revision()
		wo.SendInitialEvents = true
	default:
		n, err := parseRV(opts.ResourceVersion)
		if err != nil {
			return nil, err
		}
		wo.AfterRev = n
	}
	if opts.SendInitialEvents != nil {
		wo.SendInitialEvents = *opts.SendInitialEvents
		if wo.SendInitialEvents && opts.ResourceVersionMatch == string(metav1.ResourceVersionMatchNotOlderThan) && opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
			if err := st.cache.WaitRev(ctx, wo.AfterRev); err != nil {
				return nil, ToAPI(err, st.gr, "")
			}
		}
	}
	w, err := st.cache.Watch(ctx, st.nsPrefix(ns), opts.Predicate, wo)
	if err != nil {
		return nil, ToAPI(err, st.gr, "")
	}
	return w, nil
}

// rvString formats a revision as a resourceVersion.
func rvString(rev int64) string { return strconv.FormatInt(rev, 10) }
