package namespace

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
)

// parallelism bounds the resources emptied at once: enough to overlap
// round trips, few enough not to flood the API server.
const parallelism = 4

// resource is one namespaced resource that can be emptied.
type resource struct {
	gvr schema.GroupVersionResource
	// collection: the resource serves deletecollection, so one request
	// empties it; otherwise objects are listed and deleted one by one.
	collection bool
}

// deleter empties namespaces through discovery and the metadata client.
type deleter struct {
	disc discovery.DiscoveryInterface
	md   metadata.Interface
	now  func() time.Time
}

// resources lists the preferred version of every namespaced resource that
// can be listed and deleted. A partial discovery failure returns what was
// found together with the error.
func (d *deleter) resources() ([]resource, error) {
	lists, err := discovery.ServerPreferredNamespacedResources(d.disc)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, err
	}
	var out []resource
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") {
				continue
			}
			out = append(out, resource{gvr: gv.WithResource(r.Name), collection: slices.Contains(r.Verbs, "deletecollection")})
		}
	}
	return out, err
}

// deleteContent makes one pass over ns: it deletes everything, then
// counts what is left. estimate is how long the slowest graceful deletion
// still has to run (0 when none is pending).
func (d *deleter) deleteContent(ctx context.Context, ns string) (o *outcome, estimate time.Duration) {
	o = &outcome{remaining: map[string]int{}, finalizers: map[string]int{}}
	res, err := d.resources()
	o.discoveryErr = err
	if res == nil && err != nil {
		return o, 0
	}
	var mu sync.Mutex
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for _, r := range res {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			left, err := d.empty(ctx, ns, r)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				o.deleteErrs = append(o.deleteErrs, err)
			}
			left.addTo(o, r.gvr.GroupResource().String())
			estimate = max(estimate, left.wait)
		}()
	}
	wg.Wait()
	return o, estimate
}

// leftover is what remains of one resource after deletion.
type leftover struct {
	count      int
	finalizers map[string]int
	wait       time.Duration
}

func (l leftover) addTo(o *outcome, gr string) {
	if l.count > 0 {
		o.remaining[gr] += l.count
	}
	for f, n := range l.finalizers {
		o.finalizers[f] += n
	}
}

// empty deletes every object of r in ns (dependents in the background, as
// upstream does) and reports what is still there.
func (d *deleter) empty(ctx context.Context, ns string, r resource) (leftover, error) {
	client := d.md.Resource(r.gvr).Namespace(ns)
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	deleted := false
	if r.collection {
		err := client.DeleteCollection(ctx, opts, metav1.ListOptions{})
		switch {
		case err == nil:
			deleted = true
		case !apierrors.IsMethodNotSupported(err) && !apierrors.IsNotFound(err):
			return leftover{}, fmt.Errorf("delete collection of %s: %w", r.gvr.GroupResource(), err)
		}
	}
	list, err := client.List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return leftover{}, nil
	}
	if err != nil {
		return leftover{}, fmt.Errorf("list %s: %w", r.gvr.GroupResource(), err)
	}
	left := leftover{finalizers: map[string]int{}}
	var firstErr error
	now := d.now()
	for i := range list.Items {
		item := &list.Items[i]
		if !deleted && item.DeletionTimestamp == nil {
			if err := client.Delete(ctx, item.Name, opts); err != nil && !apierrors.IsNotFound(err) && firstErr == nil {
				firstErr = fmt.Errorf("delete %s %s: %w", r.gvr.GroupResource(), item.Name, err)
			}
			// Counted as remaining: this pass cannot know whether the
			// delete was immediate; the next one will.
		}
		left.count++
		for _, f := range item.Finalizers {
			left.finalizers[f]++
		}
		if ts := item.DeletionTimestamp; ts != nil && ts.After(now) {
			left.wait = max(left.wait, ts.Sub(now))
		}
	}
	return left, firstErr
}
