// Package testserver starts a real navarch API server (embedded etcd in
// t.TempDir()) for integration tests, and builds the clients and the
// controller.Context that controllers, the scheduler and hollow nodes use.
// Test support only: nothing outside _test.go files may import it.
package testserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/manager"
	"github.com/navarch/navarch/internal/server"
)

// Env is a running server and clients for it.
type Env struct {
	Server *server.Server
	Config *rest.Config
	Client kubernetes.Interface
	// DataDir and Port allow a restart on the same state.
	DataDir string
	Port    int
	cancel  context.CancelFunc
	opts    []Option
}

// Option changes the server's options before it starts.
type Option func(*server.Options)

// WithControllers runs the named controllers of the manager in the server
// (by default a test server runs none: tests start the unit under test).
func WithControllers(names ...string) Option {
	return func(o *server.Options) {
		o.DisableControllers = nil
		if len(names) > 0 {
			o.DisableControllers = except(names)
		}
	}
}

// WithScheduler runs the in-process scheduler.
func WithScheduler() Option { return func(o *server.Options) { o.DisableScheduler = false } }

// WithOptions applies any change to the options.
func WithOptions(f func(*server.Options)) Option { return Option(f) }

// Start runs a server until the test ends. It skips under -short. By
// default it runs the API only: no controllers, scheduler or agent.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts navarch with embedded etcd")
	}
	e := &Env{DataDir: t.TempDir(), Port: freePort(t), opts: opts}
	e.start(t)
	t.Cleanup(e.Stop)
	return e
}

func (e *Env) start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts := server.DefaultOptions()
	opts.DataDir, opts.Port, opts.BindAddress = e.DataDir, e.Port, "127.0.0.1"
	opts.DisableControllers = []string{"*"}
	opts.DisableScheduler, opts.DisableAgent = true, true
	for _, o := range e.opts {
		o(&opts)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("NAVARCH_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := server.Start(ctx, opts, log)
	if err != nil {
		cancel()
		t.Fatalf("start navarch: %v", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	e.Server, e.Config, e.cancel = s, cfg, cancel
	e.Client = kubernetes.NewForConfigOrDie(cfg)
}

// Stop stops the server (idempotent).
func (e *Env) Stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.Server.Stop()
	e.cancel = nil
}

// Restart stops the server and starts it again on the same data dir.
func (e *Env) Restart(t testing.TB) {
	t.Helper()
	e.Stop()
	e.start(t)
}

// Namespace creates a namespace for one test.
func (e *Env) Namespace(t testing.TB, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := e.Client.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

// ControllerContext builds a controller.Context on the server, with its
// informers started when the returned start function is called (after the
// controllers registered their handlers).
func (e *Env) ControllerContext(t testing.TB, ctx context.Context) (controller.Context, func()) {
	t.Helper()
	f := informers.NewSharedInformerFactory(e.Client, 0)
	md := metadata.NewForConfigOrDie(e.Config)
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&eventSink{c: e.Client})
	cc := controller.Context{
		Client: e.Client, Informers: f, Metadata: md,
		Recorder: func(component string) record.EventRecorder {
			return b.NewRecorder(scheme(), corev1.EventSource{Component: component})
		},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Options: controller.DefaultOptions(),
	}
	t.Cleanup(b.Shutdown)
	return cc, func() { f.Start(ctx.Done()) }
}

// Eventually polls cond until it returns true or the deadline passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		time.Sleep(20 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, last)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// except lists every known controller but names, for DisableControllers.
func except(names []string) []string {
	var out []string
	for _, n := range manager.Names() {
		if !slices.Contains(names, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		// Nothing to disable; a non-nil empty list would still be "none".
		return nil
	}
	return out
}
