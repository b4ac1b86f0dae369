package servicelb

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Name is the controller's name in the manager.
const Name = "servicelb"

// Controller keeps LoadBalancer ingress addresses. Keys are ns/name of
// Services.
type Controller struct {
	*controller.Loop
	client   kubernetes.Interface
	services corelisters.ServiceLister
	nodes    corelisters.NodeLister
	recorder record.EventRecorder
	pool     *Pool

	// mu serializes pool allocations across workers.
	mu sync.Mutex
	// assigned are pool addresses written but perhaps not yet in the
	// cache, by Service key.
	assigned map[string]string
}

// New returns the ServiceLB controller.
func New(cc controller.Context) (controller.Controller, error) {
	c := &Controller{client: cc.Client, recorder: cc.Recorder("service-lb-controller"), assigned: map[string]string{}}
	if s := cc.Options.LoadBalancerAddressPool; s != "" {
		p, err := ParsePool(s)
		if err != nil {
			return nil, err
		}
		c.pool = p
	}
	svcInf := cc.Informers.Core().V1().Services()
	nodeInf := cc.Informers.Core().V1().Nodes()
	c.services, c.nodes = svcInf.Lister(), nodeInf.Lister()
	// One worker when allocating from a pool keeps the lowest free
	// address predictable; node addresses need no coordination.
	c.Loop = controller.NewLoop(Name, cc.Options.WithDefaults().Workers, c.sync, cc.Logger)
	if _, err := svcInf.Informer().AddEventHandler(c.Handler()); err != nil {
		return nil, err
	}
	if _, err := nodeInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.nodesChanged, UpdateFunc: func(old, obj any) {
			if nodeAddresses(old) != nodeAddresses(obj) {
				c.nodesChanged(obj)
			}
		}, DeleteFunc: c.nodesChanged,
	}); err != nil {
		return nil, err
	}
	c.WaitFor(svcInf.Informer().HasSynced, nodeInf.Informer().HasSynced)
	return c, nil
}

// nodeAddresses summarizes what of a Node matters here.
func nodeAddresses(obj any) string {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return ""
	}
	return fmt.Sprint(usable(n), nodeIP(n))
}

// nodesChanged requeues every LoadBalancer Service when node addresses
// are in use.
func (c *Controller) nodesChanged(any) {
	if c.pool != nil {
		return
	}
	svcs, _ := c.services.List(labels.Everything())
	for _, s := range svcs {
		if isManaged(s) {
			c.Add(s.Namespace + "/" + s.Name)
		}
	}
}

func isManaged(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.Spec.LoadBalancerClass == nil
}

// usable nodes carry load balancer traffic: Ready, schedulable, and not
// excluded by upstream's label.
func usable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	if _, ok := n.Labels[corev1.LabelNodeExcludeBalancers]; ok {
		return false
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// nodeIP prefers an ExternalIP, as k3s does, then the InternalIP.
func nodeIP(n *corev1.Node) string {
	var internal string
	for _, a := range n.Status.Addresses {
		switch a.Type {
		case corev1.NodeExternalIP:
			return a.Address
		case corev1.NodeInternalIP:
			if internal == "" {
				internal = a.Address
			}
		}
	}
	return internal
}

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.release(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if svc.Spec.LoadBalancerClass != nil {
		return controller.Result{}, nil
	}
	var want []corev1.LoadBalancerIngress
	if isManaged(svc) {
		if want, err = c.ingress(key, svc); err != nil {
			c.recorder.Event(svc, corev1.EventTypeWarning, "SyncLoadBalancerFailed", "Error syncing load balancer: "+err.Error())
			return controller.Result{}, err
		}
	} else {
		c.release(key)
	}
	if equalIngress(svc.Status.LoadBalancer.Ingress, want) {
		return controller.Result{}, nil
	}
	if isManaged(svc) {
		c.recorder.Event(svc, corev1.EventTypeNormal, "EnsuringLoadBalancer", "Ensuring load balancer")
	}
	upd := svc.DeepCopy()
	upd.Status.LoadBalancer.Ingress = want
	if _, err := c.client.CoreV1().Services(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("update load balancer status of %s: %w", key, err)
	}
	if isManaged(svc) {
		c.recorder.Event(svc, corev1.EventTypeNormal, "EnsuredLoadBalancer", "Ensured load balancer")
	}
	return controller.Result{}, nil
}

// ingress computes the Service's addresses.
func (c *Controller) ingress(key string, svc *corev1.Service) ([]corev1.LoadBalancerIngress, error) {
	if c.pool != nil {
		ip, err := c.allocate(key, svc)
		if err != nil {
			return nil, err
		}
		return []corev1.LoadBalancerIngress{{IP: ip}}, nil
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var ips []string
	for _, n := range nodes {
		if ip := nodeIP(n); ip != "" && usable(n) && !slices.Contains(ips, ip) {
			ips = append(ips, ip)
		}
	}
	sort.Slice(ips, func(i, j int) bool { return compareIPs(ips[i], ips[j]) })
	var out []corev1.LoadBalancerIngress
	for _, ip := range ips {
		out = append(out, corev1.LoadBalancerIngress{IP: ip})
	}
	return out, nil
}

func compareIPs(a, b string) bool {
	x, y := net.ParseIP(a).To16(), net.ParseIP(b).To16()
	return string(x) < string(y)
}

// allocate keeps a Service's pool address, honours spec.loadBalancerIP,
// or takes the lowest free one.
func (c *Controller) allocate(key string, svc *corev1.Service) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	used := map[string]string{}
	svcs, err := c.services.List(labels.Everything())
	if err != nil {
		return "", err
	}
	for _, s := range svcs {
		k := s.Namespace + "/" + s.Name
		if k == key || !isManaged(s) {
			continue
		}
		for _, in := range s.Status.LoadBalancer.Ingress {
			used[in.IP] = k
		}
	}
	for k, ip := range c.assigned {
		if k != key {
			used[ip] = k
		}
	}
	free := func(ip string) bool { _, taken := used[ip]; return c.pool.Contains(net.ParseIP(ip)) && !taken }
	if want := svc.Spec.LoadBalancerIP; want != "" {
		if !free(want) {
			return "", fmt.Errorf("requested loadBalancerIP %s is not free in the address pool", want)
		}
		c.assigned[key] = want
		return want, nil
	}
	if ip, ok := c.assigned[key]; ok && free(ip) {
		return ip, nil
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if free(in.IP) {
			c.assigned[key] = in.IP
			return in.IP, nil
		}
	}
	taken := map[string]bool{}
	for ip := range used {
		taken[ip] = true
	}
	ip := c.pool.Next(taken)
	if ip == nil {
		return "", fmt.Errorf("the load balancer address pool is exhausted")
	}
	c.assigned[key] = ip.String()
	return ip.String(), nil
}

func (c *Controller) release(key string) {
	c.mu.Lock()
	delete(c.assigned, key)
	c.mu.Unlock()
}

func equalIngress(a, b []corev1.LoadBalancerIngress) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].IP != b[i].IP || a[i].Hostname != b[i].Hostname {
			return false
		}
	}
	return true
}
