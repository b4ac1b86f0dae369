package deployment

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func deploy(n int32, surge, unavail string) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 1}}
	d.Spec.Replicas = &n
	d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	s, u := intstr.Parse(surge), intstr.Parse(unavail)
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}
	d.Spec.ProgressDeadlineSeconds = ptr(int32(600))
	return d
}

func ptr[T any](v T) *T { return &v }

// rs is a ReplicaSet of spec size n with avail available pods, created
// age minutes after t0.
func rs(name string, n, avail int32, age int) *appsv1.ReplicaSet {
	r := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(age) * time.Minute)),
		Annotations: map[string]string{}}}
	r.Spec.Replicas = &n
	r.Status.Replicas, r.Status.ReadyReplicas, r.Status.AvailableReplicas = n, avail, avail
	return r
}

// statusLags makes r report available pods beyond its size, as it does
// between a scale-down and the ReplicaSet controller's next sync.
func statusLags(r *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	r.Status.Replicas, r.Status.ReadyReplicas = r.Status.AvailableReplicas, r.Status.AvailableReplicas
	return r
}

func annotated(r *appsv1.ReplicaSet, desired, max int32) *appsv1.ReplicaSet {
	r.Annotations[DesiredReplicasAnnotation] = strconv.Itoa(int(desired))
	r.Annotations[MaxReplicasAnnotation] = strconv.Itoa(int(max))
	return r
}

func TestFenceposts(t *testing.T) {
	tests := []struct {
		replicas            int32
		surge, unavail      string
		wantSurge, wantUnav int32
	}{
		{10, "25%", "25%", 3, 2}, // surge rounds up, unavailable down
		{4, "25%", "25%", 1, 1},  // exact
		{1, "25%", "25%", 1, 0},  // 0.25 -> surge 1, unavailable 0
		{3, "30%", "0", 1, 0},    // 0.9 -> 1
		{10, "0", "0%", 0, 1},    // both zero: one may be unavailable
		{3, "0", "5", 0, 3},      // capped at replicas
		{0, "25%", "25%", 0, 0},  // nothing to roll
		{3000, "25%", "25%", 750, 750},
		{5, "1", "40%", 1, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s/%s", tt.replicas, tt.surge, tt.unavail), func(t *testing.T) {
			d := deploy(tt.replicas, tt.surge, tt.unavail)
			if s, u := maxSurge(d), maxUnavailable(d); s != tt.wantSurge || u != tt.wantUnav {
				t.Errorf("surge %d unavailable %d, want %d and %d", s, u, tt.wantSurge, tt.wantUnav)
			}
		})
	}
	d := deploy(3, "1", "1")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if maxSurge(d) != 0 || maxUnavailable(d) != 0 {
		t.Error("Recreate has no surge or unavailability budget")
	}
}

func TestNewRSTarget(t *testing.T) {
	tests := []struct {
		name string
		d    *appsv1.Deployment
		old  []*appsv1.ReplicaSet
		cur  int32
		want int32
	}{
		{"fresh deployment", deploy(10, "25%", "25%"), nil, 0, 10},
		{"surge room of 3", deploy(10, "25%", "25%"), []*appsv1.ReplicaSet{rs("a", 10, 10, 0)}, 0, 3},
		{"no room left", deploy(10, "25%", "25%"), []*appsv1.ReplicaSet{rs("a", 10, 10, 0)}, 3, 3},
		{"room after scale down", deploy(10, "25%", "25%"), []*appsv1.ReplicaSet{rs("a", 8, 8, 0)}, 3, 5},
		{"never above replicas", deploy(10, "25%", "25%"), []*appsv1.ReplicaSet{rs("a", 1, 1, 0)}, 8, 10},
		{"zero surge", deploy(4, "0", "1"), []*appsv1.ReplicaSet{rs("a", 3, 3, 0)}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := rs("new", tt.cur, 0, 5)
			if got := newRSTarget(tt.d, append(tt.old, n), n); got != tt.want {
				t.Errorf("newRSTarget = %d, want %d", got, tt.want)
			}
		})
	}
	rc := deploy(5, "1", "1")
	rc.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if got := newRSTarget(rc, nil, rs("new", 0, 0, 0)); got != 5 {
		t.Errorf("Recreate target %d, want 5", got)
	}
}

func TestOldScaleDown(t *testing.T) {
	tests := []struct {
		name  string
		d     *appsv1.Deployment
		old   []*appsv1.ReplicaSet
		newRS *appsv1.ReplicaSet
		want  map[string]int32
	}{
		{"new pods not ready: keep minAvailable", deploy(10, "25%", "25%"),
			[]*appsv1.ReplicaSet{rs("a", 10, 10, 0)}, rs("new", 3, 0, 5), map[string]int32{"a": 8}},
		{"new pods available: scale down more", deploy(10, "25%", "25%"),
			[]*appsv1.ReplicaSet{rs("a", 8, 8, 0)}, rs("new", 5, 5, 5), map[string]int32{"a": 3}},
		{"at minimum: nothing", deploy(10, "25%", "25%"),
			[]*appsv1.ReplicaSet{rs("a", 8, 8, 0)}, rs("new", 5, 0, 5), nil},
		{"unhealthy old pods go first", deploy(10, "0", "1"),
			[]*appsv1.ReplicaSet{rs("a", 10, 7, 0)}, rs("new", 0, 0, 5), map[string]int32{"a": 9}}, // budget: 10 - 9 available needed
		{"oldest first", deploy(10, "0", "2"),
			[]*appsv1.ReplicaSet{rs("b", 5, 5, 1), rs("a", 5, 5, 0)}, rs("new", 0, 0, 5), map[string]int32{"a": 3}},
		{"spans two old sets", deploy(10, "50%", "50%"),
			[]*appsv1.ReplicaSet{rs("b", 4, 4, 1), rs("a", 3, 3, 0)}, rs("new", 3, 3, 5), map[string]int32{"a": 0, "b": 2}},
		{"stale status of a shrunk set counts only its size", deploy(10, "0", "2"),
			[]*appsv1.ReplicaSet{statusLags(rs("a", 8, 10, 0))}, rs("new", 2, 2, 5), map[string]int32{"a": 6}},
		{"no old pods", deploy(3, "1", "1"), []*appsv1.ReplicaSet{rs("a", 0, 0, 0)}, rs("new", 3, 3, 5), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := append(append([]*appsv1.ReplicaSet(nil), tt.old...), tt.newRS)
			got := oldScaleDown(tt.d, all, active(tt.old), tt.newRS)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("oldScaleDown = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRollingStepsKeepAvailability(t *testing.T) {
	// Simulate a rollout where new pods become available at once, and check
	// the invariants at every step: never above replicas+surge pods, never
	// below replicas-maxUnavailable available ones.
	for _, c := range []struct {
		n              int32
		surge, unavail string
	}{{10, "25%", "25%"}, {3, "1", "0"}, {7, "0", "30%"}, {100, "10%", "5%"}} {
		d := deploy(c.n, c.surge, c.unavail)
		old, newRS := rs("old", c.n, c.n, 0), rs("new", 0, 0, 1)
		for step := 0; step < 1000 && !(rsReplicas(newRS) == c.n && rsReplicas(old) == 0); step++ {
			all := []*appsv1.ReplicaSet{old, newRS}
			if target := newRSTarget(d, all, newRS); target != rsReplicas(newRS) {
				newRS.Spec.Replicas = ptr(target)
			} else if sizes := oldScaleDown(d, all, active([]*appsv1.ReplicaSet{old}), newRS); len(sizes) > 0 {
				old.Spec.Replicas = ptr(sizes["old"])
				old.Status.AvailableReplicas = sizes["old"]
			} else {
				newRS.Status.AvailableReplicas = rsReplicas(newRS) // pods come up
			}
			if total := rsReplicas(old) + rsReplicas(newRS); total > c.n+maxSurge(d) {
				t.Fatalf("%v step %d: %d pods, above %d", c, step, total, c.n+maxSurge(d))
			}
			if avail := old.Status.AvailableReplicas + newRS.Status.AvailableReplicas; avail < c.n-maxUnavailable(d) {
				t.Fatalf("%v step %d: %d available, below %d", c, step, avail, c.n-maxUnavailable(d))
			}
		}
		if rsReplicas(newRS) != c.n || rsReplicas(old) != 0 {
			t.Errorf("%v: rollout did not finish: new %d old %d", c, rsReplicas(newRS), rsReplicas(old))
		}
	}
}

func TestProportionalSizes(t *testing.T) {
	tests := []struct {
		name string
		d    *appsv1.Deployment
		rss  []*appsv1.ReplicaSet
		want map[string]int32
	}{
		// Scaled 10 -> 20 mid-rollout (surge 3 -> 5): 7+6 pods sized for 13.
		{"scale up keeps the ratio", deploy(20, "25%", "25%"),
			[]*appsv1.ReplicaSet{annotated(rs("old", 7, 7, 0), 10, 13), annotated(rs("new", 6, 0, 1), 10, 13)},
			map[string]int32{"old": 13, "new": 12}},
		// Scaled 20 -> 10: 13+12 sized for 25 become 7+6 (13 in all).
		{"scale down keeps the ratio", deploy(10, "25%", "25%"),
			[]*appsv1.ReplicaSet{annotated(rs("old", 13, 13, 0), 20, 25), annotated(rs("new", 12, 0, 1), 20, 25)},
			map[string]int32{"old": 7, "new": 6}},
		{"leftover goes to the largest, newer on ties", deploy(5, "1", "0"),
			[]*appsv1.ReplicaSet{annotated(rs("old", 2, 2, 0), 3, 4), annotated(rs("new", 2, 0, 1), 3, 4)},
			map[string]int32{"old": 3, "new": 3}},
		{"scale to zero", deploy(0, "25%", "25%"),
			[]*appsv1.ReplicaSet{annotated(rs("old", 2, 2, 0), 3, 4), annotated(rs("new", 2, 0, 1), 3, 4)},
			map[string]int32{"old": 0, "new": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := proportionalSizes(tt.d, tt.rss)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("sizes %v, want %v", got, tt.want)
			}
			var sum int32
			for _, n := range got {
				sum += n
			}
			if want := replicas(tt.d) + maxSurge(tt.d); replicas(tt.d) > 0 && sum != want {
				t.Errorf("sizes add up to %d, want %d", sum, want)
			}
		})
	}
}

func TestActiveOrLatestAndScalingEvent(t *testing.T) {
	a, b := rs("a", 0, 0, 0), rs("b", 0, 0, 1)
	if got := activeOrLatest(nil, []*appsv1.ReplicaSet{b, a}); got != b {
		t.Errorf("no active set: got %v, want the newest", got.Name)
	}
	n := rs("n", 0, 0, 2)
	if got := activeOrLatest(n, []*appsv1.ReplicaSet{a, b}); got != n {
		t.Error("no active set: the new one should win")
	}
	one := rs("one", 3, 3, 0)
	if got := activeOrLatest(n, []*appsv1.ReplicaSet{one, a}); got != one {
		t.Error("the only active set should be returned")
	}
	if got := activeOrLatest(rs("n", 1, 0, 2), []*appsv1.ReplicaSet{one}); got != nil {
		t.Error("two active sets: want nil")
	}
	d := deploy(5, "1", "1")
	if !scalingEvent(d, annotated(rs("n", 3, 3, 1), 3, 4), nil) {
		t.Error("desired-replicas 3 for a Deployment of 5 is a scaling event")
	}
	if scalingEvent(d, annotated(rs("n", 5, 5, 1), 5, 6), []*appsv1.ReplicaSet{annotated(rs("o", 0, 0, 0), 3, 4)}) {
		t.Error("an inactive old set's annotation is not a scaling event")
	}
}

func TestToClean(t *testing.T) {
	var old []*appsv1.ReplicaSet
	for i := range 5 {
		r := rs(fmt.Sprintf("r%d", i), 0, 0, i)
		r.Annotations[RevisionAnnotation] = strconv.Itoa(5 - i) // newer objects, older revisions
		old = append(old, r)
	}
	old[4].Spec.Replicas = ptr(int32(1)) // revision 1 still has pods: spared
	d := deploy(1, "1", "0")
	d.Spec.RevisionHistoryLimit = ptr(int32(2))
	var got []string
	for _, r := range toClean(d, old) {
		got = append(got, r.Name)
	}
	if fmt.Sprint(got) != "[r3 r2]" {
		t.Errorf("cleaned %v, want [r3 r2] (revisions 2 and 3; revision 1 has pods)", got)
	}
	d.Spec.RevisionHistoryLimit = nil
	if len(toClean(d, old)) != 0 {
		t.Error("no limit: nothing to clean")
	}
}

func TestTemplateHash(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}}}
	h := templateHash(tmpl, nil)
	if h != templateHash(tmpl.DeepCopy(), nil) {
		t.Error("hash is not deterministic")
	}
	other := tmpl.DeepCopy()
	other.Spec.Containers[0].Image = "nginx:2"
	if h == templateHash(other, nil) {
		t.Error("a new image must change the hash")
	}
	if h == templateHash(tmpl, ptr(int32(1))) {
		t.Error("the collision count must change the hash")
	}
	for _, r := range h {
		if !(r >= 'b' && r <= 'z' || r >= '2' && r <= '9') || r == 'e' || r == 'i' || r == 'o' || r == 'u' || r == 'a' {
			t.Errorf("hash %q has character %q outside the safe alphabet", h, r)
		}
	}
	withHash := tmpl.DeepCopy()
	withHash.Labels[HashLabel] = h
	if !equalIgnoreHash(tmpl, withHash) || equalIgnoreHash(tmpl, other) {
		t.Error("equalIgnoreHash")
	}
}

func TestRevisionAnnotations(t *testing.T) {
	d := deploy(3, "1", "0")
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "kubectl set image", lastAppliedAnnotation: "{}", RevisionAnnotation: "9"}
	r := rs("r", 0, 0, 0)
	if !setNewRSAnnotations(d, r, 1, true) {
		t.Fatal("a new ReplicaSet's annotations must change")
	}
	if r.Annotations[RevisionAnnotation] != "1" || r.Annotations["kubernetes.io/change-cause"] != "kubectl set image" ||
		r.Annotations[DesiredReplicasAnnotation] != "3" || r.Annotations[MaxReplicasAnnotation] != "4" {
		t.Errorf("annotations %v", r.Annotations)
	}
	if _, ok := r.Annotations[lastAppliedAnnotation]; ok {
		t.Error("last-applied-configuration must not be copied")
	}
	if setNewRSAnnotations(d, r, 1, false) {
		t.Error("same revision again must change nothing")
	}
	// Rolled back to: revision 1 becomes 4, history keeps 1.
	setNewRSAnnotations(d, r, 4, false)
	setNewRSAnnotations(d, r, 6, false)
	if r.Annotations[RevisionAnnotation] != "6" || r.Annotations[RevisionHistoryAnnotation] != "1,4" {
		t.Errorf("revision %q history %q, want 6 and 1,4", r.Annotations[RevisionAnnotation], r.Annotations[RevisionHistoryAnnotation])
	}
	long := ""
	for i := range 600 {
		long = appendHistory(long, strconv.Itoa(i))
	}
	if len(long) > maxRevisionHistoryChars {
		t.Errorf("history grew to %d chars", len(long))
	}
}
