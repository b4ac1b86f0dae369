package endpointslice_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/endpointslice"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 30 * time.Second

func startController(t *testing.T, env *testserver.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cc, start := env.ControllerContext(t, ctx)
	ctl, err := endpointslice.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	start()
	done := make(chan struct{})
	go func() { defer close(done); _ = ctl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// runPod creates a pod on node-1 and reports it running with ip.
func runPod(t *testing.T, c kubernetes.Interface, ns, name, ip string, ready bool) {
	t.Helper()
	ctx := context.Background()
	p, err := c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "node-1", Hostname: name, Subdomain: "web", Containers: []corev1.Container{{Name: "c", Image: "busybox",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	setReady(p, ready)
	if _, err := c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func setReady(p *corev1.Pod, ready bool) {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
}

func serviceSlices(t *testing.T, c kubernetes.Interface, ns, svc string) []discoveryv1.EndpointSlice {
	t.Helper()
	list, err := c.DiscoveryV1().EndpointSlices(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: labels.Set{discoveryv1.LabelServiceName: svc}.String()})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// summary renders a service's endpoints as sorted "ip:port/ready/serving/terminating".
func summary(ss []discoveryv1.EndpointSlice) []string {
	var out []string
	for _, s := range ss {
		for _, e := range s.Endpoints {
			for _, p := range s.Ports {
				out = append(out, fmt.Sprintf("%s:%d/%v/%v/%v", e.Addresses[0], *p.Port, *e.Conditions.Ready, *e.Conditions.Serving, *e.Conditions.Terminating))
			}
		}
	}
	slices.Sort(out)
	return out
}

func waitSummary(t *testing.T, c kubernetes.Interface, ns, svc string, want ...string) []discoveryv1.EndpointSlice {
	t.Helper()
	var ss []discoveryv1.EndpointSlice
	testserver.Eventually(t, wait, fmt.Sprintf("slices of %s = %v", svc, want), func() (bool, error) {
		ss = serviceSlices(t, c, ns, svc)
		got := summary(ss)
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Errorf("got %v", got)
	})
	return ss
}

func TestSlicesFollowPods(t *testing.T) {
	env := testserver.Start(t)
	startController(t, env)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t, "slices")
	svc, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No pods yet: one empty placeholder slice.
	testserver.Eventually(t, wait, "placeholder slice", func() (bool, error) {
		ss := serviceSlices(t, c, ns, "web")
		return len(ss) == 1 && len(ss[0].Endpoints) == 0, nil
	})
	runPod(t, c, ns, "a", "10.244.1.2", true)
	runPod(t, c, ns, "b", "10.244.1.3", false)
	ss := waitSummary(t, c, ns, "web", "10.244.1.2:8080/true/true/false", "10.244.1.3:8080/false/false/false")
	if len(ss) != 1 {
		t.Fatalf("%d slices for 2 endpoints", len(ss))
	}
	s := ss[0]
	ref := metav1.GetControllerOf(&s)
	if s.Labels[discoveryv1.LabelManagedBy] != "endpointslice-controller.k8s.io" || ref == nil || ref.UID != svc.UID ||
		s.AddressType != discoveryv1.AddressTypeIPv4 || *s.Ports[0].Name != "http" {
		t.Errorf("slice %+v", s.ObjectMeta)
	}
	for _, e := range s.Endpoints {
		if e.TargetRef == nil || e.NodeName == nil || *e.NodeName != "node-1" || e.Hostname == nil || *e.Hostname != e.TargetRef.Name {
			t.Errorf("endpoint %+v", e)
		}
	}

	// Readiness changes.
	p, _ := c.CoreV1().Pods(ns).Get(ctx, "b", metav1.GetOptions{})
	setReady(p, true)
	if _, err := c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, c, ns, "web", "10.244.1.2:8080/true/true/false", "10.244.1.3:8080/true/true/false")

	// A terminating pod stays, serving but not ready, until it is gone.
	if err := c.CoreV1().Pods(ns).Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, c, ns, "web", "10.244.1.2:8080/false/true/true", "10.244.1.3:8080/true/true/false")
	zero := int64(0)
	if err := c.CoreV1().Pods(ns).Delete(ctx, "a", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, c, ns, "web", "10.244.1.3:8080/true/true/false")

	if err := c.CoreV1().Services(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, wait, "slices deleted with their service", func() (bool, error) {
		return len(serviceSlices(t, c, ns, "web")) == 0, nil
	})
}

func TestSlicesOfAHundredAndFifty(t *testing.T) {
	env := testserver.Start(t)
	startController(t, env)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t, "many")
	if _, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range 150 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			runPod(t, c, ns, fmt.Sprintf("p%d", i), fmt.Sprintf("10.244.%d.%d", 1+i/200, 2+i%200), true)
		}()
	}
	wg.Wait()
	testserver.Eventually(t, wait, "150 endpoints in two slices", func() (bool, error) {
		ss := serviceSlices(t, c, ns, "web")
		n := 0
		for _, s := range ss {
			if len(s.Endpoints) > endpointslice.MaxEndpointsPerSlice {
				return false, fmt.Errorf("slice with %d endpoints", len(s.Endpoints))
			}
			n += len(s.Endpoints)
		}
		return n == 150 && len(ss) == 2, fmt.Errorf("%d endpoints in %d slices", n, len(ss))
	})
	// Created concurrently with the pods, the slices never duplicate an
	// endpoint.
	seen := map[string]bool{}
	for _, s := range serviceSlices(t, c, ns, "web") {
		for _, e := range s.Endpoints {
			if seen[e.Addresses[0]] {
				t.Errorf("%s in two slices", e.Addresses[0])
			}
			seen[e.Addresses[0]] = true
		}
	}
}

func TestSelectorlessServiceGetsNoSlices(t *testing.T) {
	env := testserver.Start(t)
	startController(t, env)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t, "manual")
	for _, s := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "manual"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "marker"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "x"}, Ports: []corev1.ServicePort{{Port: 80}}}},
	} {
		if _, err := c.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	testserver.Eventually(t, wait, "marker placeholder", func() (bool, error) { return len(serviceSlices(t, c, ns, "marker")) == 1, nil })
	if ss := serviceSlices(t, c, ns, "manual"); len(ss) != 0 {
		t.Errorf("selectorless service got %d slices", len(ss))
	}
}
