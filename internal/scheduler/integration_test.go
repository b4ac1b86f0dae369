package scheduler_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/navarch/navarch/internal/hollow"
	"github.com/navarch/navarch/internal/scheduler"
	"github.com/navarch/navarch/internal/scheduler/config"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 20 * time.Second

type req = map[corev1.ResourceName]string

// cluster is a server with hollow nodes and a scheduler.
type cluster struct {
	env   *testserver.Env
	ctx   context.Context
	ns    string
	nodes *hollow.Cluster
}

func newCluster(t *testing.T, nodes hollow.Config, conf *config.Configuration) *cluster {
	t.Helper()
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := &cluster{env: env, ctx: ctx, ns: env.Namespace(t, "sched")}
	nodes.Client, nodes.RunPods = env.Client, true
	h, err := hollow.Start(ctx, nodes)
	if err != nil {
		t.Fatal(err)
	}
	c.nodes = h
	done := make(chan error, 1)
	go func() { done <- scheduler.Run(ctx, scheduler.Config{Client: env.Client, Configuration: conf}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("scheduler.Run: %v", err)
		}
		h.Stop()
	})
	return c
}

func (c *cluster) create(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	pod.Namespace, pod.UID = c.ns, ""
	if _, err := c.env.Client.CoreV1().Pods(c.ns).Create(c.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", pod.Name, err)
	}
}

func (c *cluster) get(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	p, err := c.env.Client.CoreV1().Pods(c.ns).Get(c.ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod %s: %v", name, err)
	}
	return p
}

func (c *cluster) waitBound(t *testing.T, name string) string {
	t.Helper()
	var node string
	testserver.Eventually(t, wait, "pod "+name+" bound", func() (bool, error) {
		p, err := c.env.Client.CoreV1().Pods(c.ns).Get(c.ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		node = p.Spec.NodeName
		return node != "", nil
	})
	return node
}

// waitEvent returns the message of the pod's latest event with reason.
func (c *cluster) waitEvent(t *testing.T, pod, reason string) string {
	t.Helper()
	var msg string
	sel := fields.Set{"involvedObject.name": pod, "reason": reason}.AsSelector().String()
	testserver.Eventually(t, wait, reason+" event for "+pod, func() (bool, error) {
		l, err := c.env.Client.CoreV1().Events(c.ns).List(c.ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil || len(l.Items) == 0 {
			return false, err
		}
		msg = l.Items[len(l.Items)-1].Message
		return true, nil
	})
	return msg
}

func capacity(cpu string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
}

func TestSchedulesAndExplainsFailures(t *testing.T) {
	c := newCluster(t, hollow.Config{Count: 3, NamePrefix: "n", Capacity: capacity("4"), Labels: func(i int) map[string]string {
		if i == 0 {
			return map[string]string{"disk": "ssd"}
		}
		return nil
	}}, nil)
	c.create(t, schedtest.MakePod().Name("ok").NodeSelector(map[string]string{"disk": "ssd"}).Req(req{"cpu": "1"}).Obj())
	node := c.waitBound(t, "ok")
	if msg := c.waitEvent(t, "ok", "Scheduled"); msg != fmt.Sprintf("Successfully assigned %s/ok to %s", c.ns, node) {
		t.Errorf("Scheduled event: %q", msg)
	}
	testserver.Eventually(t, wait, "hollow node runs the pod", func() (bool, error) {
		return c.get(t, "ok").Status.Phase == corev1.PodRunning, nil
	})

	c.create(t, schedtest.MakePod().Name("big").NodeSelector(map[string]string{"disk": "ssd"}).Req(req{"cpu": "3500m"}).Obj())
	msg := c.waitEvent(t, "big", "FailedScheduling")
	want := "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "preemption: 0/3 nodes are available:") {
		t.Errorf("FailedScheduling message %q, want prefix %q and a preemption part", msg, want)
	}
	testserver.Eventually(t, wait, "PodScheduled=False condition", func() (bool, error) {
		for _, cond := range c.get(t, "big").Status.Conditions {
			if cond.Type == corev1.PodScheduled {
				return cond.Status == corev1.ConditionFalse && cond.Reason == "Unschedulable" && cond.Message == msg, nil
			}
		}
		return false, nil
	})
	if p := c.get(t, "big"); p.Spec.NodeName != "" || p.Status.Phase != corev1.PodPending {
		t.Errorf("unschedulable pod: node %q phase %s", p.Spec.NodeName, p.Status.Phase)
	}
}

func TestBackoffAndRetryWhenCapacityAppears(t *testing.T) {
	c := newCluster(t, hollow.Config{Count: 1, NamePrefix: "small", Capacity: capacity("2")}, nil)
	c.create(t, schedtest.MakePod().Name("filler").Req(req{"cpu": "1500m"}).Obj())
	c.waitBound(t, "filler")
	c.create(t, schedtest.MakePod().Name("waiting").Req(req{"cpu": "1"}).Obj())
	c.waitEvent(t, "waiting", "FailedScheduling")

	// Room appears on the node: the deletion event retries the pod.
	if err := c.env.Client.CoreV1().Pods(c.ns).Delete(c.ctx, "filler", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if node := c.waitBound(t, "waiting"); node != "small0" {
		t.Errorf("bound to %s", node)
	}

	// A pod too big for the node waits until a bigger node registers.
	c.create(t, schedtest.MakePod().Name("huge").Req(req{"cpu": "3"}).Obj())
	c.waitEvent(t, "huge", "FailedScheduling")
	more, err := hollow.Start(c.ctx, hollow.Config{Client: c.env.Client, Count: 1, NamePrefix: "big", Capacity: capacity("8")})
	if err != nil {
		t.Fatal(err)
	}
	defer more.Stop()
	if node := c.waitBound(t, "huge"); node != "big0" {
		t.Errorf("bound to %s", node)
	}
}

func TestPreemption(t *testing.T) {
	c := newCluster(t, hollow.Config{Count: 1, NamePrefix: "only", Capacity: capacity("2")}, nil)
	for name, v := range map[string]int32{"low": 10, "high": 1000} {
		pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: v}
		if _, err := c.env.Client.SchedulingV1().PriorityClasses().Create(c.ctx, pc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		p := schedtest.MakePod().Name(fmt.Sprintf("low-%d", i)).Req(req{"cpu": "1"}).Obj()
		p.Spec.Priority, p.Spec.PriorityClassName = nil, "low"
		c.create(t, p)
		c.waitBound(t, p.Name)
	}
	high := schedtest.MakePod().Name("high").Req(req{"cpu": "1"}).Obj()
	high.Spec.Priority, high.Spec.PriorityClassName = nil, "high"
	c.create(t, high)
	if node := c.waitBound(t, "high"); node != "only0" {
		t.Fatalf("high bound to %s", node)
	}
	if got := c.get(t, "high").Status.NominatedNodeName; got != "only0" {
		t.Errorf("nominatedNodeName = %q, want only0", got)
	}
	var victim string
	for _, name := range []string{"low-0", "low-1"} {
		if _, err := c.env.Client.CoreV1().Pods(c.ns).Get(c.ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			victim = name
		}
	}
	if victim == "" {
		t.Fatal("no low-priority pod was preempted")
	}
	if msg := c.waitEvent(t, victim, "Preempted"); !strings.HasPrefix(msg, "Preempted by pod ") || !strings.HasSuffix(msg, " on node only0") {
		t.Errorf("Preempted event: %q", msg)
	}
	msg := c.waitEvent(t, "high", "FailedScheduling")
	if !strings.HasPrefix(msg, "0/1 nodes are available: 1 Insufficient cpu.") {
		t.Errorf("preemptor's FailedScheduling: %q", msg)
	}
}

func TestAntiAffinitySpreadsReplicas(t *testing.T) {
	c := newCluster(t, hollow.Config{Count: 3, NamePrefix: "az"}, nil)
	web := map[string]string{"app": "web"}
	replica := func(i int) *corev1.Pod {
		return schedtest.MakePod().Name(fmt.Sprintf("web-%d", i)).Labels(web).OwnerReference("ReplicaSet", "web").
			Req(req{"cpu": "100m"}).PodAntiAffinity(corev1.LabelHostname, web).Obj()
	}
	for i := range 3 {
		c.create(t, replica(i))
	}
	seen := map[string]string{}
	for i := range 3 {
		name := fmt.Sprintf("web-%d", i)
		node := c.waitBound(t, name)
		if other, dup := seen[node]; dup {
			t.Errorf("%s and %s share node %s", other, name, node)
		}
		seen[node] = name
	}
	c.create(t, replica(3))
	msg := c.waitEvent(t, "web-3", "FailedScheduling")
	if !strings.HasPrefix(msg, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.") {
		t.Errorf("fourth replica: %q", msg)
	}
}

func TestProfilesSelectedBySchedulerName(t *testing.T) {
	conf, err := config.Parse([]byte(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
`))
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, hollow.Config{Count: 2, NamePrefix: "p", Capacity: capacity("4")}, conf)
	c.create(t, schedtest.MakePod().Name("seed").Req(req{"cpu": "2"}).Obj())
	seed := c.waitBound(t, "seed")
	c.create(t, schedtest.MakePod().Name("packed").SchedulerName("bin-packer").Req(req{"cpu": "1"}).Obj())
	if node := c.waitBound(t, "packed"); node != seed {
		t.Errorf("bin-packer put the pod on %s, not next to the seed on %s", node, seed)
	}
	if msg := c.waitEvent(t, "packed", "Scheduled"); !strings.Contains(msg, "Successfully assigned") {
		t.Errorf("event %q", msg)
	}
	c.create(t, schedtest.MakePod().Name("other").SchedulerName("someone-else").Container().Obj())
	// Sentinel: once a later default pod is bound, the foreign one has
	// been seen and must still be untouched.
	c.create(t, schedtest.MakePod().Name("sentinel").Container().Obj())
	c.waitBound(t, "sentinel")
	if p := c.get(t, "other"); p.Spec.NodeName != "" || len(p.Status.Conditions) != 0 {
		t.Errorf("pod of another scheduler was touched: node %q conditions %v", p.Spec.NodeName, p.Status.Conditions)
	}
}

func TestLeaderElection(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t, "le")
	h, err := hollow.Start(ctx, hollow.Config{Client: env.Client, Count: 1, NamePrefix: "le"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	run := func(id string) (context.CancelFunc, chan error) {
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- scheduler.Run(cctx, scheduler.Config{Client: env.Client, LeaderElect: true, Identity: id})
		}()
		return ccancel, done
	}
	stopA, doneA := run("a")
	holder := func() string {
		l, err := env.Client.CoordinationV1().Leases("kube-system").Get(ctx, "kube-scheduler", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	testserver.Eventually(t, wait, "a to hold the lease", func() (bool, error) { return holder() == "a", nil })
	stopB, doneB := run("b")
	defer func() { stopB(); <-doneB }()
	bind := func(name string) {
		p := schedtest.MakePod().Name(name).Container().Obj()
		p.Namespace, p.UID = ns, ""
		if _, err := env.Client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		testserver.Eventually(t, wait, name+" bound", func() (bool, error) {
			p, err := env.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			return err == nil && p.Spec.NodeName != "", err
		})
	}
	bind("first")
	if got := holder(); got != "a" {
		t.Fatalf("holder changed to %q while a is alive", got)
	}
	stopA()
	<-doneA
	testserver.Eventually(t, wait, "b to take over the released lease", func() (bool, error) { return holder() == "b", nil })
	bind("second")
}
