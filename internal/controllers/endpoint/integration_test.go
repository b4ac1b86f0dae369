package endpoint_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/endpoint"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 30 * time.Second

func startController(t *testing.T, env *testserver.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cc, start := env.ControllerContext(t, ctx)
	ctl, err := endpoint.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	start()
	done := make(chan struct{})
	go func() { defer close(done); _ = ctl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// runPod creates a pod bound to node and reports it running with ip, as a
// node agent would.
func runPod(t *testing.T, c kubernetes.Interface, ns, name, node, ip string, ready bool) {
	t.Helper()
	ctx := context.Background()
	p, err := c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox",
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

func markReady(t *testing.T, c kubernetes.Interface, ns, name string, ready bool) {
	t.Helper()
	ctx := context.Background()
	p, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setReady(p, ready)
	if _, err := c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// addresses renders Endpoints as "ip:port" lists of ready and not-ready
// addresses.
func addresses(ep *corev1.Endpoints) (ready, notReady []string) {
	for _, s := range ep.Subsets {
		for _, p := range s.Ports {
			for _, a := range s.Addresses {
				ready = append(ready, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
			for _, a := range s.NotReadyAddresses {
				notReady = append(notReady, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
		}
	}
	return ready, notReady
}

func waitEndpoints(t *testing.T, c kubernetes.Interface, ns, name string, ready, notReady []string) *corev1.Endpoints {
	t.Helper()
	var ep *corev1.Endpoints
	testserver.Eventually(t, wait, fmt.Sprintf("endpoints ready %v not ready %v", ready, notReady), func() (bool, error) {
		var err error
		ep, err = c.CoreV1().Endpoints(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		r, n := addresses(ep)
		return fmt.Sprint(r) == fmt.Sprint(ready) && fmt.Sprint(n) == fmt.Sprint(notReady), fmt.Errorf("ready %v not ready %v", r, n)
	})
	return ep
}

func TestEndpointsFollowPods(t *testing.T) {
	env := testserver.Start(t)
	startController(t, env)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t, "ep")
	svc, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runPod(t, c, ns, "a", "node-1", "10.244.1.2", true)
	runPod(t, c, ns, "b", "node-2", "10.244.2.2", false)
	ep := waitEndpoints(t, c, ns, "web", []string{"10.244.1.2:8080"}, []string{"10.244.2.2:8080"})
	a := ep.Subsets[0].Addresses[0]
	if a.TargetRef == nil || a.TargetRef.Kind != "Pod" || a.TargetRef.Name != "a" || a.NodeName == nil || *a.NodeName != "node-1" {
		t.Errorf("address %+v", a)
	}
	if ep.Labels["tier"] != "front" || ep.Subsets[0].Ports[0].Name != "http" {
		t.Errorf("labels %v ports %+v", ep.Labels, ep.Subsets[0].Ports)
	}

	// Readiness changes move addresses both ways.
	markReady(t, c, ns, "b", true)
	waitEndpoints(t, c, ns, "web", []string{"10.244.1.2:8080", "10.244.2.2:8080"}, nil)
	markReady(t, c, ns, "a", false)
	waitEndpoints(t, c, ns, "web", []string{"10.244.2.2:8080"}, []string{"10.244.1.2:8080"})

	// A deleted pod leaves; a pod whose labels stop matching leaves too.
	if err := c.CoreV1().Pods(ns).Delete(ctx, "a", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, c, ns, "web", []string{"10.244.2.2:8080"}, nil)
	p, _ := c.CoreV1().Pods(ns).Get(ctx, "b", metav1.GetOptions{})
	p.Labels = map[string]string{"app": "other"}
	if _, err := c.CoreV1().Pods(ns).Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, c, ns, "web", nil, nil)

	// Hand edits are undone.
	runPod(t, c, ns, "c", "node-1", "10.244.1.3", true)
	ep = waitEndpoints(t, c, ns, "web", []string{"10.244.1.3:8080"}, nil)
	ep.Subsets = nil
	if _, err := c.CoreV1().Endpoints(ns).Update(ctx, ep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, c, ns, "web", []string{"10.244.1.3:8080"}, nil)

	// Deleting the Service deletes its Endpoints.
	if err := c.CoreV1().Services(ns).Delete(ctx, svc.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, wait, "endpoints deleted with their service", func() (bool, error) {
		_, err := c.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
}

func TestSelectorlessServiceIsLeftAlone(t *testing.T) {
	env := testserver.Start(t)
	startController(t, env)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t, "manual")
	if _, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	manual := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "192.0.2.10"}}, Ports: []corev1.EndpointPort{{Port: 5432}}}}}
	if _, err := c.CoreV1().Endpoints(ns).Create(ctx, manual, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A service with a selector created afterwards is a marker: once its
	// Endpoints exist, the controller has seen the manual ones too.
	if _, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "marker"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "none"}, Ports: []corev1.ServicePort{{Port: 1}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, c, ns, "marker", nil, nil)
	ep, err := c.CoreV1().Endpoints(ns).Get(ctx, "db", metav1.GetOptions{})
	if err != nil || len(ep.Subsets) != 1 || ep.Subsets[0].Addresses[0].IP != "192.0.2.10" {
		t.Errorf("manual endpoints changed: %v %+v", err, ep)
	}
}
