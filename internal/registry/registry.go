// Package registry describes every API resource navarch serves: its names
// for discovery, its Go type, and its strategy (defaults, validation and the
// create/update rules that differ between resources). It holds no state and
// does no I/O; the object store in package registry/store applies strategies
// around storage calls, and the API server routes HTTP to that store.
package registry

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Strategy holds the per-resource rules. Generic metadata handling (name
// validation, generateName, uid, timestamps, resourceVersion, generation,
// status/spec separation, finalizers) lives in the store, not here.
type Strategy interface {
	// Default fills in the Kubernetes defaults, as the upstream defaulting
	// functions for the type's API version do. It must be idempotent.
	Default(obj runtime.Object)
	// PrepareForCreate sets fields the server owns on create (for example a
	// Pod's status.phase Pending or a Namespace's finalizer). The store has
	// already cleared status for resources with a status subresource.
	PrepareForCreate(ctx context.Context, obj runtime.Object)
	// PrepareForUpdate does the same on update; old is the stored object.
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object)
	// Validate checks a new object after defaulting. Field paths are
	// relative to the object root ("spec.replicas", "metadata.name").
	Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	// ValidateUpdate checks an update, including immutable fields.
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
}

// StatusValidator is implemented by strategies that check writes to the
// /status subresource.
type StatusValidator interface {
	ValidateStatusUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
}

// BaseStrategy is a no-op Strategy to embed.
type BaseStrategy struct{}

// Default implements Strategy.
func (BaseStrategy) Default(runtime.Object) {}

// PrepareForCreate implements Strategy.
func (BaseStrategy) PrepareForCreate(context.Context, runtime.Object) {}

// PrepareForUpdate implements Strategy.
func (BaseStrategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

// Validate implements Strategy.
func (BaseStrategy) Validate(context.Context, runtime.Object) field.ErrorList { return nil }

// ValidateUpdate implements Strategy.
func (BaseStrategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

// Scale describes a /scale subresource (autoscaling/v1 Scale).
type Scale struct {
	// Get returns spec replicas, status replicas and the label selector in
	// its string form, as Scale.status.selector reports it.
	Get func(obj runtime.Object) (spec, status int32, selector string)
	// Set writes spec replicas.
	Set func(obj runtime.Object, replicas int32)
}

// Conversion maps a served version onto the stored version when two API
// versions share one storage (autoscaling/v1 onto v2, events.k8s.io/v1
// onto core/v1 Event).
type Conversion struct {
	// Storage is the resource whose type is kept in etcd.
	Storage schema.GroupVersionResource
	// ToStorage converts an object of this resource to the storage type.
	ToStorage func(obj runtime.Object) (runtime.Object, error)
	// FromStorage converts a stored object to this resource's type.
	FromStorage func(obj runtime.Object) (runtime.Object, error)
}

// Resource is everything the server needs to serve one resource.
type Resource struct {
	Group, Version string
	// Resource is the lowercase plural, e.g. "deployments".
	Resource   string
	Kind       string
	Singular   string
	ShortNames []string
	Categories []string
	Namespaced bool

	New     func() runtime.Object
	NewList func() runtime.Object

	Strategy Strategy

	// Fields returns selectable fields beyond metadata.name and
	// metadata.namespace, which the store always adds (for pods:
	// spec.nodeName, status.phase, ...). Nil means none.
	Fields func(obj runtime.Object) fields.Set

	// HasStatus enables the /status subresource; then the main resource
	// ignores status and /status ignores everything else.
	HasStatus bool
	// Scale enables the /scale subresource.
	Scale *Scale
	// Subresources lists further subresources served by special handlers
	// (for discovery), e.g. "binding", "eviction", "log".
	Subresources []string
	// Conversion is set when this version is stored as another version.
	Conversion *Conversion
	// Verbs overrides the default verb set (all of them) when non-nil.
	Verbs []string
	// LastWritten is set for resources whose objects expire (Events, after
	// --event-ttl): the store deletes an object once the TTL has passed
	// since the time this returns.
	LastWritten func(obj runtime.Object) time.Time
}

// GVR returns the group, version and resource.
func (r *Resource) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource}
}

// GVK returns the group, version and kind.
func (r *Resource) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// DefaultVerbs is the verb set of a full resource.
var DefaultVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// AllVerbs returns Verbs or DefaultVerbs.
func (r *Resource) AllVerbs() []string {
	if r.Verbs != nil {
		return r.Verbs
	}
	return DefaultVerbs
}

// Allocator is implemented by strategies whose objects hold cluster-unique
// values (Service cluster IPs and NodePorts). Each value is a claim key in
// etcd (for example "/registry/allocations/clusterips/10.96.0.10") written in
// the same transaction as the object, so two objects can never hold the same
// value, even under concurrent creates, and a failed write leaks nothing.
type Allocator interface {
	// Allocate fills unset allocatable fields of obj, avoiding values whose
	// claim key is in taken, and returns every claim key obj holds
	// afterwards. old is the stored object on update and nil on create; a
	// value that old already held stays valid even if it is in taken. A
	// value the user asked for that is in taken is an error ("provided IP is
	// already allocated"); so is an exhausted range. The store retries with a
	// fresh copy of obj and a larger taken set when a claim loses a race.
	Allocate(obj, old runtime.Object, taken map[string]bool) ([]string, *field.Error)
	// Claims returns the claim keys a stored object holds (for releases).
	Claims(obj runtime.Object) []string
}
