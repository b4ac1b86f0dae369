package statefulset

import (
	"slices"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var now = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func TestOrdinalOf(t *testing.T) {
	cases := []struct {
		set, pod string
		want     int
		ok       bool
	}{
		{"web", "web-0", 0, true},
		{"web", "web-10", 10, true},
		{"web", "web", 0, false},
		{"web", "web-", 0, false},
		{"web", "web-01", 0, false},
		{"web", "web-x", 0, false},
		{"web", "other-1", 0, false},
		{"web-web", "web-web-1", 1, true},
		{"web", "web-web-1", 0, false},
	}
	for _, c := range cases {
		got, ok := ordinalOf(c.set, c.pod)
		if got != c.want || ok != c.ok {
			t.Errorf("ordinalOf(%q, %q) = %d, %v; want %d, %v", c.set, c.pod, got, ok, c.want, c.ok)
		}
	}
	if n := claimName("www", "web", 2); n != "www-web-2" {
		t.Errorf("claimName = %q", n)
	}
}

func set(n int32, mutate ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "set-uid"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To(n), ServiceName: "nginx",
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}},
					Volumes: []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "www", Labels: map[string]string{"tier": "data"}}}},
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)}},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
		},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func TestNewPodAndClaims(t *testing.T) {
	s := set(3)
	p := newPod(s, &s.Spec.Template, "web-abc", 2)
	if p.Name != "web-2" || p.GenerateName != "" || p.Spec.Hostname != "web-2" || p.Spec.Subdomain != "nginx" {
		t.Errorf("identity: name %q generateName %q hostname %q subdomain %q", p.Name, p.GenerateName, p.Spec.Hostname, p.Spec.Subdomain)
	}
	want := map[string]string{"app": "web", appsv1.StatefulSetPodNameLabel: "web-2", appsv1.PodIndexLabel: "2", appsv1.ControllerRevisionHashLabelKey: "web-abc"}
	for k, v := range want {
		if p.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].PersistentVolumeClaim == nil || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "www-web-2" {
		t.Errorf("volumes = %+v, want the template's www replaced by claim www-web-2", p.Spec.Volumes)
	}
	if s.Spec.Template.Spec.Volumes[0].EmptyDir == nil {
		t.Error("newPod changed the set's template")
	}
	claims := newClaims(s, 2)
	if len(claims) != 1 || claims[0].Name != "www-web-2" || claims[0].Labels["app"] != "web" || claims[0].Labels["tier"] != "data" {
		t.Errorf("claims = %+v", claims)
	}
}

// spod builds the pod with ordinal o in state "ready", "pending",
// "failed" or "deleting", running revision rev.
func spod(o int, state, rev string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-" + strconv.Itoa(o),
		Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: rev}}}
	p.Status.Phase = corev1.PodPending
	switch state {
	case "ready":
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	case "failed":
		p.Status.Phase = corev1.PodFailed
	case "deleting":
		p.Status.Phase = corev1.PodRunning
		p.DeletionTimestamp = &metav1.Time{Time: now}
	}
	return p
}

func viewOf(s *appsv1.StatefulSet, pods ...*corev1.Pod) *view {
	v := &view{set: s, slots: map[int]*corev1.Pod{}, current: "old", update: "old", now: now}
	for _, p := range pods {
		o, _ := ordinalOf(s.Name, p.Name)
		if inRange(s, o) {
			v.slots[o] = p
		} else {
			v.condemned = append(v.condemned, p)
		}
	}
	slices.SortFunc(v.condemned, func(a, b *corev1.Pod) int {
		oa, _ := ordinalOf(s.Name, a.Name)
		ob, _ := ordinalOf(s.Name, b.Name)
		return ob - oa
	})
	return v
}

func TestPlan(t *testing.T) {
	parallel := func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }
	onDelete := func(s *appsv1.StatefulSet) {
		s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	}
	partition2 := func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](2) }
	cases := []struct {
		name       string
		set        *appsv1.StatefulSet
		pods       []*corev1.Pod
		update     string
		wantCreate []int
		wantDelete []string
	}{
		{"ordered: first pod", set(3), nil, "", []int{0}, nil},
		{"ordered: wait for web-0", set(3), []*corev1.Pod{spod(0, "pending", "old")}, "", nil, nil},
		{"ordered: next pod", set(3), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old")}, "", []int{2}, nil},
		{"ordered: a gap is filled first", set(3), []*corev1.Pod{spod(0, "ready", "old"), spod(2, "ready", "old")}, "", []int{1}, nil},
		{"parallel: all at once", set(3, parallel), nil, "", []int{0, 1, 2}, nil},
		{"ordered: scale down from the top", set(1), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old"), spod(2, "ready", "old")}, "",
			nil, []string{"web-2"}},
		{"ordered: wait for the terminating pod", set(1), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old"), spod(2, "deleting", "old")}, "",
			nil, nil},
		{"ordered: no scale down while a replica is unhealthy", set(1), []*corev1.Pod{spod(0, "pending", "old"), spod(1, "ready", "old")}, "",
			nil, nil},
		{"parallel: scale down at once", set(1, parallel), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old"), spod(2, "pending", "old")}, "",
			nil, []string{"web-1", "web-2"}},
		{"failed pods are recreated", set(2), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "failed", "old")}, "", nil, []string{"web-1"}},
		{"rolling update starts at the top", set(3), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old"), spod(2, "ready", "old")}, "new",
			nil, []string{"web-2"}},
		{"rolling update waits for the new pod", set(3), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old"), spod(2, "pending", "new")}, "new",
			nil, nil},
		{"rolling update goes down", set(3, parallel), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old"), spod(2, "ready", "new")}, "new",
			nil, []string{"web-1"}},
		{"partition stops it", set(3, partition2), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old"), spod(2, "ready", "new")}, "new",
			nil, nil},
		{"OnDelete does not update", set(3, onDelete), []*corev1.Pod{spod(0, "ready", "old"), spod(1, "ready", "old"), spod(2, "ready", "old")}, "new",
			nil, nil},
		{"ordinals start elsewhere", set(2, func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5} }),
			[]*corev1.Pod{spod(5, "ready", "old"), spod(6, "ready", "old"), spod(0, "ready", "old")}, "", nil, []string{"web-0"}},
		{"ordinals start elsewhere: first pod", set(2, func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5} }),
			nil, "", []int{5}, nil},
	}
	for _, c := range cases {
		v := viewOf(c.set, c.pods...)
		if c.update != "" {
			v.update = c.update
		}
		s := plan(v)
		if !slices.Equal(s.create, c.wantCreate) {
			t.Errorf("%s: create %v, want %v", c.name, s.create, c.wantCreate)
		}
		var got []string
		for _, p := range s.delete {
			got = append(got, p.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.wantDelete) {
			t.Errorf("%s: delete %v, want %v", c.name, got, c.wantDelete)
		}
	}
}

func TestRevisionFor(t *testing.T) {
	s := set(4, func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](2) })
	for o, want := range []bool{true, true, false, false} {
		if got := revisionFor(s, o); got != want {
			t.Errorf("ordinal %d: current revision = %v, want %v", o, got, want)
		}
	}
	s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	if revisionFor(s, 0) {
		t.Error("OnDelete recreates with the current revision")
	}
}

func TestStatus(t *testing.T) {
	s := set(3, func(s *appsv1.StatefulSet) { s.Spec.MinReadySeconds = 10 })
	ready := spod(0, "ready", "old")
	ready.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-time.Minute))
	justReady := spod(1, "ready", "new")
	justReady.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now)
	v := viewOf(s, ready, justReady, spod(2, "pending", "new"), spod(3, "deleting", "old"))
	v.update = "new"
	st := status(v)
	if st.Replicas != 4 || st.ReadyReplicas != 2 || st.AvailableReplicas != 1 || st.CurrentReplicas != 1 || st.UpdatedReplicas != 2 ||
		st.CurrentRevision != "old" || st.UpdateRevision != "new" {
		t.Errorf("status = %+v", st)
	}
	// Once every replica runs the update revision and is ready, it is current.
	done := []*corev1.Pod{spod(0, "ready", "new"), spod(1, "ready", "new"), spod(2, "ready", "new")}
	v = viewOf(set(3), done...)
	v.update = "new"
	if st := status(v); st.CurrentRevision != "new" || st.CurrentReplicas != 3 {
		t.Errorf("finished update: status = %+v", st)
	}
}
