package server

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// recorder keeps what an informer's handler saw.
type recorder struct {
	mu      sync.Mutex
	added   map[string]bool
	deleted map[string]bool
	rvs     map[string]map[string]bool // name -> every resourceVersion seen
}

func newRecorder() *recorder {
	return &recorder{added: map[string]bool{}, deleted: map[string]bool{}, rvs: map[string]map[string]bool{}}
}

func (r *recorder) saw(obj any) {
	c, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return
	}
	if r.rvs[c.Name] == nil {
		r.rvs[c.Name] = map[string]bool{}
	}
	r.rvs[c.Name][c.ResourceVersion] = true
}

func (r *recorder) handler() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.added[obj.(*corev1.ConfigMap).Name] = true
			r.saw(obj)
		},
		UpdateFunc: func(_, obj any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.saw(obj)
		},
		DeleteFunc: func(obj any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if c, ok := obj.(*corev1.ConfigMap); ok {
				r.deleted[c.Name] = true
			}
		},
	}
}

// state maps name to resourceVersion.
type state map[string]string

func serverState(ctx context.Context, cs *kubernetes.Clientset, ns string) (state, error) {
	list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := state{}
	for _, c := range list.Items {
		out[c.Name] = c.ResourceVersion
	}
	return out, nil
}

func informerState(inf cache.SharedIndexInformer) state {
	out := state{}
	for _, o := range inf.GetStore().List() {
		c := o.(*corev1.ConfigMap)
		out[c.Name] = c.ResourceVersion
	}
	return out
}

// changes applies a batch of creates, updates and deletes, by index.
type changes struct {
	create, update, delete []int
}

// Deletes go through del: see TestClientGoProtobufDelete.
func (c changes) apply(ctx context.Context, t *testing.T, cs, del *kubernetes.Clientset, ns, round string) {
	t.Helper()
	api := cs.CoreV1().ConfigMaps(ns)
	for _, i := range c.create {
		obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%02d", i)}, Data: map[string]string{"v": round}}
		if _, err := api.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create cm-%02d: %v", i, err)
		}
	}
	for _, i := range c.update {
		name := fmt.Sprintf("cm-%02d", i)
		cur, err := api.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		cur.Data = map[string]string{"v": round + "-updated"}
		if _, err := api.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update %s: %v", name, err)
		}
	}
	for _, i := range c.delete {
		if err := del.CoreV1().ConfigMaps(ns).Delete(ctx, fmt.Sprintf("cm-%02d", i), metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete cm-%02d: %v", i, err)
		}
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestInformerAcrossRestart runs a client-go informer (watch-list by
// default) against the server, restarts the server on the same data dir
// and port, and checks that the informer converges and missed nothing.
func TestInformerAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server twice")
	}
	dir, port := t.TempDir(), freePort(t)
	srv := startServer(t, testOptions(dir, port))
	defer func() { srv.stop() }()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := clientset(t, srv.s)
	const ns = "informer-test"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("namespace: %v", err)
	}

	rec := newRecorder()
	reqs := &requestLog{}
	factory := informers.NewSharedInformerFactoryWithOptions(clientsetLogged(t, srv.s, "", reqs), 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().ConfigMaps().Informer()
	if _, err := inf.AddEventHandler(rec.handler()); err != nil {
		t.Fatal(err)
	}
	stopCh := make(chan struct{})
	defer func() {
		close(stopCh)
		factory.Shutdown()
	}()
	factory.Start(stopCh)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}

	jcs := jsonClientset(t, srv.s)
	changes{create: seq(0, 20), update: seq(0, 10), delete: seq(15, 20)}.apply(ctx, t, cs, jcs, ns, "one")
	converge(ctx, t, cs, inf, ns)

	srv.stop()
	srv = startServer(t, testOptions(dir, port))
	// The old clientset keeps working: same CA, same port, same admin cert.
	changes{create: seq(20, 25), update: seq(5, 10), delete: seq(10, 15)}.apply(ctx, t, cs, jcs, ns, "two")
	final := converge(ctx, t, cs, inf, ns)

	checkWatchList(t, reqs.all())
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, i := range seq(0, 25) {
		if name := fmt.Sprintf("cm-%02d", i); !rec.added[name] {
			t.Errorf("handler never saw %s added", name)
		}
	}
	for _, i := range seq(10, 20) {
		if name := fmt.Sprintf("cm-%02d", i); !rec.deleted[name] {
			t.Errorf("handler never saw %s deleted", name)
		}
	}
	for name, rv := range final {
		if !rec.rvs[name][rv] {
			t.Errorf("handler never saw %s at its final resourceVersion %s (saw %v)", name, rv, slices.Sorted(maps.Keys(rec.rvs[name])))
		}
	}
}

// checkWatchList asserts that the informer synced with the watch-list
// protocol and never had to fall back to a plain LIST.
func checkWatchList(t *testing.T, reqs []string) {
	t.Helper()
	watchList := false
	for _, r := range reqs {
		u, err := url.ParseRequestURI(strings.TrimPrefix(r, "GET "))
		if err != nil {
			continue
		}
		q := u.Query()
		switch {
		case q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
			watchList = true
		case q.Get("watch") != "true":
			t.Errorf("informer fell back to a LIST: %s", r)
		}
	}
	if !watchList {
		t.Errorf("informer never used watch-list (sendInitialEvents=true); requests: %v", reqs)
	}
}

// converge waits until the informer's store equals the server's list and
// returns that state.
func converge(ctx context.Context, t *testing.T, cs *kubernetes.Clientset, inf cache.SharedIndexInformer, ns string) state {
	t.Helper()
	var want state
	eventually(t, 60*time.Second, "informer converges", func() error {
		var err error
		if want, err = serverState(ctx, cs, ns); err != nil {
			return err
		}
		if got := informerState(inf); !maps.Equal(got, want) {
			return fmt.Errorf("informer %v\nserver %v", got, want)
		}
		return nil
	})
	return want
}

// TestClientGoProtobufDelete: client-go's typed clients send the
// DeleteOptions body as protobuf by default.
func TestClientGoProtobufDelete(t *testing.T) {
	srv := startServer(t, testOptions(t.TempDir(), freePort(t)))
	defer srv.stop()
	cs := clientset(t, srv.s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api := cs.CoreV1().ConfigMaps(metav1.NamespaceDefault)
	if _, err := api.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	grace := int64(0)
	if err := api.Delete(ctx, "x", metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		t.Fatalf("protobuf delete: %v", err)
	}
	if _, err := api.Get(ctx, "x", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after delete: want NotFound, got %v", err)
	}
}

// TestReadyzAfterStart: Start returns only once the server is ready, so
// /readyz must answer ok at once.
func TestReadyzAfterStart(t *testing.T) {
	begin := time.Now()
	srv := startServer(t, testOptions(t.TempDir(), freePort(t)))
	defer srv.stop()
	cs := clientset(t, srv.s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := readyz(ctx, cs); err != nil {
		t.Fatalf("/readyz right after Start: %v", err)
	}
	if took := time.Since(begin); took > 20*time.Second {
		t.Errorf("start to ready took %v", took)
	}
	t.Logf("start to ready: %v", time.Since(begin))
	for _, name := range systemNamespaces {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("bootstrap namespace %s: %v", name, err)
		}
	}
}

// BenchmarkStartup measures Start to a ready /readyz, both for a fresh
// data dir (certificates and etcd created) and a restart on existing data.
func BenchmarkStartup(b *testing.B) {
	for _, fresh := range []bool{true, false} {
		name := map[bool]string{true: "fresh", false: "restart"}[fresh]
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			if !fresh {
				startServer(b, testOptions(dir, freePort(b))).stop()
			}
			b.ResetTimer()
			for range b.N {
				if fresh {
					b.StopTimer()
					dir = b.TempDir()
					b.StartTimer()
				}
				srv := startServer(b, testOptions(dir, freePort(b)))
				cs := clientset(b, srv.s)
				if err := readyz(context.Background(), cs); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				srv.stop()
				b.StartTimer()
			}
		})
	}
}
