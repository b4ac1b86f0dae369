package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/navarch/navarch/internal/registry/store"
	"github.com/navarch/navarch/internal/storage"
)

func TestFinalizersHoldDeletion(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	obj := cm(ns, "f", nil)
	obj.Finalizers = []string{"example.com/hold"}
	if _, err := st.Create(ctx(t), ns, obj, store.WriteOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	out, gone, err := st.Delete(ctx(t), ns, "f", store.DeleteOptions{})
	if err != nil || gone {
		t.Fatalf("delete with finalizer: gone=%v err=%v, want pending", gone, err)
	}
	if metaOf(t, out).GetDeletionTimestamp() == nil {
		t.Fatal("deletionTimestamp not set")
	}
	got, err := st.Get(ctx(t), ns, "f", store.GetOptions{})
	if err != nil {
		t.Fatalf("object vanished while finalizer held it: %v", err)
	}
	if metaOf(t, got).GetDeletionTimestamp() == nil {
		t.Fatal("stored object has no deletionTimestamp")
	}
	drop := func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		c := cur.(*corev1.ConfigMap)
		c.Finalizers = nil
		return c, nil
	}
	if _, err := st.Update(ctx(t), ns, "f", drop, store.WriteOptions{}); err != nil {
		t.Fatalf("remove finalizer: %v", err)
	}
	mustGone(t, st, ns, "f")
}

func TestDeleteOptions(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("configmaps")
	wrong := "not-it"
	tests := []struct {
		name      string
		opts      store.DeleteOptions
		code      int32 // 0: success
		gone      bool
		finalizer string
	}{
		{"plain", store.DeleteOptions{}, 0, true, ""},
		{"orphan", store.DeleteOptions{Propagation: string(metav1.DeletePropagationOrphan)}, 0, false, metav1.FinalizerOrphanDependents},
		{"foreground", store.DeleteOptions{Propagation: string(metav1.DeletePropagationForeground)}, 0, false, metav1.FinalizerDeleteDependents},
		{"background", store.DeleteOptions{Propagation: string(metav1.DeletePropagationBackground)}, 0, true, ""},
		{"uid precondition", store.DeleteOptions{PreconditionUID: &wrong}, 409, false, ""},
		{"rv precondition", store.DeleteOptions{PreconditionRV: &wrong}, 409, false, ""},
		{"dry run", store.DeleteOptions{DryRun: true}, 0, true, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("d%d", i)
			if _, err := st.Create(ctx(t), ns, cm(ns, name, nil), store.WriteOptions{}); err != nil {
				t.Fatalf("create: %v", err)
			}
			out, gone, err := st.Delete(ctx(t), ns, name, tc.opts)
			if tc.code != 0 {
				wantCode(t, err, tc.code)
				if _, err := st.Get(ctx(t), ns, name, store.GetOptions{}); err != nil {
					t.Errorf("failed precondition still deleted: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			if gone != tc.gone {
				t.Errorf("gone = %v, want %v", gone, tc.gone)
			}
			if tc.finalizer != "" && !slices.Contains(metaOf(t, out).GetFinalizers(), tc.finalizer) {
				t.Errorf("finalizers %v lack %s", metaOf(t, out).GetFinalizers(), tc.finalizer)
			}
			_, gerr := st.Get(ctx(t), ns, name, store.GetOptions{})
			stillThere := gerr == nil
			if want := !tc.gone || tc.opts.DryRun; stillThere != want {
				t.Errorf("object present after delete = %v, want %v (get err %v)", stillThere, want, gerr)
			}
		})
	}
	t.Run("matching preconditions", func(t *testing.T) {
		created, err := st.Create(ctx(t), ns, cm(ns, "pre", nil), store.WriteOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		uid, rv := string(metaOf(t, created).GetUID()), rvOf(t, created)
		if _, gone, err := st.Delete(ctx(t), ns, "pre", store.DeleteOptions{PreconditionUID: &uid, PreconditionRV: &rv}); err != nil || !gone {
			t.Fatalf("delete with matching preconditions: gone=%v err=%v", gone, err)
		}
		mustGone(t, st, ns, "pre")
	})
}

func svc(ns, name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
}

const clusterIPClaims = "/registry/allocations/clusterips/"

// createServices creates n services named prefix0..prefix<n-1>, all at
// once when concurrent, and returns their cluster IPs.
// explicitIP, when set, asks for explicitIP(i) instead of a random pick.
func createServices(t *testing.T, st *store.Store, ns, prefix string, n int, concurrent bool, explicitIP func(int) string) []string {
	t.Helper()
	ips := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		create := func() {
			s := svc(ns, fmt.Sprintf("%s%d", prefix, i))
			if explicitIP != nil {
				s.Spec.ClusterIP = explicitIP(i)
			}
			out, err := st.Create(ctx(t), ns, s, store.WriteOptions{})
			if err == nil {
				ips[i] = out.(*corev1.Service).Spec.ClusterIP
			}
			errs[i] = err
		}
		if !concurrent {
			create()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			create()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %s%d: %v", prefix, i, err)
		}
	}
	return ips
}

// checkClaims asserts that the IPs are distinct and each claim key in etcd
// names its owner.
func checkClaims(t *testing.T, e *env, ns, prefix string, ips []string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for i, ip := range ips {
		if j, dup := seen[ip]; dup {
			t.Fatalf("%s%d and %s%d share cluster IP %s", prefix, i, prefix, j, ip)
		}
		seen[ip] = i
		kv, err := e.s.Get(ctx(t), clusterIPClaims+ip)
		if err != nil {
			t.Fatalf("claim of %s missing: %v", ip, err)
		}
		if want := store.KeyPrefix("", "services") + ns + "/" + fmt.Sprintf("%s%d", prefix, i); string(kv.Value) != want {
			t.Errorf("claim of %s owned by %q, want %q", ip, kv.Value, want)
		}
	}
	return seen
}

// TestServiceClusterIPConcurrentCreates races 50 creates for random
// addresses in a /24, where some picks collide and must be retried.
func TestServiceClusterIPConcurrentCreates(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	ips := createServices(t, e.st("services"), ns, "c", 50, true, nil)
	checkClaims(t, e, ns, "c", ips)
}

// TestServiceClusterIPClaims checks the claim keys' lifecycle. It asks for
// explicit addresses in a private etcd: random picks can collide, which
// the bug above turns into a spurious 409.
func TestServiceClusterIPClaims(t *testing.T) {
	e := private(t)
	ns := e.namespace(t)
	st := e.st("services")
	ips := createServices(t, st, ns, "s", 10, true, func(i int) string { return fmt.Sprintf("10.0.0.%d", 10+i) })
	seen := checkClaims(t, e, ns, "s", ips)

	t.Run("requested IP already taken", func(t *testing.T) {
		s := svc(ns, "dup")
		s.Spec.ClusterIP = ips[0]
		_, err := st.Create(ctx(t), ns, s, store.WriteOptions{})
		if se := wantCode(t, err, 422); !hasCause(se, "spec.clusterIPs") {
			t.Errorf("want cause on spec.clusterIPs, got %+v", se.ErrStatus.Details)
		}
	})

	t.Run("dry run claims nothing", func(t *testing.T) {
		out, err := st.Create(ctx(t), ns, svc(ns, "dry"), store.WriteOptions{DryRun: true})
		if err != nil {
			t.Fatalf("dry-run create: %v", err)
		}
		ip := out.(*corev1.Service).Spec.ClusterIP
		// A dry run does not consult etcd, so it may name an address a
		// real service holds; only a claim for a fresh address is a leak.
		_, held := seen[ip]
		if _, err := e.s.Get(ctx(t), clusterIPClaims+ip); !errors.Is(err, storage.ErrNotFound) && !held {
			t.Errorf("dry run left claim for %s: %v", ip, err)
		}
		mustGone(t, st, ns, "dry")
	})

	t.Run("delete releases claim", func(t *testing.T) {
		if _, gone, err := st.Delete(ctx(t), ns, "s0", store.DeleteOptions{}); err != nil || !gone {
			t.Fatalf("delete: gone=%v err=%v", gone, err)
		}
		if _, err := e.s.Get(ctx(t), clusterIPClaims+ips[0]); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("claim of %s not released: %v", ips[0], err)
		}
		// The released address can be requested again.
		s := svc(ns, "reuse")
		s.Spec.ClusterIP = ips[0]
		if _, err := st.Create(ctx(t), ns, s, store.WriteOptions{}); err != nil {
			t.Errorf("re-use released IP: %v", err)
		}
	})
}

func TestDryRunCreate(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	tests := []struct {
		resource string
		obj      runtime.Object
	}{
		{"configmaps", cm(ns, "dry", nil)},
		{"pods", pod(ns, "dry")},
		{"deployments", deployment(ns, "dry")},
	}
	for _, tc := range tests {
		t.Run(tc.resource, func(t *testing.T) {
			st := e.st(tc.resource)
			out, err := st.Create(ctx(t), ns, tc.obj, store.WriteOptions{DryRun: true})
			if err != nil {
				t.Fatalf("dry-run create: %v", err)
			}
			if metaOf(t, out).GetUID() == "" {
				t.Error("dry-run result lacks the server fields a real create sets")
			}
			mustGone(t, st, ns, "dry")
		})
	}
	t.Run("invalid is still refused", func(t *testing.T) {
		_, err := e.st("configmaps").Create(ctx(t), ns, cm(ns, "BAD", nil), store.WriteOptions{DryRun: true})
		wantCode(t, err, 422)
	})
	t.Run("dry-run update writes nothing", func(t *testing.T) {
		st := e.st("configmaps")
		created, err := st.Create(ctx(t), ns, cm(ns, "real", nil), store.WriteOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if _, err := st.Update(ctx(t), ns, "real", setData("k", "v"), store.WriteOptions{DryRun: true}); err != nil {
			t.Fatalf("dry-run update: %v", err)
		}
		got, _ := st.Get(ctx(t), ns, "real", store.GetOptions{})
		if rvOf(t, got) != rvOf(t, created) || len(got.(*corev1.ConfigMap).Data) != 0 {
			t.Errorf("dry-run update was stored: %+v", got)
		}
	})
}

// isGone is apierrors.IsResourceExpired or IsGone: upstream answers an
// expired continue token with 410 reason Expired.
func isGone(err error) bool {
	return apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}
