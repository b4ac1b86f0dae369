package garbagecollector_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/garbagecollector"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 30 * time.Second

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

// fixture creates ConfigMaps and Secrets wired by ownerReferences.
type fixture struct {
	t  *testing.T
	c  kubernetes.Interface
	ns string
}

func (f fixture) cm(name string, owners []metav1.OwnerReference, finalizers ...string) *corev1.ConfigMap {
	f.t.Helper()
	cm, err := f.c.CoreV1().ConfigMaps(f.ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: name, OwnerReferences: owners, Finalizers: finalizers}}, metav1.CreateOptions{})
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	return cm
}

func (f fixture) secret(name string, owners []metav1.OwnerReference) *corev1.Secret {
	f.t.Helper()
	s, err := f.c.CoreV1().Secrets(f.ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Name: name, OwnerReferences: owners}}, metav1.CreateOptions{})
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	return s
}

func ownedBy(obj metav1.Object, kind string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: kind, Name: obj.GetName(), UID: obj.GetUID(), BlockOwnerDeletion: &block}
}

func (f fixture) get(name string) (*corev1.ConfigMap, error) {
	return f.c.CoreV1().ConfigMaps(f.ns).Get(context.Background(), name, metav1.GetOptions{})
}

func (f fixture) waitGone(names ...string) {
	f.t.Helper()
	for _, n := range names {
		testserver.Eventually(f.t, wait, n+" deleted", func() (bool, error) {
			_, err := f.get(n)
			return apierrors.IsNotFound(err), err
		})
	}
}

func (f fixture) delete(name string, policy metav1.DeletionPropagation) {
	f.t.Helper()
	if err := f.c.CoreV1().ConfigMaps(f.ns).Delete(context.Background(), name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		f.t.Fatal(err)
	}
}

func (f fixture) release(name string) {
	f.t.Helper()
	_, err := f.c.CoreV1().ConfigMaps(f.ns).Patch(context.Background(), name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestGarbageCollector(t *testing.T) {
	env := testserver.Start(t)
	run(t, env, garbagecollector.New)
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f fixture)
	}{
		{"background", testBackground},
		{"foreground", testForeground},
		{"orphan", testOrphan},
		{"dangling owners", testDangling},
		{"owner created after the dependent", testLateOwner},
		{"apps owner of pods", testAppsOwner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t, "gc-"+slug(tc.name))
			tc.fn(t, fixture{t: t, c: env.Client, ns: ns})
		})
	}
}

func slug(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == ' ' {
			r = '-'
		}
		out = append(out, r)
	}
	return string(out)
}

func testBackground(t *testing.T, f fixture) {
	owner := f.cm("owner", nil)
	other := f.cm("other", nil)
	f.cm("child", []metav1.OwnerReference{ownedBy(owner, "ConfigMap", false)})
	f.secret("secret-child", []metav1.OwnerReference{ownedBy(owner, "ConfigMap", true)})
	grand := f.cm("grandchild", []metav1.OwnerReference{ownedBy(&metav1.ObjectMeta{Name: "child", UID: mustUID(t, f, "child")}, "ConfigMap", false)})
	shared := f.cm("shared", []metav1.OwnerReference{ownedBy(owner, "ConfigMap", false), ownedBy(other, "ConfigMap", false)})
	f.delete("owner", metav1.DeletePropagationBackground)
	f.waitGone("owner", "child", grand.Name)
	testserver.Eventually(t, wait, "secret dependent deleted", func() (bool, error) {
		_, err := f.c.CoreV1().Secrets(f.ns).Get(context.Background(), "secret-child", metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	// A dependent with another live owner stays, without the reference to
	// the deleted one.
	testserver.Eventually(t, wait, "shared dependent keeps only its live owner", func() (bool, error) {
		cm, err := f.get(shared.Name)
		if err != nil {
			return false, err
		}
		return len(cm.OwnerReferences) == 1 && cm.OwnerReferences[0].UID == other.UID, fmt.Errorf("owners %v", cm.OwnerReferences)
	})
}

func mustUID(t *testing.T, f fixture, name string) types.UID {
	t.Helper()
	cm, err := f.get(name)
	if err != nil {
		t.Fatal(err)
	}
	return cm.UID
}

func testForeground(t *testing.T, f fixture) {
	owner := f.cm("owner", nil)
	// blocker holds the owner: it blocks the owner's deletion and has a
	// finalizer of its own, released by the test.
	blocker := f.cm("blocker", []metav1.OwnerReference{ownedBy(owner, "ConfigMap", true)}, "example.com/hold")
	// mid has a dependent of its own, so it is deleted in the foreground
	// too, and goes only after leaf.
	mid := f.cm("mid", []metav1.OwnerReference{ownedBy(owner, "ConfigMap", true)})
	f.cm("leaf", []metav1.OwnerReference{ownedBy(mid, "ConfigMap", true)}, "example.com/hold")
	f.cm("nonblocking", []metav1.OwnerReference{ownedBy(owner, "ConfigMap", false)})
	f.delete("owner", metav1.DeletePropagationForeground)

	// Dependents are deleted first; the owner waits with its finalizer.
	f.waitGone("nonblocking")
	testserver.Eventually(t, wait, "blocking dependents marked for deletion", func() (bool, error) {
		for _, n := range []string{blocker.Name, mid.Name, "leaf"} {
			cm, err := f.get(n)
			if err != nil || cm.DeletionTimestamp == nil {
				return false, fmt.Errorf("%s: %v %v", n, err, cm)
			}
		}
		return true, nil
	})
	cm, err := f.get("mid")
	if err != nil || !slices.Contains(cm.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Fatalf("mid, which has a dependent, not deleted in the foreground: %v %+v", err, cm)
	}
	cm, err = f.get("owner")
	if err != nil || cm.DeletionTimestamp == nil || !slices.Contains(cm.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Fatalf("owner should wait for its dependents: %v %+v", err, cm)
	}

	f.release("leaf")
	f.waitGone("leaf", "mid")
	if _, err := f.get("owner"); err != nil {
		t.Fatalf("owner deleted while a blocking dependent remains: %v", err)
	}
	f.release(blocker.Name)
	f.waitGone(blocker.Name, "owner")
}

func testOrphan(t *testing.T, f fixture) {
	owner := f.cm("owner", nil)
	other := f.cm("other", nil)
	f.cm("a", []metav1.OwnerReference{ownedBy(owner, "ConfigMap", true)})
	f.cm("b", []metav1.OwnerReference{ownedBy(owner, "ConfigMap", false), ownedBy(other, "ConfigMap", false)})
	f.delete("owner", metav1.DeletePropagationOrphan)
	f.waitGone("owner")
	a, err := f.get("a")
	if err != nil || len(a.OwnerReferences) != 0 {
		t.Errorf("orphan a: %v, owners %v", err, a.OwnerReferences)
	}
	b, err := f.get("b")
	if err != nil || len(b.OwnerReferences) != 1 || b.OwnerReferences[0].UID != other.UID {
		t.Errorf("orphan b: %v, owners %v", err, b.OwnerReferences)
	}
}

func testDangling(t *testing.T, f fixture) {
	real := f.cm("real", nil)
	// An owner that never existed, and a namesake of a live object with
	// another uid: both dependents are garbage.
	f.cm("ghost-child", []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "ghost", UID: "no-such-uid"}})
	f.cm("namesake-child", []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: real.Name, UID: "stale-uid"}})
	// A cluster-scoped owner (a Namespace) that exists keeps its dependent.
	ns, err := f.c.CoreV1().Namespaces().Get(context.Background(), f.ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.cm("ns-child", []metav1.OwnerReference{ownedBy(ns, "Namespace", false)})
	f.waitGone("ghost-child", "namesake-child")
	if _, err := f.get("ns-child"); err != nil {
		t.Errorf("dependent of a live cluster-scoped owner: %v", err)
	}
	if _, err := f.get("real"); err != nil {
		t.Errorf("the namesake owner itself: %v", err)
	}
}

// testLateOwner: a dependent may be created before its owner is observed
// by the collector; it must not be collected while the owner exists.
func testLateOwner(t *testing.T, f fixture) {
	owner := f.cm("owner", nil)
	for i := range 20 {
		f.cm(fmt.Sprintf("dep-%d", i), []metav1.OwnerReference{ownedBy(owner, "ConfigMap", false)})
	}
	// A marker object created last: once its dangling dependent is
	// collected, the collector has processed everything before it.
	f.cm("marker", []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "none", UID: "none"}})
	f.waitGone("marker")
	list, err := f.c.CoreV1().ConfigMaps(f.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cm := range list.Items {
		if len(cm.OwnerReferences) == 1 && cm.OwnerReferences[0].UID == owner.UID {
			n++
		}
	}
	if n != 20 {
		t.Errorf("%d of 20 dependents of a live owner left", n)
	}
}

// testAppsOwner: a ReplicaSet (another group) owning pods, deleted in the
// foreground as `kubectl delete --cascade=foreground` does.
func testAppsOwner(t *testing.T, f fixture) {
	ctx := context.Background()
	zero := int32(0)
	labels := map[string]string{"app": "web"}
	rs, err := f.c.AppsV1().ReplicaSets(f.ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	ref := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes, BlockOwnerDeletion: &yes}
	for i := range 3 {
		_, err := f.c.CoreV1().Pods(f.ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Labels: labels,
			OwnerReferences: []metav1.OwnerReference{ref}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	fg := metav1.DeletePropagationForeground
	if err := f.c.AppsV1().ReplicaSets(f.ns).Delete(ctx, rs.Name, metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, wait, "replicaset and its pods gone", func() (bool, error) {
		pods, err := f.c.CoreV1().Pods(f.ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) > 0 {
			return false, err
		}
		_, err = f.c.AppsV1().ReplicaSets(f.ns).Get(ctx, rs.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
}
