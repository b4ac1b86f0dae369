package daemonset

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/history"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// Name is the controller's name in the manager and its events' source.
const Name = "daemonset-controller"

var kind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// Controller is the DaemonSet controller.
type Controller struct {
	client   kubernetes.Interface
	sets     appslisters.DaemonSetLister
	pods     corelisters.PodLister
	nodes    corelisters.NodeLister
	history  *history.History
	control  *podcontrol.Control
	recorder record.EventRecorder
	log      *slog.Logger
	loop     *controller.Loop
	expect   *controller.Expectations
	// failedBackoff spaces out the deletion of failed pods per
	// DaemonSet and node (1 s doubling to 15 min, as upstream).
	failedBackoff *flowcontrol.Backoff
	now           func() time.Time
}

// New builds the controller.
func New(cc controller.Context) (controller.Controller, error) {
	dsInf := cc.Informers.Apps().V1().DaemonSets()
	podInf := cc.Informers.Core().V1().Pods()
	nodeInf := cc.Informers.Core().V1().Nodes()
	revInf := cc.Informers.Apps().V1().ControllerRevisions()
	rec := cc.Recorder(Name)
	c := &Controller{
		client: cc.Client, sets: dsInf.Lister(), pods: podInf.Lister(), nodes: nodeInf.Lister(),
		history: &history.History{Client: cc.Client, Lister: revInf.Lister()},
		control: &podcontrol.Control{Client: cc.Client, Recorder: rec}, recorder: rec,
		log: cc.Logger.With("controller", Name), expect: controller.NewExpectations(),
		failedBackoff: flowcontrol.NewBackOff(time.Second, 15*time.Minute), now: time.Now,
	}
	c.loop = controller.NewLoop(Name, cc.Options.Workers, c.sync, cc.Logger)
	c.loop.WaitFor(dsInf.Informer().HasSynced, podInf.Informer().HasSynced, nodeInf.Informer().HasSynced, revInf.Informer().HasSynced)
	owned := podcontrol.OwnedPodEvents{Kind: kind, Expect: c.expect, Add: c.loop.Add, Orphan: c.enqueueSelecting}
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{dsInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.loop.Enqueue, UpdateFunc: func(_, o any) { c.loop.Enqueue(o) }, DeleteFunc: c.setDeleted}},
		{podInf.Informer(), owned.Handler()},
		{nodeInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { c.enqueueAll() }, UpdateFunc: c.nodeUpdated, DeleteFunc: func(any) { c.enqueueAll() }}},
		{revInf.Informer(), owned.OwnedHandler()},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context) error {
	go func() {
		// Forget back-off entries of nodes that stopped failing.
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.failedBackoff.GC()
			}
		}
	}()
	return c.loop.Run(ctx)
}

func (c *Controller) setDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if ds, ok := obj.(*appsv1.DaemonSet); ok {
		c.expect.Forget(ds.Namespace + "/" + ds.Name)
	}
	c.loop.Enqueue(obj)
}

func (c *Controller) enqueueAll() {
	sets, err := c.sets.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range sets {
		c.loop.Enqueue(ds)
	}
}

// nodeUpdated resyncs when what placement reads changed; status
// heartbeats (most node updates) do not matter here.
func (c *Controller) nodeUpdated(old, cur any) {
	o, n := old.(*corev1.Node), cur.(*corev1.Node)
	if !maps.Equal(o.Labels, n.Labels) || !slices.Equal(o.Spec.Taints, n.Spec.Taints) {
		c.enqueueAll()
	}
}

// enqueueSelecting syncs the DaemonSets whose selector matches an orphan
// pod, so they can adopt it.
func (c *Controller) enqueueSelecting(p *corev1.Pod) {
	sets, err := c.sets.DaemonSets(p.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range sets {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(p.Labels)) {
			c.loop.Enqueue(ds)
		}
	}
}
