package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/registry/all"
	"github.com/navarch/navarch/internal/registry/core"
	"github.com/navarch/navarch/internal/registry/store"
	"github.com/navarch/navarch/internal/storage"
)

// env is a real embedded etcd with one store per resource, wired as the
// server wires them (namespace check included), minus HTTP.
type env struct {
	s      storage.Interface
	stores map[string]*store.Store // by resource plural
	close  func()
}

// testCIDR is a /24 so that 50 concurrent Service creates collide on
// random picks now and then, exercising the claim retry path.
const testCIDR = "10.0.0.0/24"

var (
	sharedOnce sync.Once
	sharedEnv  *env
	sharedErr  error
	sharedDir  string
	sharedStop context.CancelFunc = func() {}
	nsCounter  atomic.Int64
)

// TestMain stops the shared etcd and removes its data after all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	sharedStop()
	if sharedDir != "" {
		_ = os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// shared returns an env that lives for the whole test binary: starting
// etcd is the slow part, and tests isolate themselves by namespace.
func shared(t *testing.T) *env {
	t.Helper()
	sharedOnce.Do(func() {
		// The env outlives the first test that asks for it; TestMain
		// stops it.
		sharedDir, sharedErr = os.MkdirTemp("", "store-it-")
		if sharedErr != nil {
			return
		}
		sharedEnv, sharedErr = startEnv(sharedDir)
		if sharedErr == nil {
			sharedStop = sharedEnv.close
		}
	})
	if sharedErr != nil {
		t.Fatalf("start shared env: %v", sharedErr)
	}
	return sharedEnv
}

// private returns an env owned by t, for tests that do store-wide things
// (compaction) that would disturb others.
func private(t *testing.T) *env {
	t.Helper()
	e, err := startEnv(t.TempDir())
	if err != nil {
		t.Fatalf("start env: %v", err)
	}
	t.Cleanup(e.close)
	return e
}

func startEnv(dir string) (*env, error) {
	ctx, cancel := context.WithCancel(context.Background())
	emb, err := storage.StartEmbedded(ctx, storage.EmbeddedConfig{DataDir: dir})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	_, cidr, _ := net.ParseCIDR(testCIDR)
	e := &env{s: emb.Storage(), stores: map[string]*store.Store{}}
	e.close = func() {
		cancel()
		_ = emb.Close()
	}
	cfg := store.Config{Storage: e.s, Namespaces: e.checkNamespace}
	for _, r := range all.Resources(core.Options{ServiceCIDR: cidr, NodePortMin: 30000, NodePortMax: 32767}) {
		if r.Conversion != nil || e.stores[r.Resource] != nil {
			continue
		}
		st := store.New(r, cfg)
		e.stores[r.Resource] = st
		go func() { _ = st.Run(ctx) }()
	}
	for _, st := range e.stores {
		select {
		case <-st.Cache().Ready():
		case <-time.After(60 * time.Second):
			e.close()
			return nil, errors.New("watch caches not ready after 60s")
		}
	}
	return e, nil
}

func (e *env) checkNamespace(ctx context.Context, ns string, _ schema.GroupResource, _ string) error {
	_, err := e.stores["namespaces"].Get(ctx, "", ns, store.GetOptions{})
	return err
}

// namespace creates a fresh namespace for one test.
func (e *env) namespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e6, nsCounter.Add(1))
	_, err := e.stores["namespaces"].Create(context.Background(), "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, store.WriteOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

func (e *env) st(resource string) *store.Store { return e.stores[resource] }

// ctx returns a context that ends with the test, with a generous deadline
// so a hung store call fails the test instead of the whole binary.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func cm(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

func pod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func rvOf(t *testing.T, obj runtime.Object) string {
	t.Helper()
	return metaOf(t, obj).GetResourceVersion()
}

func metaOf(t *testing.T, obj runtime.Object) metav1.Object {
	t.Helper()
	acc, ok := obj.(metav1.Object)
	if !ok {
		t.Fatalf("%T has no metadata", obj)
	}
	return acc
}

// wantCode fails unless err is an API status error with the given code.
func wantCode(t *testing.T, err error, code int32) *apierrors.StatusError {
	t.Helper()
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("want API status %d, got %T %v", code, err, err)
	}
	if se.ErrStatus.Code != code {
		t.Fatalf("want code %d, got %d: %v", code, se.ErrStatus.Code, err)
	}
	return se
}

// setData is an unconditional UpdateFunc that sets one configmap key. The
// store treats the resourceVersion of fn's result as a precondition, and
// the current object carries one, so it is cleared here.
func setData(k, v string) store.UpdateFunc {
	return func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		c := cur.(*corev1.ConfigMap)
		c.ResourceVersion = ""
		if c.Data == nil {
			c.Data = map[string]string{}
		}
		c.Data[k] = v
		return c, nil
	}
}

// mustGone polls until name is gone from the store (a consistent Get).
func mustGone(t *testing.T, st *store.Store, ns, name string) {
	t.Helper()
	_, err := st.Get(ctx(t), ns, name, store.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("%s/%s: want NotFound, got %v", ns, name, err)
	}
}
