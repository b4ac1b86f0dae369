package statefulset

import (
	"context"
	"log/slog"
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

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/history"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// Name is the controller's name in the manager and its events' source.
const Name = "statefulset-controller"

var kind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// Controller is the StatefulSet controller.
type Controller struct {
	client   kubernetes.Interface
	sets     appslisters.StatefulSetLister
	pods     corelisters.PodLister
	claims   corelisters.PersistentVolumeClaimLister
	history  *history.History
	recorder record.EventRecorder
	log      *slog.Logger
	loop     *controller.Loop
	expect   *controller.Expectations
	now      func() time.Time
}

// New builds the controller.
func New(cc controller.Context) (controller.Controller, error) {
	setInf := cc.Informers.Apps().V1().StatefulSets()
	podInf := cc.Informers.Core().V1().Pods()
	claimInf := cc.Informers.Core().V1().PersistentVolumeClaims()
	revInf := cc.Informers.Apps().V1().ControllerRevisions()
	c := &Controller{
		client: cc.Client, sets: setInf.Lister(), pods: podInf.Lister(), claims: claimInf.Lister(),
		history:  &history.History{Client: cc.Client, Lister: revInf.Lister()},
		recorder: cc.Recorder(Name), log: cc.Logger.With("controller", Name),
		expect: controller.NewExpectations(), now: time.Now,
	}
	c.loop = controller.NewLoop(Name, cc.Options.Workers, c.sync, cc.Logger)
	c.loop.WaitFor(setInf.Informer().HasSynced, podInf.Informer().HasSynced, claimInf.Informer().HasSynced, revInf.Informer().HasSynced)
	owned := podcontrol.OwnedPodEvents{Kind: kind, Expect: c.expect, Add: c.loop.Add, Orphan: c.enqueueSelecting}
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{setInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.loop.Enqueue, UpdateFunc: func(_, o any) { c.loop.Enqueue(o) }, DeleteFunc: c.setDeleted}},
		{podInf.Informer(), owned.Handler()},
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
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx) }

func (c *Controller) setDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if s, ok := obj.(*appsv1.StatefulSet); ok {
		c.expect.Forget(s.Namespace + "/" + s.Name)
	}
	c.loop.Enqueue(obj)
}

// enqueueSelecting syncs the sets that may adopt an orphan pod: those
// whose selector matches it and whose name prefixes it.
func (c *Controller) enqueueSelecting(p *corev1.Pod) {
	sets, err := c.sets.StatefulSets(p.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, s := range sets {
		sel, err := metav1.LabelSelectorAsSelector(s.Spec.Selector)
		if _, member := ordinalOf(s.Name, p.Name); err == nil && member && !sel.Empty() && sel.Matches(labels.Set(p.Labels)) {
			c.loop.Enqueue(s)
		}
	}
}
