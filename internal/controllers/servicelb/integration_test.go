package servicelb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/controllers/servicelb"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

func createNode(t *testing.T, env *testserver.Env, name, ip string, ready bool) {
	t.Helper()
	ctx := context.Background()
	n, err := env.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if _, err := env.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func setReady(t *testing.T, env *testserver.Env, name string, ready bool) {
	t.Helper()
	ctx := context.Background()
	n, err := env.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions[0].Status = corev1.ConditionFalse
	if ready {
		n.Status.Conditions[0].Status = corev1.ConditionTrue
	}
	if _, err := env.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func createLB(t *testing.T, env *testserver.Env, name string, mut func(*corev1.Service)) {
	t.Helper()
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80}}}}
	if mut != nil {
		mut(s)
	}
	if _, err := env.Client.CoreV1().Services("default").Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitIngress(t *testing.T, env *testserver.Env, name, want string) {
	t.Helper()
	var got string
	testserver.Eventually(t, 10*time.Second, fmt.Sprintf("%s ingress %s", name, want), func() (bool, error) {
		s, err := env.Client.CoreV1().Services("default").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got = ""
		for _, in := range s.Status.LoadBalancer.Ingress {
			got += in.IP + " "
		}
		return got == want, nil
	})
}

func start(t *testing.T, env *testserver.Env, pool string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cc, run := env.ControllerContext(t, ctx)
	cc.Options.LoadBalancerAddressPool = pool
	c, err := servicelb.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	run()
	go func() { _ = c.Run(ctx) }()
}

func TestNodeAddresses(t *testing.T) {
	env := testserver.Start(t)
	createNode(t, env, "n2", "172.31.250.12", true)
	createNode(t, env, "n1", "172.31.250.11", true)
	createNode(t, env, "n3", "172.31.250.13", false)
	start(t, env, "")
	createLB(t, env, "web", nil)
	createLB(t, env, "classy", func(s *corev1.Service) {
		s.Spec.LoadBalancerClass = new(string)
		*s.Spec.LoadBalancerClass = "example.com/other"
	})
	waitIngress(t, env, "web", "172.31.250.11 172.31.250.12 ")
	setReady(t, env, "n3", true)
	waitIngress(t, env, "web", "172.31.250.11 172.31.250.12 172.31.250.13 ")
	setReady(t, env, "n1", false)
	waitIngress(t, env, "web", "172.31.250.12 172.31.250.13 ")
	out, err := env.Client.CoreV1().Services("default").Get(context.Background(), "classy", metav1.GetOptions{})
	if err != nil || len(out.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("a Service with a loadBalancerClass is left alone: %v %v", out.Status.LoadBalancer, err)
	}
}

func TestAddressPool(t *testing.T) {
	env := testserver.Start(t)
	start(t, env, "172.31.251.10-172.31.251.11")
	createLB(t, env, "a", nil)
	waitIngress(t, env, "a", "172.31.251.10 ")
	createLB(t, env, "b", func(s *corev1.Service) { s.Spec.LoadBalancerIP = "172.31.251.11" })
	waitIngress(t, env, "b", "172.31.251.11 ")
	createLB(t, env, "c", nil)
	testserver.Eventually(t, 10*time.Second, "pool exhausted event", func() (bool, error) {
		evs, err := env.Client.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=c"})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == "SyncLoadBalancerFailed" {
				return true, nil
			}
		}
		return false, nil
	})
	if err := env.Client.CoreV1().Services("default").Delete(context.Background(), "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitIngress(t, env, "c", "172.31.251.10 ")
}
