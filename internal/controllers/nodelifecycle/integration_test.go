package nodelifecycle_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/nodelifecycle"
	"github.com/navarch/navarch/internal/hollow"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 30 * time.Second

// fast shortens every period so that a node dies in about two seconds.
func fast(o *controller.Options) {
	o.NodeMonitorGracePeriod = 2 * time.Second
	o.NodeMonitorPeriod = 100 * time.Millisecond
	o.NodeEvictionRate = 100
}

func start(t *testing.T, env *testserver.Env, opts func(*controller.Options)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cc, startInformers := env.ControllerContext(t, ctx)
	opts(&cc.Options)
	ctl, err := nodelifecycle.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	startInformers()
	done := make(chan struct{})
	go func() { defer close(done); _ = ctl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func nodes(t *testing.T, env *testserver.Env, n int) *hollow.Cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := hollow.Start(ctx, hollow.Config{Client: env.Client, Count: n, RunPods: true, RenewInterval: 200 * time.Millisecond})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(); cancel() })
	return c
}

func pod(name, node string, tolerate *int64) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	p.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: tolerate}}
	return p
}

func ptr[T any](v T) *T { return &v }

func getNode(t *testing.T, env *testserver.Env, name string) *corev1.Node {
	t.Helper()
	n, err := env.Client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func taintKeys(n *corev1.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	slices.Sort(out)
	return out
}

func readyCond(conds []corev1.NodeCondition) corev1.NodeCondition {
	for _, c := range conds {
		if c.Type == corev1.NodeReady {
			return c
		}
	}
	return corev1.NodeCondition{}
}

func podReady(p *corev1.Pod) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status
		}
	}
	return ""
}

func TestDeadNodeIsTaintedAndItsPodsEvicted(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "life")
	cluster := nodes(t, env, 3)
	dead, alive := cluster.Names()[0], cluster.Names()[1]
	start(t, env, fast)
	ctx := context.Background()
	pods := env.Client.CoreV1().Pods(ns)
	for _, p := range []*corev1.Pod{
		pod("evicted", dead, ptr(int64(2))),
		pod("forever", dead, nil), // as DaemonSet pods tolerate
		pod("elsewhere", alive, ptr(int64(2))),
	} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	testserver.Eventually(t, wait, "pods ready", func() (bool, error) {
		list, err := pods.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range list.Items {
			if podReady(&p) != corev1.ConditionTrue {
				return false, fmt.Errorf("%s not ready", p.Name)
			}
		}
		return len(list.Items) == 3, nil
	})
	if keys := taintKeys(getNode(t, env, dead)); len(keys) != 0 {
		t.Fatalf("healthy node tainted: %v", keys)
	}

	cluster.StopHeartbeat(dead)
	testserver.Eventually(t, wait, "dead node Unknown and tainted", func() (bool, error) {
		n := getNode(t, env, dead)
		c := readyCond(n.Status.Conditions)
		want := []string{corev1.TaintNodeUnreachable + ":NoExecute", corev1.TaintNodeUnreachable + ":NoSchedule"}
		return c.Status == corev1.ConditionUnknown && c.Reason == "NodeStatusUnknown" && c.Message == "Kubelet stopped posting node status." &&
			slices.Equal(taintKeys(n), want), fmt.Errorf("ready %+v taints %v", c, taintKeys(n))
	})
	testserver.Eventually(t, wait, "pods of the dead node not ready", func() (bool, error) {
		p, err := pods.Get(ctx, "forever", metav1.GetOptions{})
		return err == nil && podReady(p) == corev1.ConditionFalse, err
	})
	testserver.Eventually(t, wait, "intolerant pod evicted after its toleration", func() (bool, error) {
		p, err := pods.Get(ctx, "evicted", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return err == nil && p.DeletionTimestamp != nil, err
	})
	n := getNode(t, env, dead)
	var added time.Time
	for _, tn := range n.Spec.Taints {
		if tn.Effect == corev1.TaintEffectNoExecute && tn.TimeAdded != nil {
			added = tn.TimeAdded.Time
		}
	}
	if added.IsZero() {
		t.Fatal("NoExecute taint without TimeAdded")
	}
	if p, err := pods.Get(ctx, "evicted", metav1.GetOptions{}); err == nil && p.DeletionTimestamp != nil {
		if cond := disruption(p); cond == nil || cond.Reason != "DeletionByTaintManager" {
			t.Errorf("evicted pod conditions %+v", p.Status.Conditions)
		}
	}
	assertEvent(t, env, ns, "evicted", "TaintManagerEviction", "Marking for deletion Pod "+ns+"/evicted")
	assertEvent(t, env, "default", dead, "NodeNotReady", "Node "+dead+" status is now: NodeNotReady")
	for _, name := range []string{"forever", "elsewhere"} {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil || p.DeletionTimestamp != nil {
			t.Errorf("%s evicted: %v %+v", name, err, p)
		}
	}
	if keys := taintKeys(getNode(t, env, alive)); len(keys) != 0 {
		t.Errorf("live node tainted: %v", keys)
	}

	// The node comes back: its taints go.
	cluster.ResumeHeartbeat(dead)
	testserver.Eventually(t, wait, "taints removed after recovery", func() (bool, error) {
		n := getNode(t, env, dead)
		return readyCond(n.Status.Conditions).Status == corev1.ConditionTrue && len(n.Spec.Taints) == 0, fmt.Errorf("taints %v", taintKeys(n))
	})
}

func disruption(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.DisruptionTarget {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func assertEvent(t *testing.T, env *testserver.Env, ns, object, reason, message string) {
	t.Helper()
	testserver.Eventually(t, wait, reason+" event on "+object, func() (bool, error) {
		evs, err := env.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("involvedObject.name", object).String()})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == reason && e.Message == message {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events", len(evs.Items))
	})
}

// TestEvictionRateLimit: two nodes dying together in a healthy zone are
// tainted one after the other at NodeEvictionRate.
func TestEvictionRateLimit(t *testing.T) {
	env := testserver.Start(t)
	cluster := nodes(t, env, 5)
	start(t, env, func(o *controller.Options) {
		fast(o)
		o.NodeEvictionRate = 0.5 // one node every two seconds
	})
	names := cluster.Names()
	cluster.StopHeartbeat(names[0])
	cluster.StopHeartbeat(names[1])
	times := map[string]time.Time{}
	testserver.Eventually(t, wait, "both dead nodes tainted", func() (bool, error) {
		for _, name := range names[:2] {
			for _, tn := range getNode(t, env, name).Spec.Taints {
				if tn.Key == corev1.TaintNodeUnreachable && tn.Effect == corev1.TaintEffectNoExecute && tn.TimeAdded != nil {
					times[name] = tn.TimeAdded.Time
				}
			}
		}
		return len(times) == 2, nil
	})
	gap := times[names[0]].Sub(times[names[1]]).Abs()
	if gap < 1500*time.Millisecond {
		t.Errorf("second node tainted %v after the first, want about 2 s at 0.5 nodes/s", gap)
	}
	for _, name := range names[2:] {
		if keys := taintKeys(getNode(t, env, name)); len(keys) != 0 {
			t.Errorf("live node %s tainted: %v", name, keys)
		}
	}
}

// TestAllNodesDownEvictsNothing: when every node goes silent at once the
// controller assumes the fault is its own: no node keeps a NoExecute taint.
func TestAllNodesDownEvictsNothing(t *testing.T) {
	env := testserver.Start(t)
	cluster := nodes(t, env, 2)
	start(t, env, fast)
	for _, n := range cluster.Names() {
		cluster.StopHeartbeat(n)
	}
	testserver.Eventually(t, wait, "all nodes Unknown with NoSchedule taints", func() (bool, error) {
		for _, name := range cluster.Names() {
			n := getNode(t, env, name)
			if readyCond(n.Status.Conditions).Status != corev1.ConditionUnknown || !slices.Equal(taintKeys(n), []string{corev1.TaintNodeUnreachable + ":NoSchedule"}) {
				return false, fmt.Errorf("%s: %v", name, taintKeys(n))
			}
		}
		return true, nil
	})
	// A node coming back ends the disruption mode: the other gets its
	// NoExecute taint then.
	cluster.ResumeHeartbeat(cluster.Names()[0])
	testserver.Eventually(t, wait, "remaining dead node tainted NoExecute", func() (bool, error) {
		return slices.Contains(taintKeys(getNode(t, env, cluster.Names()[1])), corev1.TaintNodeUnreachable+":NoExecute"), nil
	})
}
