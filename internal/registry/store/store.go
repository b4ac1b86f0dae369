// Package store is the generic object store: it applies a resource's
// strategy (defaults, validation, server-owned fields) around calls to the
// storage layer, keeps the resource's watch cache, and answers with typed
// objects and apimachinery status errors. It does not speak HTTP; the API
// server decodes requests and encodes whatever the store returns.
package store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/storage"
	"github.com/navarch/navarch/internal/storage/cache"
)

// Interface is what the API server needs from a resource's store. Errors are
// *apierrors.StatusError values ready to be written to the client.
type Interface interface {
	Resource() *registry.Resource
	Get(ctx context.Context, ns, name string, opts GetOptions) (runtime.Object, error)
	List(ctx context.Context, ns string, opts ListOptions) (runtime.Object, error)
	Watch(ctx context.Context, ns string, opts ListOptions) (Watcher, error)
	Create(ctx context.Context, ns string, obj runtime.Object, opts WriteOptions) (runtime.Object, error)
	// Update reads the current object, passes a private copy to fn and
	// writes what fn returns, retrying fn on a lost compare-and-swap unless
	// the object fn returns names an explicit resourceVersion.
	Update(ctx context.Context, ns, name string, fn UpdateFunc, opts WriteOptions) (runtime.Object, error)
	// Delete reports whether the object is gone (false: deletion pending
	// on finalizers or a grace period).
	Delete(ctx context.Context, ns, name string, opts DeleteOptions) (runtime.Object, bool, error)
}

// UpdateFunc turns the current object into the desired one.
type UpdateFunc func(ctx context.Context, current runtime.Object) (runtime.Object, error)

// Subresource selects what part of an object a write may change.
type Subresource string

// Subresources the store knows how to restrict writes to.
const (
	Main   Subresource = ""
	Status Subresource = "status"
	// Finalize is a Namespace's /finalize: only spec.finalizers change.
	Finalize Subresource = "finalize"
	// Binding is a Pod's /binding: the caller sets spec.nodeName and the
	// PodScheduled condition, which a main-resource update may not.
	Binding Subresource = "binding"
)

// GetOptions mirrors metav1.GetOptions.
type GetOptions struct{ ResourceVersion string }

// ListOptions mirrors the parts of metav1.ListOptions the store uses.
type ListOptions struct {
	Predicate            cache.Predicate
	ResourceVersion      string
	ResourceVersionMatch string
	Limit                int64
	Continue             string
	// Watch-only options.
	AllowBookmarks    bool
	SendInitialEvents *bool
}

// WriteOptions carries dryRun and the subresource being written.
type WriteOptions struct {
	DryRun      bool
	Subresource Subresource
}

// DeleteOptions mirrors metav1.DeleteOptions.
type DeleteOptions struct {
	DryRun             bool
	GracePeriodSeconds *int64
	PreconditionUID    *string
	PreconditionRV     *string
	Propagation        string
}

// Watcher streams events. Objects in events are shared and read-only.
type Watcher interface {
	ResultChan() <-chan cache.Event
	Stop()
}

// Store serves one resource from etcd through its watch cache.
type Store struct {
	res     *registry.Resource
	gr      schema.GroupResource
	s       storage.Interface
	cache   *cache.Cache
	prefix  string
	proto   runtime.Serializer
	nsCheck NamespaceChecker
	log     *slog.Logger
	// direct: see Config.ConsistentFromEtcd.
	direct bool
}

// NamespaceChecker reports whether an object of gr named name may be
// created in ns: the namespace must exist and not be terminating.
type NamespaceChecker func(ctx context.Context, ns string, gr schema.GroupResource, name string) error

// Config wires a Store.
type Config struct {
	Storage storage.Interface
	// Namespaces checks that a namespace exists and is not terminating.
	Namespaces NamespaceChecker
	Cache      cache.Options
	Logger     *slog.Logger
	// ConsistentFromEtcd serves consistent reads (resourceVersion "")
	// straight from etcd instead of the watch cache, for etcd releases whose
	// progress notifications cannot prove the cache fresh.
	ConsistentFromEtcd bool
}

// New returns the store of res. Call Run to start its watch cache.
func New(res *registry.Resource, cfg Config) *Store {
	st := &Store{
		res:     res,
		gr:      schema.GroupResource{Group: res.Group, Resource: res.Resource},
		s:       cfg.Storage,
		prefix:  KeyPrefix(res.Group, res.Resource),
		proto:   protobuf.NewSerializer(scheme.Scheme, scheme.Scheme),
		nsCheck: cfg.Namespaces,
		log:     cfg.Logger,
		direct:  cfg.ConsistentFromEtcd,
	}
	if st.log == nil {
		st.log = slog.Default()
	}
	st.cache = cache.New(cfg.Storage, st.prefix, st.decodeEntry, cfg.Cache)
	return st
}

// KeyPrefix is the etcd prefix under which a resource's objects live.
func KeyPrefix(group, resource string) string {
	if group == "" {
		group = "core"
	}
	return "/registry/" + group + "/" + resource + "/"
}

// Resource implements Interface.
func (st *Store) Resource() *registry.Resource { return st.res }

// Cache exposes the watch cache (for readiness and namespace checks).
func (st *Store) Cache() *cache.Cache { return st.cache }

// Run keeps the watch cache in sync until ctx ends.
func (st *Store) Run(ctx context.Context) error { return st.cache.Run(ctx) }

func (st *Store) key(ns, name string) string {
	if st.res.Namespaced {
		return st.prefix + ns + "/" + name
	}
	return st.prefix + name
}

// nsPrefix is the key prefix of one namespace, or of everything for "".
func (st *Store) nsPrefix(ns string) string {
	if st.res.Namespaced && ns != "" {
		return st.prefix + ns + "/"
	}
	return st.prefix
}

// encode serializes obj for etcd without its resourceVersion: the etcd
// revision is the resourceVersion, so storing it would only go stale.
func (st *Store) encode(obj runtime.Object) ([]byte, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	rv := acc.GetResourceVersion()
	acc.SetResourceVersion("")
	defer acc.SetResourceVersion(rv)
	setTypeMeta(obj, st.res.GVK())
	var b bytes.Buffer
	if err := st.proto.Encode(obj, &b); err != nil {
		return nil, fmt.Errorf("encode %s: %w", st.gr, err)
	}
	return b.Bytes(), nil
}

func (st *Store) decode(kv storage.KeyValue) (runtime.Object, error) {
	obj := st.res.New()
	out, _, err := st.proto.Decode(kv.Value, nil, obj)
	if err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", st.gr, kv.Key, err)
	}
	acc, err := meta.Accessor(out)
	if err != nil {
		return nil, err
	}
	acc.SetResourceVersion(strconv.FormatInt(kv.ModRevision, 10))
	setTypeMeta(out, st.res.GVK())
	return out, nil
}

func (st *Store) decodeEntry(kv storage.KeyValue) (*cache.Entry, error) {
	obj, err := st.decode(kv)
	if err != nil {
		return nil, err
	}
	return st.entryOf(kv.Key, obj, kv.ModRevision)
}

func (st *Store) entryOf(key string, obj runtime.Object, rev int64) (*cache.Entry, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	return &cache.Entry{Key: key, Object: obj, Labels: acc.GetLabels(), Fields: st.fieldsOf(obj, acc), Rev: rev}, nil
}

func (st *Store) fieldsOf(obj runtime.Object, acc metav1Object) fields.Set {
	var set fields.Set
	if st.res.Fields != nil {
		set = st.res.Fields(obj)
	}
	if set == nil {
		set = fields.Set{}
	}
	set["metadata.name"] = acc.GetName()
	if st.res.Namespaced {
		set["metadata.namespace"] = acc.GetNamespace()
	}
	return set
}

type metav1Object interface {
	GetName() string
	GetNamespace() string
}

func setTypeMeta(obj runtime.Object, gvk schema.GroupVersionKind) {
	obj.GetObjectKind().SetGroupVersionKind(gvk)
}
