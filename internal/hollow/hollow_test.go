package hollow_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/hollow"
	"github.com/navarch/navarch/internal/testutil/testserver"
	"github.com/navarch/navarch/internal/version"
)

func TestNodesRegisterAndHeartbeat(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := hollow.Start(ctx, hollow.Config{
		Client: env.Client, Count: 3, NamePrefix: "hb-",
		Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8")},
		Labels:   func(i int) map[string]string { return map[string]string{"zone": "z" + strconv.Itoa(i%2)} },
		Taints: func(i int) []corev1.Taint {
			return []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectPreferNoSchedule}}
		},
		RenewInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if got := c.Names(); len(got) != 3 || got[0] != "hb-0" || got[2] != "hb-2" {
		t.Fatalf("Names() = %v", got)
	}
	n, err := env.Client.CoreV1().Nodes().Get(ctx, "hb-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkNode(t, n)

	// Every Lease is renewed; a stopped one stays still while the others move.
	first := renewTimes(t, env, c.Names())
	c.StopHeartbeat("hb-0")
	stopped := renewTimes(t, env, c.Names())["hb-0"]
	testserver.Eventually(t, 10*time.Second, "leases of running nodes to be renewed twice", func() (bool, error) {
		now := renewTimes(t, env, c.Names())
		return now["hb-1"].Sub(first["hb-1"]) > 200*time.Millisecond && now["hb-2"].After(first["hb-2"]), nil
	})
	if got := renewTimes(t, env, c.Names())["hb-0"]; !got.Equal(stopped) {
		t.Fatalf("lease of stopped node renewed: %v -> %v", stopped, got)
	}
	c.ResumeHeartbeat("hb-0")
	testserver.Eventually(t, 10*time.Second, "resumed lease to be renewed", func() (bool, error) {
		return renewTimes(t, env, c.Names())["hb-0"].After(stopped), nil
	})
	lease, err := env.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "hb-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != "hb-1" || *lease.Spec.LeaseDurationSeconds != 40 ||
		len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].UID != n.UID {
		t.Fatalf("lease = %+v", lease)
	}
}

func checkNode(t *testing.T, n *corev1.Node) {
	t.Helper()
	if n.Labels["kubernetes.io/hostname"] != "hb-1" || n.Labels["zone"] != "z1" || n.Labels["kubernetes.io/os"] != "linux" {
		t.Errorf("labels = %v", n.Labels)
	}
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Effect != corev1.TaintEffectPreferNoSchedule {
		t.Errorf("taints = %v", n.Spec.Taints)
	}
	want := map[corev1.ResourceName]string{"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
	for k, v := range want {
		if q := n.Status.Allocatable[k]; q.String() != v {
			t.Errorf("allocatable[%s] = %s, want %s", k, q.String(), v)
		}
		if q := n.Status.Capacity[k]; q.String() != v {
			t.Errorf("capacity[%s] = %s, want %s", k, q.String(), v)
		}
	}
	conds := map[corev1.NodeConditionType]corev1.ConditionStatus{}
	for _, c := range n.Status.Conditions {
		conds[c.Type] = c.Status
	}
	if conds[corev1.NodeReady] != corev1.ConditionTrue || conds[corev1.NodeMemoryPressure] != corev1.ConditionFalse ||
		conds[corev1.NodeDiskPressure] != corev1.ConditionFalse || conds[corev1.NodePIDPressure] != corev1.ConditionFalse {
		t.Errorf("conditions = %v", n.Status.Conditions)
	}
	if n.Status.NodeInfo.KubeletVersion != version.Kubernetes || n.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Errorf("nodeInfo = %+v, endpoints = %+v", n.Status.NodeInfo, n.Status.DaemonEndpoints)
	}
	if len(n.Status.Addresses) == 0 || n.Status.Addresses[0].Type != corev1.NodeInternalIP || n.Status.Addresses[0].Address == "" {
		t.Errorf("addresses = %v", n.Status.Addresses)
	}
}

func renewTimes(t *testing.T, env *testserver.Env, names []string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, name := range names {
		l, err := env.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = l.Spec.RenewTime.Time
	}
	return out
}

func TestPodsRunAndDelete(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t, "run")
	c, err := hollow.Start(ctx, hollow.Config{Client: env.Client, Count: 2, NamePrefix: "run-", RunPods: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	pods := env.Client.CoreV1().Pods(ns)
	for i := range 4 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i)},
			Spec: corev1.PodSpec{NodeName: fmt.Sprintf("run-%d", i%2),
				InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}},
				Containers:     []corev1.Container{{Name: "c", Image: "busybox"}, {Name: "d", Image: "busybox"}}},
		}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	testserver.Eventually(t, 10*time.Second, "pods running", func() (bool, error) {
		l, err := pods.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range l.Items {
			if p.Status.Phase != corev1.PodRunning {
				return false, nil
			}
		}
		return len(l.Items) == 4, nil
	})
	p, err := pods.Get(ctx, "p1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkRunning(t, p)
	// A pod on a node whose kubelet is gone is not confirmed deleted.
	c.StopHeartbeat("run-0")
	if err := pods.Delete(ctx, "p0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(ctx, "p1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 10*time.Second, "p1 to be deleted by its node", func() (bool, error) {
		_, err := pods.Get(ctx, "p1", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if p0, err := pods.Get(ctx, "p0", metav1.GetOptions{}); err != nil || p0.DeletionTimestamp == nil {
		t.Fatalf("p0 on a stopped node: %v, %v", p0, err)
	}
	c.ResumeHeartbeat("run-0")
	testserver.Eventually(t, 10*time.Second, "p0 deleted after its node came back", func() (bool, error) {
		_, err := pods.Get(ctx, "p0", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

func checkRunning(t *testing.T, p *corev1.Pod) {
	t.Helper()
	if p.Status.PodIP == "" || p.Status.HostIP == "" || p.Status.PodIP == p.Status.HostIP || p.Status.StartTime == nil {
		t.Errorf("ips: pod %q host %q", p.Status.PodIP, p.Status.HostIP)
	}
	for _, ct := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		found := false
		for _, c := range p.Status.Conditions {
			found = found || c.Type == ct && c.Status == corev1.ConditionTrue
		}
		if !found {
			t.Errorf("condition %s not True in %v", ct, p.Status.Conditions)
		}
	}
	if len(p.Status.ContainerStatuses) != 2 || p.Status.ContainerStatuses[1].State.Running == nil || !p.Status.ContainerStatuses[1].Ready {
		t.Errorf("container statuses = %+v", p.Status.ContainerStatuses)
	}
	if len(p.Status.InitContainerStatuses) != 1 || p.Status.InitContainerStatuses[0].State.Terminated == nil {
		t.Errorf("init container statuses = %+v", p.Status.InitContainerStatuses)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []hollow.Config{{}, {Count: 1}} {
		if _, err := hollow.Start(context.Background(), cfg); err == nil {
			t.Errorf("Start(%+v) succeeded, want an error", cfg)
		}
	}
}

func TestManyNodesShareOneProcess(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := hollow.Start(ctx, hollow.Config{Client: env.Client, Count: 300, RunPods: true, QPS: 5000, Burst: 500})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	nodes, err := env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 300 {
		t.Fatalf("nodes: %d, %v", len(nodes.Items), err)
	}
	leases, err := env.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{})
	if err != nil || len(leases.Items) != 300 {
		t.Fatalf("leases: %d, %v", len(leases.Items), err)
	}
	ips := map[string]bool{}
	for _, n := range nodes.Items {
		ips[n.Status.Addresses[0].Address] = true
	}
	if len(ips) != 300 {
		t.Fatalf("%d distinct node IPs for 300 nodes", len(ips))
	}
}
