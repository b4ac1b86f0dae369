package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// running is a server started by a test, with what it takes to stop it.
type running struct {
	s      *Server
	cancel context.CancelFunc
}

func (r *running) stop() {
	r.cancel()
	r.s.Stop()
}

// testOptions are small-cluster options on the given port and data dir.
func testOptions(dir string, port int) Options {
	o := DefaultOptions()
	o.DataDir = dir
	o.BindAddress = "127.0.0.1"
	o.Port = port
	return o
}

// freePort asks the kernel for a port that is free right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer starts a server and registers its stop with t.Cleanup
// unless the caller stops it first (stop is idempotent via the returned
// func).
func startServer(t testing.TB, opts Options) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var s *Server
	var err error
	// The port may still be held for a moment by the previous server's
	// listener teardown; retry briefly rather than sleeping a fixed time.
	deadline := time.Now().Add(15 * time.Second)
	for {
		s, err = Start(ctx, opts, slog.New(slog.DiscardHandler))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	return &running{s: s, cancel: cancel}
}

// clientset builds a fast (no client-side throttling) clientset from the
// server's admin kubeconfig. It speaks protobuf, as client-go does by
// default for built-in types.
func clientset(t testing.TB, s *Server) *kubernetes.Clientset {
	t.Helper()
	return clientsetAs(t, s, "")
}

// jsonClientset sends JSON bodies, as kubectl does.
func jsonClientset(t testing.TB, s *Server) *kubernetes.Clientset {
	t.Helper()
	return clientsetAs(t, s, "application/json")
}

func clientsetAs(t testing.TB, s *Server, contentType string) *kubernetes.Clientset {
	t.Helper()
	return clientsetLogged(t, s, contentType, nil)
}

// requestLog records the method and URL of every request a client sends.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) RoundTrip(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.Method+" "+r.URL.RequestURI())
		l.mu.Unlock()
		return next.RoundTrip(r)
	})
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func clientsetLogged(t testing.TB, s *Server, contentType string, log *requestLog) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	if log != nil {
		cfg.WrapTransport = log.RoundTrip
	}
	cfg.ContentType = contentType
	cfg.QPS, cfg.Burst = 1000, 1000
	cfg.Timeout = 30 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("clientset: %v", err)
	}
	return cs
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = cond(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyz returns nil once /readyz answers 200 "ok".
func readyz(ctx context.Context, cs *kubernetes.Clientset) error {
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("readyz: %w", err)
	}
	if string(body) != "ok" {
		return fmt.Errorf("readyz body %q", body)
	}
	return nil
}
