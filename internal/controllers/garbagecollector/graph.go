package garbagecollector

import (
	"fmt"
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// objectRef identifies an object as its dependents refer to it.
type objectRef struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        types.UID
}

func (r objectRef) String() string {
	return fmt.Sprintf("%s/%s %s/%s (%s)", r.APIVersion, r.Kind, r.Namespace, r.Name, r.UID)
}

func refFromOwner(o metav1.OwnerReference, ns string) objectRef {
	return objectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: ns, Name: o.Name, UID: o.UID}
}

// node is one object in the graph.
type node struct {
	identity objectRef
	// owners are the object's ownerReferences as last observed.
	owners []metav1.OwnerReference
	// dependents are the nodes whose owners include this one.
	dependents map[*node]struct{}
	// virtual: referenced as an owner but not (yet) observed.
	virtual bool
	// beingDeleted: has a deletionTimestamp.
	beingDeleted bool
	// deletingDependents: being deleted in the foreground.
	deletingDependents bool
}

// ownerRef returns n's reference to the owner with uid, if any.
func (n *node) ownerRef(uid types.UID) *metav1.OwnerReference {
	for i := range n.owners {
		if n.owners[i].UID == uid {
			return &n.owners[i]
		}
	}
	return nil
}

// graph is the ownership graph. A single goroutine changes it (the event
// processor); workers read consistent snapshots under mu.
type graph struct {
	mu    sync.RWMutex
	nodes map[types.UID]*node
}

func newGraph() *graph { return &graph{nodes: map[types.UID]*node{}} }

// change is one observed (or, when virtual, verified) fact about an object.
type change struct {
	kind    changeKind
	ref     objectRef
	owners  []metav1.OwnerReference
	deleted bool // has a deletionTimestamp
	// finalizers of the object, for the deletion transitions.
	orphan, foreground bool
	// old is the previous state on an update (nil on add or at start).
	old *state
}

type changeKind int

const (
	addOrUpdate changeKind = iota
	deleted
	// virtualDelete: a live lookup found a virtual node's object absent.
	virtualDelete
)

// state is the part of an old object the transitions compare.
type state struct {
	deleted, orphan, foreground bool
}

// work is what applying a change asks the workers to do.
type work struct {
	attemptToDelete []types.UID
	attemptToOrphan []types.UID
}

func (w *work) del(n *node) { w.attemptToDelete = append(w.attemptToDelete, n.identity.UID) }

// apply folds c into the graph and returns the follow-up work.
func (g *graph) apply(c change) work {
	g.mu.Lock()
	defer g.mu.Unlock()
	var w work
	n := g.nodes[c.ref.UID]
	switch c.kind {
	case addOrUpdate:
		if n == nil {
			n = &node{identity: c.ref, dependents: map[*node]struct{}{}}
			g.nodes[c.ref.UID] = n
			n.owners = slices.Clone(c.owners)
			g.addToOwners(n, n.owners, &w)
		} else {
			if n.virtual {
				n.virtual = false
				n.identity = c.ref
			}
			g.updateOwners(n, c.owners, &w)
		}
		n.beingDeleted = c.deleted
		g.transitions(n, c, &w)
	case deleted:
		if n != nil {
			g.remove(n, &w)
		}
	case virtualDelete:
		// Only a node still virtual is dropped: one observed since then
		// is known to exist.
		if n != nil && n.virtual {
			g.remove(n, &w)
		}
	}
	return w
}

// transitions queues the work an object entering deletion with the orphan
// or foregroundDeletion finalizer needs.
func (g *graph) transitions(n *node, c change, w *work) {
	was := state{}
	if c.old != nil {
		was = *c.old
	}
	if c.deleted && c.orphan && !(was.deleted && was.orphan) {
		w.attemptToOrphan = append(w.attemptToOrphan, n.identity.UID)
		return
	}
	if c.deleted && c.foreground {
		if !(was.deleted && was.foreground) || !n.deletingDependents {
			n.deletingDependents = true
			for d := range n.dependents {
				w.del(d)
			}
			w.del(n)
		}
		return
	}
	n.deletingDependents = false
}

// addToOwners links n under each owner, creating virtual owners to be
// verified for those not observed yet.
func (g *graph) addToOwners(n *node, owners []metav1.OwnerReference, w *work) {
	for _, o := range owners {
		owner := g.nodes[o.UID]
		if owner == nil {
			owner = &node{identity: refFromOwner(o, n.identity.Namespace), dependents: map[*node]struct{}{}, virtual: true}
			g.nodes[o.UID] = owner
			w.del(owner)
		}
		owner.dependents[n] = struct{}{}
		if owner.deletingDependents {
			// A dependent that appears under an owner already deleting
			// its dependents is one more to delete.
			w.del(n)
		}
	}
}

// updateOwners applies a change of n's ownerReferences.
func (g *graph) updateOwners(n *node, owners []metav1.OwnerReference, w *work) {
	var added, removed []metav1.OwnerReference
	for _, o := range owners {
		old := n.ownerRef(o.UID)
		if old == nil {
			added = append(added, o)
		} else if blocks(old) && !blocks(&o) {
			g.unblocked(o.UID, w)
		}
	}
	for _, o := range n.owners {
		if !slices.ContainsFunc(owners, func(x metav1.OwnerReference) bool { return x.UID == o.UID }) {
			removed = append(removed, o)
		}
	}
	n.owners = slices.Clone(owners)
	g.addToOwners(n, added, w)
	for _, o := range removed {
		if owner := g.nodes[o.UID]; owner != nil {
			delete(owner.dependents, n)
		}
		if blocks(&o) {
			g.unblocked(o.UID, w)
		}
	}
}

// unblocked queues an owner that may have been waiting on a dependent
// which no longer blocks it.
func (g *graph) unblocked(uid types.UID, w *work) {
	if owner := g.nodes[uid]; owner != nil && owner.deletingDependents {
		w.del(owner)
	}
}

func blocks(o *metav1.OwnerReference) bool {
	return o.BlockOwnerDeletion != nil && *o.BlockOwnerDeletion
}

// remove drops n: its dependents may now be garbage, and owners waiting
// for it may be done.
func (g *graph) remove(n *node, w *work) {
	delete(g.nodes, n.identity.UID)
	for d := range n.dependents {
		w.del(d)
	}
	for _, o := range n.owners {
		owner := g.nodes[o.UID]
		if owner == nil {
			continue
		}
		delete(owner.dependents, n)
		if owner.deletingDependents {
			w.del(owner)
		}
	}
}

// snapshot is a worker's consistent copy of one node and its neighbours.
type snapshot struct {
	identity           objectRef
	virtual            bool
	beingDeleted       bool
	deletingDependents bool
	// dependents, with whether each blocks this owner's deletion and
	// whether it is itself deleting its dependents.
	dependents []dependent
}

type dependent struct {
	uid                types.UID
	blocking           bool
	deletingDependents bool
}

func (g *graph) snapshot(uid types.UID) (snapshot, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.nodes[uid]
	if n == nil {
		return snapshot{}, false
	}
	s := snapshot{identity: n.identity, virtual: n.virtual, beingDeleted: n.beingDeleted, deletingDependents: n.deletingDependents}
	for d := range n.dependents {
		ref := d.ownerRef(uid)
		s.dependents = append(s.dependents, dependent{uid: d.identity.UID, blocking: ref != nil && blocks(ref), deletingDependents: d.deletingDependents})
	}
	slices.SortFunc(s.dependents, func(a, b dependent) int { return compareUID(a.uid, b.uid) })
	return s, true
}

// ownerState says what the graph knows of an owner: observed (not
// virtual), deleting its dependents in the foreground, and who it is.
func (g *graph) ownerState(uid types.UID) (observed, deletingDependents bool, identity objectRef) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.nodes[uid]
	if n == nil || n.virtual {
		return false, false, objectRef{}
	}
	return true, n.deletingDependents, n.identity
}

func compareUID(a, b types.UID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// blocking returns the uids of the dependents that block s's deletion.
func (s snapshot) blocking() []types.UID {
	var out []types.UID
	for _, d := range s.dependents {
		if d.blocking {
			out = append(out, d.uid)
		}
	}
	return out
}
