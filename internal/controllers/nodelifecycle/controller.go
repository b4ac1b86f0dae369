package nodelifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	coordlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Name is the controller's name in the manager.
const Name = "nodelifecycle"

// taintPeriod is how often queued NoExecute taints are applied (as often
// as the zone limiters allow), as upstream's nodeEvictionPeriod.
const taintPeriod = 100 * time.Millisecond

// podNodeIndex indexes pods by spec.nodeName in the shared pod informer.
const podNodeIndex = "nodelifecycle.spec.nodeName"

// Controller is the node lifecycle controller.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	log      *slog.Logger
	opts     controller.Options
	rates    rates
	now      func() time.Time

	nodes  corelisters.NodeLister
	leases coordlisters.LeaseLister
	pods   corelisters.PodLister
	podIdx cache.Indexer
	synced []cache.InformerSynced

	// noSchedule keeps NoSchedule taints in line with conditions (keys:
	// node names); evict deletes pods that do not tolerate NoExecute
	// taints (keys: pod namespace/name).
	noSchedule *controller.Loop
	evict      *controller.Loop
	tainters   *tainters

	// Only the monitor goroutine uses health and disrupted.
	health    map[string]*health
	disrupted bool

	mu sync.Mutex
	// scheduled are pods waiting for their toleration to run out;
	// firstSeen times taints without a TimeAdded.
	scheduled map[string]time.Time
	firstSeen map[string]time.Time
}

// New returns the node lifecycle controller.
func New(cc controller.Context) (controller.Controller, error) {
	opts := cc.Options.WithDefaults()
	nodes := cc.Informers.Core().V1().Nodes()
	leases := cc.Informers.Coordination().V1().Leases()
	pods := cc.Informers.Core().V1().Pods()
	if err := pods.Informer().AddIndexers(cache.Indexers{podNodeIndex: indexByNode}); err != nil {
		return nil, err
	}
	c := &Controller{
		client: cc.Client, recorder: cc.Recorder("node-controller"), log: cc.Logger.With("controller", Name),
		opts:  opts,
		rates: rates{normal: opts.NodeEvictionRate, secondary: opts.SecondaryNodeEvictionRate, largeCluster: opts.LargeClusterSizeThreshold},
		now:   time.Now,
		nodes: nodes.Lister(), leases: leases.Lister(), pods: pods.Lister(), podIdx: pods.Informer().GetIndexer(),
		synced:   []cache.InformerSynced{nodes.Informer().HasSynced, leases.Informer().HasSynced, pods.Informer().HasSynced},
		tainters: newTainters(),
		health:   map[string]*health{}, scheduled: map[string]time.Time{}, firstSeen: map[string]time.Time{},
	}
	c.noSchedule = controller.NewLoop(Name+"-noschedule", opts.Workers, c.syncNoSchedule, cc.Logger)
	c.evict = controller.NewLoop(Name+"-eviction", opts.Workers, c.syncPod, cc.Logger)
	c.noSchedule.WaitFor(c.synced...)
	c.evict.WaitFor(c.synced...)
	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.noSchedule.Enqueue,
		UpdateFunc: c.nodeUpdated,
		DeleteFunc: c.nodeDeleted,
	}); err != nil {
		return nil, err
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podChanged,
		UpdateFunc: func(_, obj any) { c.podChanged(obj) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func indexByNode(obj any) ([]string, error) {
	if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
		return []string{p.Spec.NodeName}, nil
	}
	return nil, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run monitors nodes until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("%s: caches did not sync: %w", Name, ctx.Err())
	}
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){
		func(ctx context.Context) { _ = c.noSchedule.Run(ctx) },
		func(ctx context.Context) { _ = c.evict.Run(ctx) },
		func(ctx context.Context) { wait.UntilWithContext(ctx, c.taintPass, taintPeriod) },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	wait.UntilWithContext(ctx, c.monitor, c.opts.NodeMonitorPeriod)
	wg.Wait()
	return nil
}

func (c *Controller) nodeUpdated(oldObj, obj any) {
	c.noSchedule.Enqueue(obj)
	old, n := oldObj.(*corev1.Node), obj.(*corev1.Node)
	if !sameNoExecute(old.Spec.Taints, n.Spec.Taints) {
		c.enqueuePodsOn(n.Name)
	}
}

func (c *Controller) nodeDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if n, ok := obj.(*corev1.Node); ok {
		c.tainters.remove(n.Name)
		c.enqueuePodsOn(n.Name)
	}
}

func (c *Controller) podChanged(obj any) {
	if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
		c.evict.Enqueue(p)
	}
}

func (c *Controller) enqueuePodsOn(node string) {
	objs, _ := c.podIdx.ByIndex(podNodeIndex, node)
	for _, o := range objs {
		c.evict.Enqueue(o)
	}
}

func sameNoExecute(a, b []corev1.Taint) bool {
	x, y := noExecuteTaints(a), noExecuteTaints(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !x[i].MatchTaint(&y[i]) || !x[i].TimeAdded.Equal(y[i].TimeAdded) {
			return false
		}
	}
	return true
}

// syncNoSchedule makes a node's NoSchedule taints match its conditions.
func (c *Controller) syncNoSchedule(ctx context.Context, name string) (controller.Result, error) {
	n, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	want := wantNoSchedule(n)
	if _, changed := withNoSchedule(n.Spec.Taints, want); !changed {
		return controller.Result{}, nil
	}
	return controller.Result{}, c.updateTaints(ctx, name, func(n *corev1.Node) ([]corev1.Taint, bool) {
		return withNoSchedule(n.Spec.Taints, wantNoSchedule(n))
	})
}

// updateTaints rewrites a node's taints from the live object, retrying
// lost races.
func (c *Controller) updateTaints(ctx context.Context, name string, fn func(*corev1.Node) ([]corev1.Taint, bool)) error {
	for attempt := 0; ; attempt++ {
		n, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		taints, changed := fn(n)
		if !changed {
			return nil
		}
		n.Spec.Taints = taints
		_, err = c.client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt >= 4 {
			return fmt.Errorf("update taints of node %s: %w", name, err)
		}
	}
}
