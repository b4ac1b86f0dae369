package store_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/navarch/navarch/internal/registry/store"
)

func deployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
}

// TestCreateSetsServerFields checks the metadata every created object gets
// and that each resource's defaults are applied.
func TestCreateSetsServerFields(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	tests := []struct {
		name     string
		resource string
		ns       string
		obj      runtime.Object
		wantGen  int64
		defaults func(t *testing.T, obj runtime.Object)
	}{
		{"pod", "pods", ns, pod(ns, "p1"), 1, func(t *testing.T, obj runtime.Object) {
			p := obj.(*corev1.Pod)
			if p.Spec.RestartPolicy != corev1.RestartPolicyAlways || p.Spec.DNSPolicy != corev1.DNSClusterFirst {
				t.Errorf("pod spec not defaulted: restartPolicy=%q dnsPolicy=%q", p.Spec.RestartPolicy, p.Spec.DNSPolicy)
			}
			if p.Status.Phase != corev1.PodPending {
				t.Errorf("pod phase = %q, want Pending", p.Status.Phase)
			}
		}},
		{"deployment", "deployments", ns, deployment(ns, "d1"), 1, func(t *testing.T, obj runtime.Object) {
			d := obj.(*appsv1.Deployment)
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
				t.Errorf("deployment not defaulted: replicas=%v strategy=%q", d.Spec.Replicas, d.Spec.Strategy.Type)
			}
		}},
		{"service", "services", ns, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s1"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, 0, func(t *testing.T, obj runtime.Object) {
			s := obj.(*corev1.Service)
			if s.Spec.Type != corev1.ServiceTypeClusterIP || s.Spec.ClusterIP == "" || s.Spec.Ports[0].Protocol != corev1.ProtocolTCP {
				t.Errorf("service not defaulted: type=%q clusterIP=%q protocol=%q", s.Spec.Type, s.Spec.ClusterIP, s.Spec.Ports[0].Protocol)
			}
		}},
		{"configmap", "configmaps", ns, cm(ns, "c1", map[string]string{"a": "b"}), 0, nil},
		{"namespace", "namespaces", "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns + "-x"}}, 0, func(t *testing.T, obj runtime.Object) {
			n := obj.(*corev1.Namespace)
			if n.Status.Phase != corev1.NamespaceActive || len(n.Spec.Finalizers) == 0 {
				t.Errorf("namespace not prepared: phase=%q finalizers=%v", n.Status.Phase, n.Spec.Finalizers)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := e.st(tc.resource)
			out, err := st.Create(ctx(t), tc.ns, tc.obj, store.WriteOptions{})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			acc := metaOf(t, out)
			if acc.GetUID() == "" || acc.GetCreationTimestamp().Time.IsZero() || acc.GetResourceVersion() == "" {
				t.Errorf("server fields missing: uid=%q created=%v rv=%q", acc.GetUID(), acc.GetCreationTimestamp(), acc.GetResourceVersion())
			}
			// Types with a spec have generation 1; upstream leaves the
			// others (ConfigMap, Namespace's spec aside) at whatever the
			// strategy sets, so only assert where we know the answer.
			if tc.wantGen > 0 && acc.GetGeneration() != tc.wantGen {
				t.Errorf("generation = %d, want %d", acc.GetGeneration(), tc.wantGen)
			}
			if tc.defaults != nil {
				tc.defaults(t, out)
			}
			got, err := st.Get(ctx(t), tc.ns, acc.GetName(), store.GetOptions{})
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if g := metaOf(t, got); g.GetUID() != acc.GetUID() || g.GetResourceVersion() != acc.GetResourceVersion() {
				t.Errorf("stored uid/rv = %s/%s, create returned %s/%s", g.GetUID(), g.GetResourceVersion(), acc.GetUID(), acc.GetResourceVersion())
			}
		})
	}
}

func TestGenerateNameAndDuplicates(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}
	out, err := st.Create(ctx(t), ns, obj, store.WriteOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	name := metaOf(t, out).GetName()
	if !strings.HasPrefix(name, "gen-") || len(name) != len("gen-")+5 {
		t.Errorf("generated name %q, want gen- plus 5 characters", name)
	}
	_, err = st.Create(ctx(t), ns, cm(ns, name, nil), store.WriteOptions{})
	if !apierrors.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: want AlreadyExists, got %v", err)
	}
	wantCode(t, err, 409)
}

func TestCreateErrors(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	badPod := pod(ns, "bad")
	badPod.Spec.Containers = nil
	tests := []struct {
		name      string
		resource  string
		ns        string
		obj       runtime.Object
		code      int32
		wantField string
	}{
		{"invalid configmap key", "configmaps", ns, cm(ns, "badkey", map[string]string{"not a key!": "v"}), 422, "data[not a key!]"},
		{"invalid name", "configmaps", ns, cm(ns, "Bad_Name", nil), 422, "metadata.name"},
		{"pod without containers", "pods", ns, badPod, 422, "spec.containers"},
		{"missing namespace", "configmaps", "no-such-ns", cm("no-such-ns", "x", nil), 404, ""},
		{"namespace mismatch", "configmaps", ns, cm("other", "x", nil), 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := e.st(tc.resource)
			name := metaOf(t, tc.obj).GetName()
			_, err := st.Create(ctx(t), tc.ns, tc.obj, store.WriteOptions{})
			se := wantCode(t, err, tc.code)
			if tc.wantField != "" {
				if !hasCause(se, tc.wantField) {
					t.Errorf("no cause with field %q in %+v", tc.wantField, se.ErrStatus.Details)
				}
				mustGone(t, st, tc.ns, name)
			}
		})
	}
}

func hasCause(se *apierrors.StatusError, field string) bool {
	if se.ErrStatus.Details == nil {
		return false
	}
	for _, c := range se.ErrStatus.Details.Causes {
		if c.Field == field {
			return true
		}
	}
	return false
}

func TestUpdateConflictsAndRetries(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	created, err := st.Create(ctx(t), ns, cm(ns, "c", map[string]string{"n": "0"}), store.WriteOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	staleRV := rvOf(t, created)
	if _, err := st.Update(ctx(t), ns, "c", setData("n", "1"), store.WriteOptions{}); err != nil {
		t.Fatalf("update: %v", err)
	}
	before, _ := st.Get(ctx(t), ns, "c", store.GetOptions{})

	t.Run("stale resourceVersion", func(t *testing.T) {
		fn := func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
			c := cur.(*corev1.ConfigMap)
			c.ResourceVersion = staleRV
			c.Data["n"] = "stale"
			return c, nil
		}
		_, err := st.Update(ctx(t), ns, "c", fn, store.WriteOptions{})
		if !apierrors.IsConflict(err) {
			t.Fatalf("want Conflict, got %v", err)
		}
		after, _ := st.Get(ctx(t), ns, "c", store.GetOptions{})
		if rvOf(t, after) != rvOf(t, before) || after.(*corev1.ConfigMap).Data["n"] != "1" {
			t.Errorf("conflicting update was written: rv %s -> %s, data %v", rvOf(t, before), rvOf(t, after), after.(*corev1.ConfigMap).Data)
		}
	})

	t.Run("unconditional updates retry", func(t *testing.T) {
		const writers = 10
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.Update(ctx(t), ns, "c", setData("w"+string(rune('a'+i)), "x"), store.WriteOptions{})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent unconditional update: %v", err)
			}
		}
		got, _ := st.Get(ctx(t), ns, "c", store.GetOptions{})
		if n := len(got.(*corev1.ConfigMap).Data); n != writers+1 {
			t.Errorf("want %d keys after %d concurrent updates, got %d: lost updates", writers+1, writers, n)
		}
	})

	t.Run("no-op update keeps resourceVersion", func(t *testing.T) {
		cur, _ := st.Get(ctx(t), ns, "c", store.GetOptions{})
		same := func(_ context.Context, c runtime.Object) (runtime.Object, error) { return c, nil }
		out, err := st.Update(ctx(t), ns, "c", same, store.WriteOptions{})
		if err != nil {
			t.Fatalf("no-op update: %v", err)
		}
		if rvOf(t, out) != rvOf(t, cur) {
			t.Errorf("no-op update bumped rv %s -> %s", rvOf(t, cur), rvOf(t, out))
		}
	})
}

func TestGenerationAndStatusSplit(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("deployments")
	if _, err := st.Create(ctx(t), ns, deployment(ns, "d"), store.WriteOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	mutate := func(f func(d *appsv1.Deployment)) store.UpdateFunc {
		return func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
			d := cur.(*appsv1.Deployment)
			f(d)
			return d, nil
		}
	}
	steps := []struct {
		name    string
		sub     store.Subresource
		fn      store.UpdateFunc
		wantGen int64
		check   func(t *testing.T, d *appsv1.Deployment)
	}{
		{"metadata only", store.Main, mutate(func(d *appsv1.Deployment) { d.Labels = map[string]string{"x": "y"} }), 1,
			func(t *testing.T, d *appsv1.Deployment) {
				if d.Labels["x"] != "y" {
					t.Error("label not written")
				}
			}},
		{"spec change", store.Main, mutate(func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(3)) }), 2, nil},
		{"main ignores status", store.Main, mutate(func(d *appsv1.Deployment) {
			d.Status.Replicas = 7
			d.Labels["touched"] = "1"
		}), 2, func(t *testing.T, d *appsv1.Deployment) {
			if d.Status.Replicas != 0 {
				t.Errorf("main update wrote status.replicas=%d", d.Status.Replicas)
			}
		}},
		{"status writes only status", store.Status, mutate(func(d *appsv1.Deployment) {
			d.Status.Replicas = 5
			d.Spec.Replicas = ptr(int32(9))
		}), 2, func(t *testing.T, d *appsv1.Deployment) {
			if d.Status.Replicas != 5 {
				t.Errorf("status.replicas = %d, want 5", d.Status.Replicas)
			}
			if *d.Spec.Replicas != 3 {
				t.Errorf("status update changed spec.replicas to %d", *d.Spec.Replicas)
			}
		}},
		// Upstream: annotations are copied to ReplicaSets, so they count.
		{"deployment annotation change", store.Main, mutate(func(d *appsv1.Deployment) { d.Annotations = map[string]string{"a": "b"} }), 3, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if _, err := st.Update(ctx(t), ns, "d", s.fn, store.WriteOptions{Subresource: s.sub}); err != nil {
				t.Fatalf("update: %v", err)
			}
			got, err := st.Get(ctx(t), ns, "d", store.GetOptions{})
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			d := got.(*appsv1.Deployment)
			if d.Generation != s.wantGen {
				t.Errorf("generation = %d, want %d", d.Generation, s.wantGen)
			}
			if s.check != nil {
				s.check(t, d)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestNoOpUpdateEveryResource: writing back what was read must not bump
// the resourceVersion for any type, whatever its defaulting does.
func TestNoOpUpdateEveryResource(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	// Headless: a random cluster IP could collide with another test's and
	// hit the claim-retry bug (see TestServiceClusterIPConcurrentCreates).
	s := svc(ns, "noop")
	s.Spec.ClusterIP = corev1.ClusterIPNone
	tests := []struct {
		resource string
		obj      runtime.Object
	}{
		{"pods", pod(ns, "noop")},
		{"deployments", deployment(ns, "noop")},
		{"services", s},
		{"configmaps", cm(ns, "noop", map[string]string{"a": "b", "c": "d"})},
	}
	same := func(_ context.Context, c runtime.Object) (runtime.Object, error) { return c, nil }
	for _, tc := range tests {
		t.Run(tc.resource, func(t *testing.T) {
			st := e.st(tc.resource)
			created, err := st.Create(ctx(t), ns, tc.obj, store.WriteOptions{})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			for _, sub := range []store.Subresource{store.Main, store.Status} {
				out, err := st.Update(ctx(t), ns, "noop", same, store.WriteOptions{Subresource: sub})
				if err != nil {
					t.Fatalf("no-op %q update: %v", sub, err)
				}
				if rvOf(t, out) != rvOf(t, created) {
					t.Errorf("no-op %q update bumped rv %s -> %s", sub, rvOf(t, created), rvOf(t, out))
				}
			}
		})
	}
}

// TestSequentialReadModifyWrite: one caller, no concurrency, updating the
// object it is handed (keeping its resourceVersion, as bindPod and other
// internal writers do) must never get a Conflict.
func TestSequentialReadModifyWrite(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	if _, err := st.Create(ctx(t), ns, cm(ns, "rmw", nil), store.WriteOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	for i := range 100 {
		fn := func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
			c := cur.(*corev1.ConfigMap)
			c.Data = map[string]string{"i": strconv.Itoa(i)}
			return c, nil
		}
		if _, err := st.Update(ctx(t), ns, "rmw", fn, store.WriteOptions{}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
}
