package endpoint

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/endpoint/endpointutil"
)

// Name is the controller's name in the manager.
const Name = "endpoint"

// annotationOverCapacity marks Endpoints truncated at maxCapacity.
const annotationOverCapacity = "endpoints.kubernetes.io/over-capacity"

// Controller keeps Endpoints. Keys are Service namespace/name.
type Controller struct {
	*controller.Loop
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	endpoints corelisters.EndpointsLister
}

// New returns the Endpoints controller.
func New(cc controller.Context) (controller.Controller, error) {
	svcInf := cc.Informers.Core().V1().Services()
	podInf := cc.Informers.Core().V1().Pods()
	epInf := cc.Informers.Core().V1().Endpoints()
	c := &Controller{client: cc.Client, services: svcInf.Lister(), pods: podInf.Lister(), endpoints: epInf.Lister()}
	c.Loop = controller.NewLoop(Name, cc.Options.WithDefaults().Workers, c.sync, cc.Logger)
	for _, reg := range []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{svcInf.Informer(), c.Handler()},
		{podInf.Informer(), endpointutil.PodHandler(c.services, c.Add)},
		// Someone else's change to our Endpoints is undone.
		{epInf.Informer(), cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, o any) { c.Enqueue(o) }, DeleteFunc: c.Enqueue}},
	} {
		if _, err := reg.inf.AddEventHandler(reg.h); err != nil {
			return nil, err
		}
	}
	c.WaitFor(svcInf.Informer().HasSynced, podInf.Informer().HasSynced, epInf.Informer().HasSynced)
	return c, nil
}

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The Service is gone: so are its Endpoints.
		if _, err := c.endpoints.Endpoints(ns).Get(name); err == nil {
			err := c.client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return controller.Result{}, err
			}
		}
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if !endpointutil.Selects(svc) || svc.DeletionTimestamp != nil {
		return controller.Result{}, nil
	}
	pods, err := endpointutil.PodsFor(c.pods, svc)
	if err != nil {
		return controller.Result{}, err
	}
	subsets, truncated := desired(svc, pods)
	return controller.Result{}, c.write(ctx, svc, subsets, truncated)
}

// write creates or updates the Endpoints when they differ from want.
func (c *Controller) write(ctx context.Context, svc *corev1.Service, subsets []corev1.EndpointSubset, truncated bool) error {
	cur, err := c.endpoints.Endpoints(svc.Namespace).Get(svc.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	want := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace}}
	if cur != nil {
		want = cur.DeepCopy()
	}
	want.Labels = labelsFor(svc)
	if truncated {
		if want.Annotations == nil {
			want.Annotations = map[string]string{}
		}
		want.Annotations[annotationOverCapacity] = "truncated"
	} else {
		delete(want.Annotations, annotationOverCapacity)
	}
	want.Subsets = subsets
	if cur != nil && equality.Semantic.DeepEqual(cur.Subsets, want.Subsets) &&
		labels.Equals(cur.Labels, want.Labels) && maps.Equal(cur.Annotations, want.Annotations) {
		return nil
	}
	if cur == nil {
		_, err = c.client.CoreV1().Endpoints(svc.Namespace).Create(ctx, want, metav1.CreateOptions{})
	} else {
		_, err = c.client.CoreV1().Endpoints(svc.Namespace).Update(ctx, want, metav1.UpdateOptions{})
	}
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		return fmt.Errorf("write endpoints %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

// labelsFor copies the Service's labels, marking headless Services.
func labelsFor(svc *corev1.Service) map[string]string {
	out := maps.Clone(svc.Labels)
	if out == nil {
		out = map[string]string{}
	}
	if endpointutil.Headless(svc) {
		out[endpointutil.LabelHeadless] = ""
	} else {
		delete(out, endpointutil.LabelHeadless)
	}
	return out
}
