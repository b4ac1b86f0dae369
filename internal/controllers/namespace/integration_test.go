package namespace_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/namespace"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 60 * time.Second

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

// populate creates n objects of mixed kinds in ns, 8 at a time.
func populate(t *testing.T, c kubernetes.Interface, ns string, n int) map[string]int {
	t.Helper()
	ctx := context.Background()
	kinds := []struct {
		name   string
		share  int
		create func(i int) error
	}{
		{"configmaps", 30, func(i int) error {
			_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
			return err
		}},
		{"secrets", 20, func(i int) error {
			_, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s-%d", i)}, StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{})
			return err
		}},
		{"pods", 15, func(i int) error {
			_, err := c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i)},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
			return err
		}},
		{"services", 10, func(i int) error {
			_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", i)},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
			return err
		}},
		{"serviceaccounts", 10, func(i int) error {
			_, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sa-%d", i)}}, metav1.CreateOptions{})
			return err
		}},
		{"deployments", 10, func(i int) error {
			one := int32(1)
			labels := map[string]string{"app": fmt.Sprintf("d-%d", i)}
			_, err := c.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("d-%d", i)},
				Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}, metav1.CreateOptions{})
			return err
		}},
		{"endpoints", 5, func(i int) error {
			_, err := c.CoreV1().Endpoints(ns).Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ep-%d", i)}}, metav1.CreateOptions{})
			return err
		}},
	}
	type job struct {
		create func(int) error
		i      int
	}
	jobs := make(chan job)
	counts := map[string]int{}
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := j.create(j.i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	made := 0
	for _, k := range kinds {
		m := n * k.share / 100
		counts[k.name] = m
		for i := range m {
			jobs <- job{k.create, i}
		}
		made += m
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("populate: %v", firstErr)
	}
	if made != n {
		t.Fatalf("shares add up to %d objects, want %d", made, n)
	}
	return counts
}

func TestDeleteNamespaceWithContent(t *testing.T) {
	env := testserver.Start(t)
	run(t, env, namespace.New)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t, "doomed")
	counts := populate(t, c, ns, 1000)
	// One object whose finalizer holds the namespace in Terminating until
	// the test lets go.
	held, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// Creates are refused with upstream's message while it terminates.
	_, err = c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
	want := "configmaps \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated"
	if !apierrors.IsForbidden(err) || err.Error() != want || !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		t.Errorf("create in a terminating namespace: %v, want Forbidden %q with cause %s", err, want, corev1.NamespaceTerminatingCause)
	}

	// Everything but the held object goes; the conditions say why the
	// namespace still exists.
	testserver.Eventually(t, wait, "only the held object left, reported in the conditions", func() (bool, error) {
		n, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if n.Status.Phase != corev1.NamespaceTerminating {
			return false, fmt.Errorf("phase %s", n.Status.Phase)
		}
		rem := cond(n, corev1.NamespaceContentRemaining)
		fin := cond(n, corev1.NamespaceFinalizersRemaining)
		okRem := rem != nil && rem.Status == corev1.ConditionTrue && rem.Reason == "SomeResourcesRemain" &&
			rem.Message == "Some resources are remaining: configmaps has 1 resource instances"
		okFin := fin != nil && fin.Status == corev1.ConditionTrue && fin.Reason == "SomeFinalizersRemain" &&
			fin.Message == "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
		return okRem && okFin, fmt.Errorf("conditions %+v", n.Status.Conditions)
	})
	if n, _ := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); cond(n, corev1.NamespaceDeletionDiscoveryFailure).Status != corev1.ConditionFalse {
		t.Errorf("discovery failure reported: %+v", n.Status.Conditions)
	}
	for kind, n := range counts {
		want := 0
		if kind == "configmaps" {
			want = 1 // the held one
		}
		if left := countIn(t, env, ns, kind); left != want {
			t.Errorf("%d of %d %s left while the namespace terminates, want %d", left, n, kind, want)
		}
	}

	// Releasing the finalizer lets the namespace go.
	patch := []byte(`{"metadata":{"finalizers":null}}`)
	if _, err := c.CoreV1().ConfigMaps(ns).Patch(ctx, held.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, wait, "namespace gone", func() (bool, error) {
		_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	for kind := range counts {
		if left := countIn(t, env, ns, kind); left != 0 {
			t.Errorf("%d %s left behind after the namespace went", left, kind)
		}
	}
	// The name can be used again, for a fresh, empty namespace.
	env.Namespace(t, ns)
	if left := countIn(t, env, ns, "configmaps"); left != 0 {
		t.Errorf("recreated namespace holds %d configmaps", left)
	}
}

func TestEmptyNamespaceIsFinalizedAndOthersAreLeftAlone(t *testing.T) {
	env := testserver.Start(t)
	run(t, env, namespace.New)
	ctx := context.Background()
	c := env.Client
	keep := env.Namespace(t, "keep")
	gone := env.Namespace(t, "gone")
	for _, ns := range []string{keep, gone} {
		if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CoreV1().Namespaces().Delete(ctx, gone, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, wait, "namespace gone", func() (bool, error) {
		_, err := c.CoreV1().Namespaces().Get(ctx, gone, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	if _, err := c.CoreV1().ConfigMaps(keep).Get(ctx, "cm", metav1.GetOptions{}); err != nil {
		t.Errorf("content of another namespace: %v", err)
	}
	n, err := c.CoreV1().Namespaces().Get(ctx, keep, metav1.GetOptions{})
	if err != nil || n.Status.Phase != corev1.NamespaceActive || len(n.Status.Conditions) != 0 {
		t.Errorf("untouched namespace: %+v, %v", n.Status, err)
	}
}

// TestMetadataFinalizerRemovedFirst: a namespace deleted with
// propagationPolicy=Orphan has an "orphan" finalizer in metadata; when that
// goes first, the namespace must still wait for its content to be deleted.
func TestMetadataFinalizerRemovedFirst(t *testing.T) {
	env := testserver.Start(t)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t, "meta-fin")
	if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	orphan := metav1.DeletePropagationOrphan
	if err := c.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
		t.Fatal(err)
	}
	// No controller runs yet: dropping the orphan finalizer by hand must
	// not remove a namespace whose spec.finalizers are pending.
	if _, err := c.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil || n.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("namespace after its metadata finalizers went: %v %+v", err, n)
	}
	run(t, env, namespace.New)
	testserver.Eventually(t, wait, "namespace gone", func() (bool, error) {
		_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	if left := countIn(t, env, ns, "configmaps"); left != 0 {
		t.Errorf("%d configmaps left", left)
	}
}

func cond(n *corev1.Namespace, t corev1.NamespaceConditionType) *corev1.NamespaceCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == t {
			return &n.Status.Conditions[i]
		}
	}
	return &corev1.NamespaceCondition{}
}

// countIn counts the objects of a core or apps resource in ns.
func countIn(t *testing.T, env *testserver.Env, ns, resource string) int {
	t.Helper()
	group := "/api/v1"
	if resource == "deployments" {
		group = "/apis/apps/v1"
	}
	var list metav1.PartialObjectMetadataList
	body, err := env.Client.CoreV1().RESTClient().Get().AbsPath(group, "namespaces", ns, resource).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("list %s: %v", resource, err)
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}
