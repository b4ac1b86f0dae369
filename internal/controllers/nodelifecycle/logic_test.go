package nodelifecycle

import (
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestComputeZoneState(t *testing.T) {
	tests := []struct {
		ready, notReady int
		want            zoneState
	}{
		{3, 0, stateNormal},
		{0, 1, stateFullDisruption},
		{0, 5, stateFullDisruption},
		{1, 2, stateNormal}, // two unhealthy nodes never make a disruption
		{2, 3, statePartialDisruption},
		{3, 3, stateNormal}, // 3/6 = 0.5, below the 0.55 threshold
		{2, 4, statePartialDisruption},
		{10, 3, stateNormal},
	}
	for _, tc := range tests {
		if got := computeZoneState(tc.ready, tc.notReady, 0.55); got != tc.want {
			t.Errorf("ready %d, not ready %d: %s, want %s", tc.ready, tc.notReady, got, tc.want)
		}
	}
}

func TestZoneRate(t *testing.T) {
	r := rates{normal: 0.1, secondary: 0.01, largeCluster: 50}
	tests := []struct {
		state zoneState
		size  int
		want  float64
	}{
		{stateNormal, 10, 0.1},
		{stateFullDisruption, 10, 0.1},
		{statePartialDisruption, 100, 0.01},
		{statePartialDisruption, 50, 0},
		{statePartialDisruption, 3, 0},
	}
	for _, tc := range tests {
		if got := r.zoneRate(tc.state, tc.size); got != tc.want {
			t.Errorf("%s with %d nodes: %v, want %v", tc.state, tc.size, got, tc.want)
		}
	}
	if !allDisrupted(map[string]zoneState{"a": stateFullDisruption, "b": stateFullDisruption}) ||
		allDisrupted(map[string]zoneState{"a": stateFullDisruption, "b": stateNormal}) || allDisrupted(nil) {
		t.Error("allDisrupted wrong")
	}
}

func TestZoneOf(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{corev1.LabelTopologyRegion: "r", corev1.LabelTopologyZone: "z"}}}
	if zoneOf(n) != "r:\x00:z" || zoneOf(&corev1.Node{}) != "" {
		t.Errorf("zoneOf wrong: %q", zoneOf(n))
	}
}

func TestTaintersRateLimit(t *testing.T) {
	tt := newTainters()
	tt.setRate("a", 1000) // fast enough that the test never waits long
	tt.setRate("slow", 0.001)
	tt.setRate("stopped", 0)
	for _, n := range []string{"a1", "a2", "a3"} {
		tt.add("a", n)
	}
	tt.add("a", "a1") // queued once only
	tt.add("slow", "s1")
	tt.add("slow", "s2")
	tt.add("stopped", "x")
	// Burst 1: each zone releases one node at once, then at its rate.
	first := tt.pop()
	slices.Sort(first)
	if !slices.Equal(first, []string{"a1", "s1"}) {
		t.Fatalf("first pop %v, want one node of each running zone", first)
	}
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		got = append(got, tt.pop()...)
		time.Sleep(time.Millisecond) // polling the limiter, not waiting for an outcome
	}
	if !slices.Equal(got, []string{"a2", "a3"}) {
		t.Errorf("later pops %v, want a2 then a3 (the slow zone must wait ~1000 s)", got)
	}
	if tt.queued() != 2 {
		t.Errorf("queued %d, want s2 and x", tt.queued())
	}
	tt.remove("s2")
	tt.setRate("stopped", 1000) // a new limiter starts with its burst of one
	if got := tt.pop(); !slices.Equal(got, []string{"x"}) {
		t.Errorf("after restarting a stopped zone: %v", got)
	}
}

func node(conds ...corev1.NodeCondition) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: corev1.NodeStatus{Conditions: conds}}
}

func cond(t corev1.NodeConditionType, s corev1.ConditionStatus) corev1.NodeCondition {
	return corev1.NodeCondition{Type: t, Status: s}
}

func TestWantTaints(t *testing.T) {
	tests := []struct {
		name        string
		n           *corev1.Node
		noSchedule  []string
		noExecute   string
		unscheduled bool
	}{
		{"ready", node(cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeMemoryPressure, corev1.ConditionFalse)), nil, "", false},
		{"not ready", node(cond(corev1.NodeReady, corev1.ConditionFalse)), []string{corev1.TaintNodeNotReady}, corev1.TaintNodeNotReady, false},
		{"unknown", node(cond(corev1.NodeReady, corev1.ConditionUnknown)), []string{corev1.TaintNodeUnreachable}, corev1.TaintNodeUnreachable, false},
		{"pressure", node(cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeDiskPressure, corev1.ConditionTrue), cond(corev1.NodePIDPressure, corev1.ConditionTrue)),
			[]string{corev1.TaintNodeDiskPressure, corev1.TaintNodePIDPressure}, "", false},
		{"cordoned", node(cond(corev1.NodeReady, corev1.ConditionTrue)), []string{corev1.TaintNodeUnschedulable}, "", true},
		{"never reported", node(), nil, "", false},
	}
	for _, tc := range tests {
		tc.n.Spec.Unschedulable = tc.unscheduled
		if got := wantNoSchedule(tc.n); !slices.Equal(got, tc.noSchedule) {
			t.Errorf("%s: NoSchedule %v, want %v", tc.name, got, tc.noSchedule)
		}
		if got := wantNoExecute(tc.n); got != tc.noExecute {
			t.Errorf("%s: NoExecute %q, want %q", tc.name, got, tc.noExecute)
		}
	}
}

func TestWithNoSchedule(t *testing.T) {
	user := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	ours := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	exec := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	out, changed := withNoSchedule([]corev1.Taint{user, ours, exec}, []string{corev1.TaintNodeUnreachable})
	if !changed || len(out) != 3 || out[0] != user || out[1] != exec || out[2].Key != corev1.TaintNodeUnreachable {
		t.Errorf("replace: %v %v", out, changed)
	}
	if _, changed := withNoSchedule([]corev1.Taint{user, ours}, []string{corev1.TaintNodeNotReady}); changed {
		t.Error("no change reported as a change")
	}
}

func TestWithNoExecute(t *testing.T) {
	now := metav1.Now()
	unreach := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &now}
	notReady := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute, TimeAdded: &now}
	user := corev1.Taint{Key: "x", Effect: corev1.TaintEffectNoExecute}
	out := withNoExecute([]corev1.Taint{user, unreach}, corev1.TaintNodeNotReady, &notReady)
	if len(out) != 2 || out[0].Key != "x" || out[1].Key != corev1.TaintNodeNotReady {
		t.Errorf("swap: %v", out)
	}
	if out := withNoExecute([]corev1.Taint{user, unreach}, "", nil); len(out) != 1 || out[0].Key != "x" {
		t.Errorf("remove: %v", out)
	}
}

func secs(n int64) *int64 { return &n }

func TestEvictionDelay(t *testing.T) {
	unreach := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	user := corev1.Taint{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoExecute}
	tol := func(key string, s *int64) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: s}
	}
	tests := []struct {
		name   string
		tols   []corev1.Toleration
		taints []corev1.Taint
		delay  time.Duration
		evict  bool
	}{
		{"no taints", nil, nil, 0, false},
		{"not tolerated", nil, []corev1.Taint{unreach}, 0, true},
		{"default 300 s toleration", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, secs(300))}, []corev1.Taint{unreach}, 300 * time.Second, true},
		{"tolerated forever", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil)}, []corev1.Taint{unreach}, 0, false},
		{"shortest wins", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, secs(300)), tol("", secs(30))}, []corev1.Taint{unreach}, 30 * time.Second, true},
		{"one of two taints not tolerated", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil)}, []corev1.Taint{unreach, user}, 0, true},
		{"zero seconds", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, secs(0))}, []corev1.Taint{unreach}, 0, true},
		{"NoSchedule taints are not ours", nil, []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoSchedule}}, 0, false},
	}
	for _, tc := range tests {
		d, ok := evictionDelay(tc.tols, tc.taints)
		if d != tc.delay || ok != tc.evict {
			t.Errorf("%s: (%v, %v), want (%v, %v)", tc.name, d, ok, tc.delay, tc.evict)
		}
	}
}

func TestTaintedSince(t *testing.T) {
	t0 := time.Unix(1000, 0)
	early, late := metav1.NewTime(t0), metav1.NewTime(t0.Add(time.Minute))
	taints := []corev1.Taint{{Key: "a", TimeAdded: &late}, {Key: "b", TimeAdded: &early}}
	pod := &corev1.Pod{}
	if got := taintedSince(pod, taints, t0.Add(time.Hour)); !got.Equal(t0) {
		t.Errorf("earliest taint: %v", got)
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(2 * time.Minute))}}
	if got := taintedSince(pod, taints, t0); !got.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("pod scheduled after the taint: %v", got)
	}
	if got := taintedSince(&corev1.Pod{}, []corev1.Taint{{Key: "x"}}, t0); !got.Equal(t0) {
		t.Errorf("taint without a time: %v", got)
	}
}

func TestHealth(t *testing.T) {
	t0 := time.Unix(1e6, 0)
	grace, startup := 40*time.Second, 60*time.Second
	renew := func(at time.Time) *coordinationv1.Lease {
		mt := metav1.NewMicroTime(at)
		return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{RenewTime: &mt}}
	}
	n := node(corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.NewTime(t0.Add(-time.Hour))})
	// First sight gives a full grace period whatever the timestamps say.
	h := observe(nil, n, renew(t0.Add(-time.Hour)), t0)
	if h.stale(n, t0.Add(grace-time.Second), grace, startup) {
		t.Error("stale within the grace period after first sight")
	}
	if !h.stale(n, t0.Add(grace+time.Second), grace, startup) {
		t.Error("not stale after the grace period")
	}
	// A Lease renewal alone keeps the node alive.
	h = observe(h, n, renew(t0.Add(30*time.Second)), t0.Add(30*time.Second))
	if h.stale(n, t0.Add(grace+time.Second), grace, startup) {
		t.Error("stale although its Lease was renewed")
	}
	// A node that never reported counts from creation, with the startup grace.
	fresh := &corev1.Node{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(t0)}}
	h = observe(nil, fresh, nil, t0.Add(30*time.Second))
	if h.stale(fresh, t0.Add(startup-time.Second), grace, startup) || !h.stale(fresh, t0.Add(startup+time.Second), grace, startup) {
		t.Error("startup grace not applied from creation")
	}
}

func TestMarkUnknown(t *testing.T) {
	now := metav1.NewTime(time.Unix(2e6, 0))
	hb := metav1.NewTime(time.Unix(1e6, 0))
	n := node(corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: hb},
		corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse})
	st, changed := markUnknown(n, now)
	if !changed {
		t.Fatal("no change")
	}
	ready := condition(&corev1.Node{Status: st}, corev1.NodeReady)
	if ready.Status != corev1.ConditionUnknown || ready.Reason != "NodeStatusUnknown" || ready.Message != "Kubelet stopped posting node status." ||
		!ready.LastHeartbeatTime.Equal(&hb) || !ready.LastTransitionTime.Equal(&now) {
		t.Errorf("Ready %+v", ready)
	}
	disk := condition(&corev1.Node{Status: st}, corev1.NodeDiskPressure)
	if disk == nil || disk.Status != corev1.ConditionUnknown || disk.Reason != "NodeStatusNeverUpdated" || disk.Message != "Kubelet never posted node status." {
		t.Errorf("missing condition added as %+v", disk)
	}
	if _, again := markUnknown(&corev1.Node{Status: st}, now); again {
		t.Error("second pass changed something")
	}
}
