package endpointslice

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/endpoint/endpointutil"
)

// Name is the controller's name in the manager.
const Name = "endpointslice"

// ControllerName is the managed-by label value of the slices it owns.
const ControllerName = "endpointslice-controller.k8s.io"

// MaxEndpointsPerSlice is upstream's default --max-endpoints-per-slice.
const MaxEndpointsPerSlice = 100

// staleRetry is when a Service held back by a lagging cache is looked at
// again if no slice event brings it back sooner.
const staleRetry = time.Second

// Controller keeps EndpointSlices. Keys are Service namespace/name.
type Controller struct {
	*controller.Loop
	client   kubernetes.Interface
	services corelisters.ServiceLister
	pods     corelisters.PodLister
	nodes    corelisters.NodeLister
	slices   discoverylisters.EndpointSliceLister
	tracker  *tracker
	max      int
}

// New returns the EndpointSlice controller.
func New(cc controller.Context) (controller.Controller, error) {
	f := cc.Informers
	svcInf, podInf, nodeInf := f.Core().V1().Services(), f.Core().V1().Pods(), f.Core().V1().Nodes()
	sliceInf := f.Discovery().V1().EndpointSlices()
	c := &Controller{
		client: cc.Client, services: svcInf.Lister(), pods: podInf.Lister(), nodes: nodeInf.Lister(),
		slices: sliceInf.Lister(), tracker: newTracker(), max: MaxEndpointsPerSlice,
	}
	c.Loop = controller.NewLoop(Name, cc.Options.WithDefaults().Workers, c.sync, cc.Logger)
	for _, reg := range []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{svcInf.Informer(), c.Handler()},
		{podInf.Informer(), endpointutil.PodHandler(c.services, c.Add)},
		{sliceInf.Informer(), sliceHandler(ControllerName, c.Add)},
	} {
		if _, err := reg.inf.AddEventHandler(reg.h); err != nil {
			return nil, err
		}
	}
	// Nodes are only read, for the endpoints' zones.
	c.WaitFor(svcInf.Informer().HasSynced, podInf.Informer().HasSynced, sliceInf.Informer().HasSynced, nodeInf.Informer().HasSynced)
	return c, nil
}

// sliceHandler queues the Service of every slice that managedBy manages.
func sliceHandler(managedBy string, add func(key string)) cache.ResourceEventHandlerFuncs {
	changed := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		s, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok || s.Labels[discoveryv1.LabelManagedBy] != managedBy || s.Labels[discoveryv1.LabelServiceName] == "" {
			return
		}
		add(s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName])
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: changed, UpdateFunc: func(_, o any) { changed(o) }, DeleteFunc: changed}
}

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	existing, err := c.slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ControllerName}))
	if err != nil {
		return controller.Result{}, err
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The garbage collector would remove them too; no need to wait.
		c.tracker.forget(key)
		return controller.Result{}, c.apply(ctx, key, plan{delete: existing})
	}
	if err != nil {
		return controller.Result{}, err
	}
	if !endpointutil.Selects(svc) || svc.DeletionTimestamp != nil {
		return controller.Result{}, nil
	}
	if c.tracker.stale(key, existing) {
		return controller.Result{RequeueAfter: staleRetry}, nil
	}
	// Slices of an earlier Service of the same name are not ours to keep.
	var mine, foreign []*discoveryv1.EndpointSlice
	for _, s := range existing {
		if ref := metav1.GetControllerOf(s); ref == nil || ref.UID == svc.UID {
			mine = append(mine, s)
		} else {
			foreign = append(foreign, s)
		}
	}
	pods, err := endpointutil.PodsFor(c.pods, svc)
	if err != nil {
		return controller.Result{}, err
	}
	want := desired(svc, pods, c.nodes)
	if len(want) == 0 {
		want = placeholder(addressTypes(svc)[0])
	}
	p := reconcile(want, mine, c.max, func(k groupKey, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
		return newSlice(svc, k, ports)
	})
	p.delete = append(p.delete, foreign...)
	c.refreshMeta(svc, mine, &p)
	return controller.Result{}, c.apply(ctx, key, p)
}

func newSlice(svc *corev1.Service, k groupKey, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: svc.Name + "-", Namespace: svc.Namespace, Labels: sliceLabels(svc),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(svc, corev1.SchemeGroupVersion.WithKind("Service"))},
		},
		AddressType: k.addressType,
		Ports:       slices.Clone(ports),
	}
}

// refreshMeta adds to p the kept slices whose labels or owner are not
// what the Service calls for, and sets them on the slices p writes.
func (c *Controller) refreshMeta(svc *corev1.Service, existing []*discoveryv1.EndpointSlice, p *plan) {
	want := sliceLabels(svc)
	owner := metav1.NewControllerRef(svc, corev1.SchemeGroupVersion.WithKind("Service"))
	fix := func(s *discoveryv1.EndpointSlice) {
		s.Labels = maps.Clone(want)
		s.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	touched := map[string]bool{}
	for _, s := range p.update {
		fix(s)
		touched[s.Name] = true
	}
	for _, s := range p.delete {
		touched[s.Name] = true
	}
	for _, s := range existing {
		if touched[s.Name] {
			continue
		}
		ref := metav1.GetControllerOf(s)
		if !maps.Equal(s.Labels, want) || ref == nil || ref.UID != svc.UID {
			u := s.DeepCopy()
			fix(u)
			p.update = append(p.update, u)
		}
	}
}

// apply writes a plan: creates first, then updates, then deletes, so that
// readers never see an endpoint missing in between.
func (c *Controller) apply(ctx context.Context, key string, p plan) error {
	return applyPlan(ctx, c.client, c.tracker, key, p)
}

func applyPlan(ctx context.Context, client kubernetes.Interface, tr *tracker, key string, p plan) error {
	api := client.DiscoveryV1().EndpointSlices
	for _, s := range p.create {
		out, err := api(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		if err != nil {
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				return nil
			}
			return fmt.Errorf("create endpoint slice for %s: %w", key, err)
		}
		tr.wrote(key, out)
	}
	for _, s := range p.update {
		out, err := api(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("update endpoint slice %s/%s: %w", s.Namespace, s.Name, err)
		}
		tr.wrote(key, out)
	}
	for _, s := range p.delete {
		err := api(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &s.UID}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete endpoint slice %s/%s: %w", s.Namespace, s.Name, err)
		}
		tr.deleted(key, s.Name)
	}
	return nil
}
