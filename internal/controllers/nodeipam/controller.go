package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Name is the controller's name in the manager.
const Name = "nodeipam"

// Controller allocates pod CIDRs to Nodes. Keys are node names.
type Controller struct {
	*controller.Loop
	client   kubernetes.Interface
	nodes    corelisters.NodeLister
	synced   cache.InformerSynced
	alloc    *allocator
	recorder record.EventRecorder
	log      *slog.Logger

	mu sync.Mutex
	// pending are subnets handed to a Node whose update the cache has not
	// shown yet: a stale read must get the same subnets, not new ones.
	pending map[string][]string
}

// New returns the node IPAM controller for cc.Options.ClusterCIDR.
func New(cc controller.Context) (controller.Controller, error) {
	opts := cc.Options.WithDefaults()
	alloc, err := newAllocator(opts.ClusterCIDR, opts.NodeCIDRMaskSize, opts.NodeCIDRMaskSizeIPv6)
	if err != nil {
		return nil, err
	}
	inf := cc.Informers.Core().V1().Nodes()
	c := &Controller{
		client: cc.Client, nodes: inf.Lister(), synced: inf.Informer().HasSynced, alloc: alloc,
		recorder: cc.Recorder("node-ipam-controller"), log: cc.Logger.With("controller", Name),
		pending: map[string][]string{},
	}
	// One worker: allocations are serialized anyway, and a single writer
	// keeps the order in which nodes get subnets predictable.
	c.Loop = controller.NewLoop(Name, 1, c.sync, cc.Logger)
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.Enqueue,
		UpdateFunc: func(_, obj any) { c.Enqueue(obj) },
		DeleteFunc: c.nodeDeleted,
	}); err != nil {
		return nil, err
	}
	c.WaitFor(c.synced)
	return c, nil
}

// Run takes the subnets every existing Node already has before handing
// out any, then runs the loop.
func (c *Controller) Run(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return fmt.Errorf("%s: caches did not sync: %w", Name, ctx.Err())
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := c.alloc.occupy(cidrsOf(n)); err != nil {
			c.log.Warn("node has a pod CIDR outside the cluster CIDR", "node", n.Name, "err", err)
		}
	}
	return c.Loop.Run(ctx)
}

func cidrsOf(n *corev1.Node) []string {
	if len(n.Spec.PodCIDRs) > 0 {
		return n.Spec.PodCIDRs
	}
	if n.Spec.PodCIDR != "" {
		return []string{n.Spec.PodCIDR}
	}
	return nil
}

func (c *Controller) nodeDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	c.mu.Lock()
	cidrs := cidrsOf(n)
	if p := c.pending[n.Name]; len(cidrs) == 0 {
		cidrs = p
	}
	delete(c.pending, n.Name)
	c.mu.Unlock()
	if len(cidrs) == 0 {
		return
	}
	if err := c.alloc.release(cidrs); err != nil {
		c.log.Debug("release of a deleted node's pod CIDR", "node", n.Name, "err", err)
	}
	// Nodes waiting for a subnet (in back-off after the range ran out)
	// can have this one now.
	nodes, _ := c.nodes.List(labels.Everything())
	for _, o := range nodes {
		if len(cidrsOf(o)) == 0 {
			c.Add(o.Name)
		}
	}
}

func (c *Controller) sync(ctx context.Context, name string) (controller.Result, error) {
	n, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if have := cidrsOf(n); len(have) > 0 {
		c.mu.Lock()
		p, wasPending := c.pending[name]
		delete(c.pending, name)
		c.mu.Unlock()
		if wasPending && !slices.Equal(p, have) {
			// Someone else set the node's CIDRs first: ours go back.
			_ = c.alloc.release(p)
		}
		if err := c.alloc.occupy(have); err != nil {
			c.log.Warn("node has a pod CIDR outside the cluster CIDR", "node", name, "err", err)
		}
		return controller.Result{}, nil
	}
	cidrs, err := c.reserve(name)
	if errors.Is(err, ErrFull) {
		c.recorder.Eventf(n, corev1.EventTypeNormal, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", name)
		return controller.Result{}, fmt.Errorf("allocate a pod CIDR for node %s: %w", name, err)
	}
	if err != nil {
		return controller.Result{}, err
	}
	return controller.Result{}, c.write(ctx, n, cidrs)
}

// reserve returns the subnets pending for name, or allocates new ones.
func (c *Controller) reserve(name string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pending[name]; ok {
		return p, nil
	}
	cidrs, err := c.alloc.allocate()
	if err != nil {
		return nil, err
	}
	c.pending[name] = cidrs
	return cidrs, nil
}

func (c *Controller) write(ctx context.Context, n *corev1.Node, cidrs []string) error {
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": n.UID},
		"spec":     map[string]any{"podCIDR": cidrs[0], "podCIDRs": cidrs},
	})
	_, err := c.client.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err == nil {
		c.log.Debug("pod CIDR allocated", "node", n.Name, "cidrs", cidrs)
		return nil
	}
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) || apierrors.IsInvalid(err) {
		// Gone, replaced, or given CIDRs by someone else meanwhile: ours
		// go back, and the next sync looks at the node afresh.
		c.mu.Lock()
		delete(c.pending, n.Name)
		c.mu.Unlock()
		_ = c.alloc.release(cidrs)
	}
	return fmt.Errorf("set pod CIDR of node %s: %w", n.Name, err)
}
