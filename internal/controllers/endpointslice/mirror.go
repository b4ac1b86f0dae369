package endpointslice

import (
	"context"
	"maps"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// MirroringName is the mirroring controller's name in the manager.
const MirroringName = "endpointslicemirroring"

// MirroringControllerName is the managed-by label value of mirrored slices.
const MirroringControllerName = "endpointslicemirroring-controller.k8s.io"

// Endpoints the mirroring controller leaves alone.
const (
	labelSkipMirror      = "endpointslice.kubernetes.io/skip-mirror"
	annotationLeader     = "control-plane.alpha.kubernetes.io/leader"
	maxMirroredPerSubset = 1000
)

// Mirroring copies the Endpoints of Services without a selector (written
// by their users) into EndpointSlices owned by those Endpoints, so that
// readers of slices see them too. Keys are Endpoints namespace/name.
type Mirroring struct {
	*controller.Loop
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
	slices    discoverylisters.EndpointSliceLister
	tracker   *tracker
	recorder  record.EventRecorder
}

// NewMirroring returns the EndpointSlice mirroring controller.
func NewMirroring(cc controller.Context) (controller.Controller, error) {
	f := cc.Informers
	svcInf, epInf, sliceInf := f.Core().V1().Services(), f.Core().V1().Endpoints(), f.Discovery().V1().EndpointSlices()
	c := &Mirroring{client: cc.Client, services: svcInf.Lister(), endpoints: epInf.Lister(), slices: sliceInf.Lister(),
		tracker: newTracker(), recorder: cc.Recorder("endpointslicemirroring-controller")}
	c.Loop = controller.NewLoop(MirroringName, cc.Options.WithDefaults().Workers, c.sync, cc.Logger)
	for _, reg := range []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{svcInf.Informer(), c.Handler()}, // a Service shares its Endpoints' key
		{epInf.Informer(), c.Handler()},
		{sliceInf.Informer(), sliceHandler(MirroringControllerName, c.Add)},
	} {
		if _, err := reg.inf.AddEventHandler(reg.h); err != nil {
			return nil, err
		}
	}
	c.WaitFor(svcInf.Informer().HasSynced, epInf.Informer().HasSynced, sliceInf.Informer().HasSynced)
	return c, nil
}

func (c *Mirroring) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	existing, err := c.slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: MirroringControllerName}))
	if err != nil {
		return controller.Result{}, err
	}
	ep, err := c.endpoints.Endpoints(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return controller.Result{}, err
	}
	if ep == nil || !c.mirrored(ep) {
		c.tracker.forget(key)
		return controller.Result{}, applyPlan(ctx, c.client, c.tracker, key, plan{delete: existing})
	}
	if c.tracker.stale(key, existing) {
		return controller.Result{RequeueAfter: staleRetry}, nil
	}
	var mine, foreign []*discoveryv1.EndpointSlice
	for _, s := range existing {
		if ref := metav1.GetControllerOf(s); ref == nil || ref.UID == ep.UID {
			mine = append(mine, s)
		} else {
			foreign = append(foreign, s)
		}
	}
	want := c.mirror(ep)
	var p plan
	if len(want) > 0 {
		p = reconcile(want, mine, MaxEndpointsPerSlice, func(k groupKey, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
			return mirroredSlice(ep, k, ports)
		})
	} else {
		p.delete = mine
	}
	p.delete = append(p.delete, foreign...)
	refreshMirroredMeta(ep, mine, &p)
	return controller.Result{}, applyPlan(ctx, c.client, c.tracker, key, p)
}

// mirrored reports whether ep is to be mirrored: its Service exists and
// has no selector, and nothing opts it out.
func (c *Mirroring) mirrored(ep *corev1.Endpoints) bool {
	if ep.Labels[labelSkipMirror] == "true" || ep.Annotations[annotationLeader] != "" || ep.DeletionTimestamp != nil {
		return false
	}
	svc, err := c.services.Services(ep.Namespace).Get(ep.Name)
	return err == nil && len(svc.Spec.Selector) == 0
}

// mirror groups the Endpoints' addresses by address family and port set.
func (c *Mirroring) mirror(ep *corev1.Endpoints) map[groupKey]*group {
	out := map[groupKey]*group{}
	for _, ss := range ep.Subsets {
		ports := make([]discoveryv1.EndpointPort, 0, len(ss.Ports))
		for _, p := range ss.Ports {
			name, port, proto := p.Name, p.Port, p.Protocol
			ports = append(ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto, AppProtocol: p.AppProtocol})
		}
		n := 0
		for _, list := range []struct {
			addrs []corev1.EndpointAddress
			ready bool
		}{{ss.Addresses, true}, {ss.NotReadyAddresses, false}} {
			for _, a := range list.addrs {
				ip, err := netip.ParseAddr(a.IP)
				if err != nil {
					c.recorder.Eventf(ep, corev1.EventTypeWarning, "InvalidIPAddress", "Skipping invalid IP: %s", a.IP)
					continue
				}
				if n++; n > maxMirroredPerSubset {
					c.recorder.Eventf(ep, corev1.EventTypeWarning, "TooManyAddressesToMirror",
						"A max of %d addresses can be mirrored to EndpointSlices per Endpoints subset.", maxMirroredPerSubset)
					break
				}
				at := discoveryv1.AddressTypeIPv4
				if ip.Unmap().Is6() {
					at = discoveryv1.AddressTypeIPv6
				}
				k := groupKey{addressType: at, ports: portsKey(ports)}
				g := out[k]
				if g == nil {
					g = &group{ports: ports}
					out[k] = g
				}
				g.endpoints = append(g.endpoints, mirroredEndpoint(a, list.ready))
			}
		}
	}
	for _, g := range out {
		g.endpoints = dedupe(g.endpoints)
	}
	return out
}

func mirroredEndpoint(a corev1.EndpointAddress, ready bool) discoveryv1.Endpoint {
	serving, terminating := ready, false
	e := discoveryv1.Endpoint{Addresses: []string{a.IP}, NodeName: a.NodeName,
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating}}
	if a.Hostname != "" {
		h := a.Hostname
		e.Hostname = &h
	}
	if a.TargetRef != nil {
		ref := *a.TargetRef
		e.TargetRef = &ref
	}
	return e
}

// dedupe keeps the first of endpoints with the same identity.
func dedupe(eps []discoveryv1.Endpoint) []discoveryv1.Endpoint {
	seen := map[string]bool{}
	return slices.DeleteFunc(eps, func(e discoveryv1.Endpoint) bool {
		k := endpointKey(e) + "/" + e.Addresses[0]
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	})
}

func mirroredLabels(ep *corev1.Endpoints) map[string]string {
	out := maps.Clone(ep.Labels)
	if out == nil {
		out = map[string]string{}
	}
	out[discoveryv1.LabelServiceName] = ep.Name
	out[discoveryv1.LabelManagedBy] = MirroringControllerName
	return out
}

func mirroredSlice(ep *corev1.Endpoints, k groupKey, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: ep.Name + "-", Namespace: ep.Namespace, Labels: mirroredLabels(ep),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ep, corev1.SchemeGroupVersion.WithKind("Endpoints"))},
		},
		AddressType: k.addressType,
		Ports:       slices.Clone(ports),
	}
}

// refreshMirroredMeta keeps labels and owner of kept slices current.
func refreshMirroredMeta(ep *corev1.Endpoints, existing []*discoveryv1.EndpointSlice, p *plan) {
	want := mirroredLabels(ep)
	owner := *metav1.NewControllerRef(ep, corev1.SchemeGroupVersion.WithKind("Endpoints"))
	touched := map[string]bool{}
	for _, s := range p.update {
		s.Labels, s.OwnerReferences = maps.Clone(want), []metav1.OwnerReference{owner}
		touched[s.Name] = true
	}
	for _, s := range p.delete {
		touched[s.Name] = true
	}
	for _, s := range existing {
		if ref := metav1.GetControllerOf(s); !touched[s.Name] && (!maps.Equal(s.Labels, want) || ref == nil || ref.UID != ep.UID) {
			u := s.DeepCopy()
			u.Labels, u.OwnerReferences = maps.Clone(want), []metav1.OwnerReference{owner}
			p.update = append(p.update, u)
		}
	}
}
