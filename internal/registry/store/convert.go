package store

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/storage/cache"
)

// Converting serves one API version of a resource that is stored as
// another version, by converting on the way in and out of that version's
// store. Both versions then share one etcd prefix and one watch cache.
type Converting struct {
	res     *registry.Resource
	backing *Store
}

// NewConverting returns a store for res backed by the store of its
// Conversion.Storage resource.
func NewConverting(res *registry.Resource, backing *Store) *Converting {
	return &Converting{res: res, backing: backing}
}

// Resource implements Interface.
func (c *Converting) Resource() *registry.Resource { return c.res }

func (c *Converting) out(obj runtime.Object, err error) (runtime.Object, error) {
	if err != nil {
		return nil, err
	}
	conv, cerr := c.res.Conversion.FromStorage(obj)
	if cerr != nil {
		return nil, apierrors.NewInternalError(cerr)
	}
	conv.GetObjectKind().SetGroupVersionKind(c.res.GVK())
	return conv, nil
}

func (c *Converting) in(obj runtime.Object) (runtime.Object, error) {
	conv, err := c.res.Conversion.ToStorage(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return conv, nil
}

// Get implements Interface.
func (c *Converting) Get(ctx context.Context, ns, name string, opts GetOptions) (runtime.Object, error) {
	return c.out(c.backing.Get(ctx, ns, name, opts))
}

// List implements Interface.
func (c *Converting) List(ctx context.Context, ns string, opts ListOptions) (runtime.Object, error) {
	entries, lm, err := c.backing.ListEntries(ctx, ns, opts)
	if err != nil {
		return nil, err
	}
	objs := make([]runtime.Object, 0, len(entries))
	for _, e := range entries {
		o, err := c.out(e.Object.DeepCopyObject(), nil)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	list := c.res.NewList()
	if err := meta.SetList(list, objs); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	la, _ := meta.ListAccessor(list)
	la.SetResourceVersion(lm.ResourceVersion)
	la.SetContinue(lm.Continue)
	la.SetRemainingItemCount(lm.RemainingItemCount)
	gvk := c.res.GVK()
	gvk.Kind += "List"
	list.GetObjectKind().SetGroupVersionKind(gvk)
	return list, nil
}

// Create implements Interface. The served version's own rules run before
// conversion, so that each version validates what its users send.
func (c *Converting) Create(ctx context.Context, ns string, obj runtime.Object, opts WriteOptions) (runtime.Object, error) {
	if acc, err := meta.Accessor(obj); err == nil && c.res.Namespaced && acc.GetNamespace() == "" {
		acc.SetNamespace(ns)
	}
	if err := c.validate(ctx, obj, nil); err != nil {
		return nil, err
	}
	s, err := c.in(obj)
	if err != nil {
		return nil, err
	}
	return c.out(c.backing.Create(ctx, ns, s, opts))
}

// Update implements Interface.
func (c *Converting) Update(ctx context.Context, ns, name string, fn UpdateFunc, opts WriteOptions) (runtime.Object, error) {
	wrapped := func(ctx context.Context, cur runtime.Object) (runtime.Object, error) {
		served, err := c.out(cur, nil)
		if err != nil {
			return nil, err
		}
		next, err := fn(ctx, served)
		if err != nil {
			return nil, err
		}
		if opts.Subresource == Main {
			if err := c.validate(ctx, next, served); err != nil {
				return nil, err
			}
		}
		return c.in(next)
	}
	return c.out(c.backing.Update(ctx, ns, name, wrapped, opts))
}

// Delete implements Interface.
func (c *Converting) Delete(ctx context.Context, ns, name string, opts DeleteOptions) (runtime.Object, bool, error) {
	obj, gone, err := c.backing.Delete(ctx, ns, name, opts)
	out, err := c.out(obj, err)
	return out, gone, err
}

// Watch implements Interface.
func (c *Converting) Watch(ctx context.Context, ns string, opts ListOptions) (Watcher, error) {
	w, err := c.backing.Watch(ctx, ns, opts)
	if err != nil {
		return nil, err
	}
	cw := &convWatcher{inner: w, ch: make(chan cache.Event, 64), c: c, done: make(chan struct{})}
	go cw.run()
	return cw, nil
}

type convWatcher struct {
	inner Watcher
	ch    chan cache.Event
	c     *Converting
	done  chan struct{}
	once  sync.Once
}

func (w *convWatcher) ResultChan() <-chan cache.Event { return w.ch }
func (w *convWatcher) Stop() {
	w.once.Do(func() { close(w.done) })
	w.inner.Stop()
}

func (w *convWatcher) run() {
	defer close(w.ch)
	for ev := range w.inner.ResultChan() {
		if ev.Entry != nil {
			obj, err := w.c.out(ev.Entry.Object.DeepCopyObject(), nil)
			if err != nil {
				continue
			}
			e := ev.Entry
			ev.Entry = &cache.Entry{Key: e.Key, Object: obj, Labels: e.Labels, Fields: e.Fields, Rev: e.Rev}
		}
		select {
		case w.ch <- ev:
		case <-w.done:
			return
		}
	}
}

// validate defaults and validates obj with the served version's strategy.
func (c *Converting) validate(ctx context.Context, obj, old runtime.Object) error {
	st := c.res.Strategy
	if st == nil {
		return nil
	}
	st.Default(obj)
	var errs field.ErrorList
	if old == nil {
		errs = st.Validate(ctx, obj)
	} else {
		errs = st.ValidateUpdate(ctx, obj, old)
	}
	if len(errs) == 0 {
		return nil
	}
	name := ""
	if acc, err := meta.Accessor(obj); err == nil {
		name = acc.GetName()
	}
	return apierrors.NewInvalid(c.res.GVK().GroupKind(), name, errs)
}
