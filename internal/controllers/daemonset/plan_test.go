package daemonset

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// dpod builds a pod from a spec like "old", "new", "new-ready",
// "old-ready", "old-failed", "new-deleting"; age orders them.
func dpod(name, spec string, age int) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(base.Add(time.Duration(age) * time.Second)),
		Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: strings.Split(spec, "-")[0]}}}
	p.Status.Phase = corev1.PodRunning
	switch {
	case strings.HasSuffix(spec, "-ready"):
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	case strings.HasSuffix(spec, "-failed"):
		p.Status.Phase = corev1.PodFailed
	case strings.HasSuffix(spec, "-deleting"):
		p.DeletionTimestamp = &metav1.Time{Time: base}
	}
	return p
}

func testRules(surge bool) rules {
	return rules{
		isNew:     func(p *corev1.Pod) bool { return p.Labels[appsv1.ControllerRevisionHashLabelKey] == "new" },
		available: func(p *corev1.Pod) bool { return len(p.Status.Conditions) > 0 },
		surge:     surge,
		inBackoff: func(node string) bool { return node == "backoff" },
	}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

func TestManage(t *testing.T) {
	nodes := []nodeState{
		{name: "empty", run: true, keep: true},
		{name: "tainted", run: false, keep: true},
		{name: "one", run: true, keep: true, pods: []*corev1.Pod{dpod("one-a", "new-ready", 1)}},
		{name: "dup", run: true, keep: true, pods: []*corev1.Pod{dpod("dup-young", "new", 5), dpod("dup-old", "new", 1)}},
		{name: "failed", run: true, keep: true, pods: []*corev1.Pod{dpod("failed-a", "new-failed", 1)}},
		{name: "backoff", run: true, keep: true, pods: []*corev1.Pod{dpod("backoff-a", "new-failed", 1)}},
		{name: "terminating", run: true, keep: true, pods: []*corev1.Pod{dpod("term-a", "new-deleting", 1)}},
		{name: "gone", run: false, keep: false, pods: []*corev1.Pod{dpod("gone-a", "new-ready", 1), dpod("gone-b", "new-deleting", 2)}},
		{name: "surged", run: true, keep: true, pods: []*corev1.Pod{dpod("surged-old", "old-ready", 1), dpod("surged-new", "new-ready", 2)}},
	}
	p := manage(nodes, testRules(false))
	if !slices.Equal(p.create, []string{"empty"}) {
		t.Errorf("create = %v, want [empty]", p.create)
	}
	want := []string{"dup-young", "failed-a", "gone-a", "surged-new"}
	if got := names(p.delete); !slices.Equal(got, want) {
		t.Errorf("delete = %v, want %v", got, want)
	}
	if got := names(p.failed); !slices.Equal(got, []string{"failed-a"}) {
		t.Errorf("failed = %v", got)
	}
	// With surge, an old and a new pod may share a node until the new one
	// is available; then the old one goes.
	p = manage(nodes[8:], testRules(true))
	if got := names(p.delete); !slices.Equal(got, []string{"surged-old"}) {
		t.Errorf("surge delete = %v, want [surged-old]", got)
	}
	waiting := []nodeState{{name: "s", run: true, keep: true, pods: []*corev1.Pod{dpod("o", "old-ready", 1), dpod("n", "new", 2)}}}
	if p = manage(waiting, testRules(true)); len(p.delete) != 0 {
		t.Errorf("surge deleted %v before the new pod was available", names(p.delete))
	}
}

func TestBudget(t *testing.T) {
	pct := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	num := func(n int) *intstr.IntOrString { v := intstr.FromInt32(int32(n)); return &v }
	cases := []struct {
		ru                 *appsv1.RollingUpdateDaemonSet
		desired            int
		unavailable, surge int
	}{
		{nil, 10, 1, 0},
		{&appsv1.RollingUpdateDaemonSet{MaxUnavailable: num(3), MaxSurge: num(0)}, 10, 3, 0},
		{&appsv1.RollingUpdateDaemonSet{MaxUnavailable: pct("25%"), MaxSurge: num(0)}, 10, 3, 0},
		{&appsv1.RollingUpdateDaemonSet{MaxUnavailable: num(0), MaxSurge: pct("10%")}, 15, 0, 2},
		{&appsv1.RollingUpdateDaemonSet{MaxUnavailable: num(0), MaxSurge: num(0)}, 5, 1, 0},
	}
	for i, c := range cases {
		u, s := budget(c.ru, c.desired)
		if u != c.unavailable || s != c.surge {
			t.Errorf("case %d: budget = %d, %d; want %d, %d", i, u, s, c.unavailable, c.surge)
		}
	}
}

func TestRollingUpdate(t *testing.T) {
	on := func(name, spec string) nodeState {
		return nodeState{name: name, run: true, keep: true, pods: []*corev1.Pod{dpod(name+"-pod", spec, 1)}}
	}
	cases := []struct {
		name           string
		nodes          []nodeState
		surge          bool
		maxUnavailable int
		maxSurge       int
		wantDelete     []string
		wantCreate     []string
	}{
		{"one at a time", []nodeState{on("a", "old-ready"), on("b", "old-ready"), on("c", "old-ready")}, false, 1, 0,
			[]string{"a-pod"}, nil},
		{"two at a time", []nodeState{on("a", "old-ready"), on("b", "old-ready"), on("c", "old-ready")}, false, 2, 0,
			[]string{"a-pod", "b-pod"}, nil},
		{"an unavailable new pod uses the budget", []nodeState{on("a", "new"), on("b", "old-ready")}, false, 1, 0, nil, nil},
		{"an available new pod does not", []nodeState{on("a", "new-ready"), on("b", "old-ready")}, false, 1, 0, []string{"b-pod"}, nil},
		{"unavailable old pods go regardless", []nodeState{on("a", "new"), on("b", "old"), on("c", "old-ready")}, false, 1, 0,
			[]string{"b-pod"}, nil},
		{"a node being filled is not counted", []nodeState{{name: "a", run: true, keep: true}, on("b", "old-ready")}, false, 1, 0,
			[]string{"b-pod"}, nil},
		{"surge one", []nodeState{on("a", "old-ready"), on("b", "old-ready")}, true, 0, 1, nil, []string{"a"}},
		{"surge waits for the surged node", []nodeState{
			{name: "a", run: true, keep: true, pods: []*corev1.Pod{dpod("a-old", "old-ready", 1), dpod("a-new", "new", 2)}},
			on("b", "old-ready")}, true, 0, 1, nil, nil},
		{"surge replaces unavailable old pods at once", []nodeState{on("a", "old"), on("b", "old"), on("c", "old-ready")}, true, 0, 1,
			nil, []string{"a", "b", "c"}},
		{"nodes that must not keep pods are skipped", []nodeState{{name: "x", run: false, keep: false,
			pods: []*corev1.Pod{dpod("x-pod", "old-ready", 1)}}}, false, 1, 0, nil, nil},
	}
	for _, c := range cases {
		var p plan
		rollingUpdate(&p, c.nodes, testRules(c.surge), c.maxUnavailable, c.maxSurge)
		if got := names(p.delete); !slices.Equal(got, c.wantDelete) {
			t.Errorf("%s: delete = %v, want %v", c.name, got, c.wantDelete)
		}
		slices.Sort(p.create)
		if !slices.Equal(p.create, c.wantCreate) {
			t.Errorf("%s: create = %v, want %v", c.name, p.create, c.wantCreate)
		}
	}
}

func TestStatus(t *testing.T) {
	bound := dpod("bound-young", "old-ready", 9)
	bound.Spec.NodeName = "c"
	nodes := []nodeState{
		{name: "a", run: true, keep: true, pods: []*corev1.Pod{dpod("a1", "new-ready", 1)}},
		{name: "b", run: true, keep: true, pods: []*corev1.Pod{dpod("b1", "new", 1)}},
		// The scheduled pod counts for the node, even though it is younger.
		{name: "c", run: true, keep: true, pods: []*corev1.Pod{dpod("c-unbound", "new-ready", 1), bound}},
		{name: "d", run: true, keep: true},
		{name: "e", run: false, keep: true, pods: []*corev1.Pod{dpod("e1", "new-ready", 1)}},
		{name: "f", run: true, keep: true, pods: []*corev1.Pod{dpod("f1", "new-failed-gone", 1)}},
	}
	nodes[5].pods[0].Status.Phase = corev1.PodFailed
	nodes[5].pods[0].DeletionTimestamp = &metav1.Time{Time: base}
	st := status(nodes, testRules(false))
	want := appsv1.DaemonSetStatus{DesiredNumberScheduled: 5, CurrentNumberScheduled: 3, NumberReady: 2, NumberAvailable: 2,
		UpdatedNumberScheduled: 2, NumberMisscheduled: 1, NumberUnavailable: 3}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("status = %+v\nwant     %+v", st, want)
	}
}
