package daemonset_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/daemonset"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 15 * time.Second

type h struct {
	t   *testing.T
	ctx context.Context
	c   kubernetes.Interface
	ns  string
	env *testserver.Env
}

func TestDaemonSetController(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc, start := env.ControllerContext(t, ctx)
	ctl, err := daemonset.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	start()
	go ctl.Run(ctx)
	x := &h{t: t, ctx: ctx, c: env.Client, ns: env.Namespace(t, "daemons"), env: env}
	x.node("n1", map[string]string{"role": "edge"})
	x.node("n2", nil)

	t.Run("follows nodes", func(t *testing.T) { x.t = t; testFollowsNodes(x) })
	t.Run("nodeSelector", func(t *testing.T) { x.t = t; testNodeSelector(x) })
	t.Run("rolling update and kubectl rollout", func(t *testing.T) { x.t = t; testRollingUpdate(x) })
}

func (x *h) node(name string, lbls map[string]string) {
	x.t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}}
	if _, err := x.c.CoreV1().Nodes().Create(x.ctx, n, metav1.CreateOptions{}); err != nil {
		x.t.Fatal(err)
	}
}

func (x *h) daemonSet(name string, mutate func(*appsv1.DaemonSet)) {
	x.t.Helper()
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: x.ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1"}}},
			},
		},
	}
	mutate(ds)
	if _, err := x.c.AppsV1().DaemonSets(x.ns).Create(x.ctx, ds, metav1.CreateOptions{}); err != nil {
		x.t.Fatal(err)
	}
}

// podsByNode lists the DaemonSet's live pods by the node their required
// affinity names.
func (x *h) podsByNode(name string) map[string][]corev1.Pod {
	x.t.Helper()
	l, err := x.c.CoreV1().Pods(x.ns).List(x.ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		x.t.Fatal(err)
	}
	out := map[string][]corev1.Pod{}
	for _, p := range l.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		out[pinnedNode(&p)] = append(out[pinnedNode(&p)], p)
	}
	return out
}

func pinnedNode(p *corev1.Pod) string {
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range t.MatchFields {
			if f.Key == "metadata.name" && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}

// waitNodes waits until the DaemonSet has exactly one pod on each of nodes.
func (x *h) waitNodes(name string, nodes ...string) map[string][]corev1.Pod {
	x.t.Helper()
	var got map[string][]corev1.Pod
	testserver.Eventually(x.t, wait, fmt.Sprintf("%s pods on %v", name, nodes), func() (bool, error) {
		got = x.podsByNode(name)
		if len(got) != len(nodes) {
			return false, nil
		}
		for _, n := range nodes {
			if len(got[n]) != 1 {
				return false, nil
			}
		}
		return true, nil
	})
	return got
}

// readyAll plays kubelet: every pod of the DaemonSet runs and is ready.
func (x *h) readyAll(name string) {
	x.t.Helper()
	for _, ps := range x.podsByNode(name) {
		for _, p := range ps {
			if p.Status.Phase == corev1.PodRunning {
				continue
			}
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
			if _, err := x.c.CoreV1().Pods(x.ns).UpdateStatus(x.ctx, &p, metav1.UpdateOptions{}); err != nil {
				x.t.Fatalf("mark %s ready: %v", p.Name, err)
			}
		}
	}
}

func (x *h) waitStatus(name, what string, cond func(*appsv1.DaemonSetStatus) bool) *appsv1.DaemonSet {
	x.t.Helper()
	var ds *appsv1.DaemonSet
	testserver.Eventually(x.t, wait, name+" status: "+what, func() (bool, error) {
		var err error
		ds, err = x.c.AppsV1().DaemonSets(x.ns).Get(x.ctx, name, metav1.GetOptions{})
		return err == nil && ds.Status.ObservedGeneration == ds.Generation && cond(&ds.Status), err
	})
	return ds
}

func testFollowsNodes(x *h) {
	x.daemonSet("agent", func(*appsv1.DaemonSet) {})
	pods := x.waitNodes("agent", "n1", "n2")
	p := pods["n1"][0]
	if p.Spec.NodeName != "" {
		x.t.Errorf("pod %s was bound by the controller", p.Name)
	}
	if ref := metav1.GetControllerOf(&p); ref == nil || ref.Kind != "DaemonSet" || ref.Name != "agent" {
		x.t.Errorf("pod owner = %+v", p.OwnerReferences)
	}
	if p.Labels[appsv1.ControllerRevisionHashLabelKey] == "" {
		x.t.Errorf("pod labels %v lack controller-revision-hash", p.Labels)
	}
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeUnschedulable, corev1.TaintNodeDiskPressure} {
		if !slices.ContainsFunc(p.Spec.Tolerations, func(t corev1.Toleration) bool { return t.Key == key }) {
			x.t.Errorf("pod lacks the %s toleration: %+v", key, p.Spec.Tolerations)
		}
	}
	x.node("n3", nil)
	x.waitNodes("agent", "n1", "n2", "n3")
	if err := x.c.CoreV1().Nodes().Delete(x.ctx, "n2", metav1.DeleteOptions{}); err != nil {
		x.t.Fatal(err)
	}
	x.waitNodes("agent", "n1", "n3")
	x.readyAll("agent")
	x.waitStatus("agent", "2 of 2 ready and available", func(s *appsv1.DaemonSetStatus) bool {
		return s.DesiredNumberScheduled == 2 && s.CurrentNumberScheduled == 2 && s.NumberReady == 2 &&
			s.NumberAvailable == 2 && s.UpdatedNumberScheduled == 2 && s.NumberMisscheduled == 0 && s.NumberUnavailable == 0
	})
}

func testNodeSelector(x *h) {
	x.daemonSet("edge", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"} })
	x.waitNodes("edge", "n1")
	x.label("n3", map[string]string{"role": "edge"})
	x.waitNodes("edge", "n1", "n3")
	x.label("n1", nil)
	x.waitNodes("edge", "n3")
	x.waitStatus("edge", "desired 1", func(s *appsv1.DaemonSetStatus) bool {
		return s.DesiredNumberScheduled == 1 && s.CurrentNumberScheduled == 1
	})
}

func (x *h) label(node string, lbls map[string]string) {
	x.t.Helper()
	n, err := x.c.CoreV1().Nodes().Get(x.ctx, node, metav1.GetOptions{})
	if err != nil {
		x.t.Fatal(err)
	}
	n.Labels = lbls
	if _, err := x.c.CoreV1().Nodes().Update(x.ctx, n, metav1.UpdateOptions{}); err != nil {
		x.t.Fatal(err)
	}
}

func testRollingUpdate(x *h) {
	x.daemonSet("roll", func(ds *appsv1.DaemonSet) {
		one := intstr.FromInt32(1)
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one}}
	})
	x.waitNodes("roll", "n1", "n3")
	x.readyAll("roll")
	x.waitStatus("roll", "available", func(s *appsv1.DaemonSetStatus) bool { return s.NumberAvailable == 2 })
	x.setImage("roll", "busybox:2")
	// maxUnavailable 1: one node at a time loses its old pod; never both.
	testserver.Eventually(x.t, wait, "every pod replaced", func() (bool, error) {
		pods := x.podsByNode("roll")
		missing := 0
		for _, n := range []string{"n1", "n3"} {
			if len(pods[n]) == 0 {
				missing++
			}
		}
		if missing > 1 {
			x.t.Fatalf("both nodes lost their pod at once: %v", pods)
		}
		x.readyAll("roll")
		done := 0
		for _, ps := range pods {
			for _, p := range ps {
				if p.Spec.Containers[0].Image == "busybox:2" && p.Status.Phase == corev1.PodRunning {
					done++
				}
			}
		}
		return done == 2 && len(pods) == 2, nil
	})
	x.waitStatus("roll", "updated", func(s *appsv1.DaemonSetStatus) bool {
		return s.UpdatedNumberScheduled == 2 && s.NumberAvailable == 2
	})
	revs, err := x.c.AppsV1().ControllerRevisions(x.ns).List(x.ctx, metav1.ListOptions{LabelSelector: "app=roll"})
	if err != nil || len(revs.Items) != 2 {
		x.t.Fatalf("revisions = %v, %v; want 2", revs, err)
	}
	x.kubectlRollout("roll")
}

func (x *h) setImage(name, image string) {
	x.t.Helper()
	ds, err := x.c.AppsV1().DaemonSets(x.ns).Get(x.ctx, name, metav1.GetOptions{})
	if err != nil {
		x.t.Fatal(err)
	}
	ds.Spec.Template.Spec.Containers[0].Image = image
	if _, err := x.c.AppsV1().DaemonSets(x.ns).Update(x.ctx, ds, metav1.UpdateOptions{}); err != nil {
		x.t.Fatal(err)
	}
}

// kubectlRollout checks that the real kubectl reads the history and rolls
// back through it.
func (x *h) kubectlRollout(name string) {
	x.t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		x.t.Skip("kubectl not installed: skipping the rollout history/undo check")
	}
	run := func(args ...string) string {
		args = append([]string{"--kubeconfig", x.env.Server.Kubeconfig, "-n", x.ns}, args...)
		out, err := exec.CommandContext(x.ctx, "kubectl", args...).CombinedOutput()
		if err != nil {
			x.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	hist := run("rollout", "history", "daemonset/"+name)
	if !strings.Contains(hist, "REVISION") || !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
		x.t.Errorf("kubectl rollout history:\n%s", hist)
	}
	if rev1 := run("rollout", "history", "daemonset/"+name, "--revision=1"); !strings.Contains(rev1, "busybox:1") {
		x.t.Errorf("kubectl rollout history --revision=1:\n%s", rev1)
	}
	if out := run("rollout", "undo", "daemonset/"+name); !strings.Contains(out, "rolled back") {
		x.t.Errorf("kubectl rollout undo: %s", out)
	}
	testserver.Eventually(x.t, wait, "pods back on busybox:1", func() (bool, error) {
		x.readyAll(name)
		n := 0
		for _, ps := range x.podsByNode(name) {
			for _, p := range ps {
				if p.Spec.Containers[0].Image == "busybox:1" && p.Status.Phase == corev1.PodRunning {
					n++
				}
			}
		}
		return n == 2, nil
	})
	// The rolled-back revision is renumbered, not copied.
	hist = run("rollout", "history", "daemonset/"+name)
	if !strings.Contains(hist, "\n2 ") || !strings.Contains(hist, "\n3 ") || strings.Contains(hist, "\n1 ") {
		x.t.Errorf("history after undo:\n%s", hist)
	}
	if out := run("rollout", "undo", "daemonset/"+name, "--to-revision=3"); !strings.Contains(out, "skipped rollback") {
		x.t.Errorf("undo to the current revision: %s (want kubectl to see it matches)", out)
	}
}
