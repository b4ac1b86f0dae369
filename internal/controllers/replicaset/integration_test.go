package replicaset_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol/podtest"
	"github.com/navarch/navarch/internal/controllers/replicaset"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 30 * time.Second

// run starts ctor's controller on env until the test ends.
func run(t *testing.T, env *testserver.Env, ctor func(controller.Context) (controller.Controller, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cc, start := env.ControllerContext(t, ctx)
	ctl, err := ctor(cc)
	if err != nil {
		t.Fatal(err)
	}
	start()
	done := make(chan struct{})
	go func() { defer close(done); _ = ctl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func template(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func newRS(name string, n int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.ReplicaSetSpec{Replicas: &n, Template: template(name),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
	}
}

// ownedPods lists the active pods controlled by uid.
func ownedPods(t *testing.T, c kubernetes.Interface, ns string, uid types.UID) []corev1.Pod {
	t.Helper()
	list, err := c.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if ref := metav1.GetControllerOf(&p); ref != nil && ref.UID == uid && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func waitRS(t *testing.T, c kubernetes.Interface, ns, name, what string, cond func(*appsv1.ReplicaSet) bool) *appsv1.ReplicaSet {
	t.Helper()
	var rs *appsv1.ReplicaSet
	testserver.Eventually(t, wait, what, func() (bool, error) {
		var err error
		rs, err = c.AppsV1().ReplicaSets(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && !cond(rs) {
			err = fmt.Errorf("generation %d status %+v", rs.Generation, rs.Status)
		}
		return err == nil, err
	})
	return rs
}

func settled(n int32) func(*appsv1.ReplicaSet) bool {
	return func(rs *appsv1.ReplicaSet) bool {
		s := rs.Status
		return s.ObservedGeneration == rs.Generation && s.Replicas == n && s.ReadyReplicas == n &&
			s.AvailableReplicas == n && s.FullyLabeledReplicas == n
	}
}

// countCreations counts the distinct pods created in ns from now on.
func countCreations(t *testing.T, c kubernetes.Interface, ns string) func() int {
	t.Helper()
	list, err := c.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.CoreV1().Pods(ns).Watch(context.Background(), metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	var mu sync.Mutex
	seen := map[types.UID]bool{}
	go func() {
		for ev := range w.ResultChan() {
			if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Added {
				mu.Lock()
				seen[p.UID] = true
				mu.Unlock()
			}
		}
	}()
	return func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }
}

func TestReplicaSetKeepsReplicas(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "keep")
	c := env.Client
	ctx := context.Background()
	created := countCreations(t, c, ns)
	podtest.StartBindingKubelet(t, c, ns, "node-1", func(p *corev1.Pod) bool { return p.Labels["hold"] == "true" })
	run(t, env, replicaset.New)

	rs, err := c.AppsV1().ReplicaSets(ns).Create(ctx, newRS("web", 20), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRS(t, c, ns, "web", "20 available replicas", settled(20))
	pods := ownedPods(t, c, ns, rs.UID)
	if len(pods) != 20 {
		t.Fatalf("%d pods, want 20", len(pods))
	}
	for _, p := range pods {
		ref := metav1.GetControllerOf(&p)
		if !*ref.BlockOwnerDeletion || ref.Kind != "ReplicaSet" || p.GenerateName != "web-" {
			t.Fatalf("pod %s: ownerRef %+v generateName %q", p.Name, ref, p.GenerateName)
		}
	}
	if n := created(); n != 20 {
		t.Errorf("%d pods were created for 20 replicas: the controller created twice", n)
	}

	// A deleted pod is replaced.
	victim := pods[3].Name
	if err := c.CoreV1().Pods(ns).Delete(ctx, victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, wait, "the deleted pod to be replaced", func() (bool, error) {
		cur := ownedPods(t, c, ns, rs.UID)
		for _, p := range cur {
			if p.Name == victim {
				return false, nil
			}
		}
		return len(cur) == 20 && created() == 21, nil
	})
	waitRS(t, c, ns, "web", "20 available after the replacement", settled(20))

	// Scaling down deletes the least valuable pods: a not-ready one first.
	unready := ownedPods(t, c, ns, rs.UID)[0]
	patchPod(t, c, ns, unready.Name, `{"metadata":{"labels":{"hold":"true"}}}`)
	patchStatus(t, c, ns, unready.Name, `{"status":{"conditions":[{"type":"Ready","status":"False"}]}}`)
	waitRS(t, c, ns, "web", "one pod not ready", func(rs *appsv1.ReplicaSet) bool { return rs.Status.ReadyReplicas == 19 })
	scale(t, c, ns, "web", 2)
	waitRS(t, c, ns, "web", "2 replicas", settled(2))
	for _, p := range ownedPods(t, c, ns, rs.UID) {
		if p.Name == unready.Name {
			t.Errorf("the not-ready pod %s survived the scale-down", p.Name)
		}
	}
	if n := created(); n != 21 {
		t.Errorf("scaling down created pods: %d created in all, want 21", n)
	}
	evs, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{"involvedObject.name": "web"}.String()})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]bool{}
	for _, e := range evs.Items {
		reasons[e.Reason] = true
	}
	if !reasons["SuccessfulCreate"] || !reasons["SuccessfulDelete"] {
		t.Errorf("events %v, want SuccessfulCreate and SuccessfulDelete", reasons)
	}
}

func TestReplicaSetAdoptsAndReleases(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "adopt")
	c := env.Client
	ctx := context.Background()
	podtest.StartKubelet(t, c, ns, nil)
	run(t, env, replicaset.New)

	for i := range 2 {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("orphan-%d", i), Labels: map[string]string{"app": "web"}},
			Spec: template("web").Spec}
		if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	created := countCreations(t, c, ns)
	rs, err := c.AppsV1().ReplicaSets(ns).Create(ctx, newRS("web", 3), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRS(t, c, ns, "web", "3 replicas with 2 adopted", settled(3))
	names := map[string]bool{}
	for _, p := range ownedPods(t, c, ns, rs.UID) {
		names[p.Name] = true
	}
	if !names["orphan-0"] || !names["orphan-1"] || len(names) != 3 {
		t.Fatalf("owned pods %v, want both orphans and one new pod", names)
	}
	if n := created(); n != 1 {
		t.Errorf("%d pods created beside the 2 adopted, want 1", n)
	}

	// A pod relabelled out of the selector is released and replaced.
	patchPod(t, c, ns, "orphan-0", `{"metadata":{"labels":{"app":"debug"}}}`)
	testserver.Eventually(t, wait, "orphan-0 released", func() (bool, error) {
		p, err := c.CoreV1().Pods(ns).Get(ctx, "orphan-0", metav1.GetOptions{})
		return err == nil && metav1.GetControllerOf(p) == nil, err
	})
	testserver.Eventually(t, wait, "a replacement for the released pod", func() (bool, error) {
		owned := ownedPods(t, c, ns, rs.UID)
		for _, p := range owned {
			if p.Name == "orphan-0" {
				return false, nil
			}
		}
		return len(owned) == 3, nil
	})
	waitRS(t, c, ns, "web", "3 available after the replacement", settled(3))
	// Relabelled back, it is adopted again and one surplus pod goes
	// (which one is a tie: all are equally ready and equally old).
	patchPod(t, c, ns, "orphan-0", `{"metadata":{"labels":{"app":"web"}}}`)
	testserver.Eventually(t, wait, "orphan-0 adopted again and the surplus deleted", func() (bool, error) {
		list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, err
		}
		owned := 0
		for _, p := range list.Items {
			if ref := metav1.GetControllerOf(&p); ref != nil && ref.UID == rs.UID {
				owned++
			}
		}
		return len(list.Items) == 3 && owned == 3, nil
	})
}

func TestReplicationController(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "rc")
	c := env.Client
	ctx := context.Background()
	podtest.StartKubelet(t, c, ns, nil)
	run(t, env, replicaset.NewForRC)

	n := int32(3)
	tmpl := template("legacy")
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "legacy"},
		Spec: corev1.ReplicationControllerSpec{Replicas: &n, Template: &tmpl, MinReadySeconds: 1}}
	rc, err := c.CoreV1().ReplicationControllers(ns).Create(ctx, rc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, wait, "3 available replicas after minReadySeconds", func() (bool, error) {
		cur, err := c.CoreV1().ReplicationControllers(ns).Get(ctx, "legacy", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := cur.Status
		return s.Replicas == 3 && s.ReadyReplicas == 3 && s.AvailableReplicas == 3 && s.FullyLabeledReplicas == 3 &&
			s.ObservedGeneration == cur.Generation, nil
	})
	pods := ownedPods(t, c, ns, rc.UID)
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	if ref := metav1.GetControllerOf(&pods[0]); ref.Kind != "ReplicationController" || ref.APIVersion != "v1" {
		t.Errorf("owner reference %+v", ref)
	}
	_, err = c.CoreV1().ReplicationControllers(ns).UpdateScale(ctx, "legacy",
		&autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: ns}, Spec: autoscalingv1.ScaleSpec{Replicas: 1}}, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, wait, "scaled down to 1", func() (bool, error) {
		return len(ownedPods(t, c, ns, rc.UID)) == 1, nil
	})
}

func patchPod(t *testing.T, c kubernetes.Interface, ns, name, patch string) {
	t.Helper()
	if _, err := c.CoreV1().Pods(ns).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func patchStatus(t *testing.T, c kubernetes.Interface, ns, name, patch string) {
	t.Helper()
	if _, err := c.CoreV1().Pods(ns).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
}

func scale(t *testing.T, c kubernetes.Interface, ns, name string, n int32) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, n)
	if _, err := c.AppsV1().ReplicaSets(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}
