package agent_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/agent"
	"github.com/navarch/navarch/internal/agent/images"
	"github.com/navarch/navarch/internal/agent/join"
	"github.com/navarch/navarch/internal/agent/node"
	"github.com/navarch/navarch/internal/pki"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

// requireRuntime skips when this machine cannot run containers.
func requireRuntime(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: runs containers through containerd")
	}
	if os.Geteuid() != 0 {
		t.Skip("running containers needs root")
	}
	for _, p := range []string{"containerd", "runc", "ctr"} {
		if _, err := exec.LookPath(p); err != nil {
			if _, err := os.Stat("/usr/sbin/" + p); err != nil {
				t.Skipf("%s not installed (make deps installs containerd and runc): %v", p, err)
			}
		}
	}
	for _, p := range []string{"/usr/lib/cni/bridge", "/bin/busybox"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing (make deps installs containernetworking-plugins and busybox-static)", p)
		}
	}
}

// cluster is an API server with one real agent.
type cluster struct {
	t      *testing.T
	env    *testserver.Env
	client kubernetes.Interface
	dir    string
	name   string
	cidr   string
	opts   agent.Options
	cancel context.CancelFunc
	done   chan struct{}
	log    *slog.Logger
}

var cidrMu sync.Mutex
var usedCIDRs = map[string]bool{}

// freeCIDR picks a /24 no interface on the machine uses, so that test
// bridges never clash with real networks or with each other.
func freeCIDR(t *testing.T) string {
	cidrMu.Lock()
	defer cidrMu.Unlock()
	addrs, _ := net.InterfaceAddrs()
	for range 1000 {
		cidr := fmt.Sprintf("10.%d.%d.0/24", 200+rand.IntN(50), rand.IntN(256))
		_, n, _ := net.ParseCIDR(cidr)
		clash := usedCIDRs[cidr]
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (n.Contains(ipn.IP) || ipn.Contains(n.IP)) {
				clash = true
			}
		}
		if !clash {
			usedCIDRs[cidr] = true
			return cidr
		}
	}
	t.Fatal("no free /24 for pods")
	return ""
}

func testLogger() *slog.Logger {
	if os.Getenv("NAVARCH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startCluster starts an API server and an agent for node "n1" with the
// busybox image imported.
func startCluster(t *testing.T, mutate ...func(*agent.Options)) *cluster {
	t.Helper()
	requireRuntime(t)
	env := testserver.Start(t)
	c := &cluster{t: t, env: env, client: env.Client, dir: t.TempDir(), name: "n1", cidr: freeCIDR(t), log: testLogger()}
	ca, err := pki.EnsureCA(filepath.Join(env.DataDir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	ip := node.DefaultNodeIP()
	id := join.Identity{NodeName: c.name, DNSNames: []string{c.name}, IPs: []net.IP{ip, net.IPv4(127, 0, 0, 1)}}
	creds, err := join.Ensure(context.Background(), filepath.Join(c.dir, "pki"), id, func(_ context.Context, req join.Request) (*join.Response, error) {
		return join.Sign(join.CA{Cert: ca.Cert, Key: ca.Key, CertPEM: ca.CertPEM}, req)
	})
	if err != nil {
		t.Fatal(err)
	}
	c.opts = agent.Options{NodeName: c.name, DataDir: c.dir, RestConfig: creds.RestConfig(env.Server.URL), Credentials: creds,
		PodCIDR: c.cidr, NodeIP: ip, KubeletAddress: "127.0.0.1", Logger: c.log}
	for _, m := range mutate {
		m(&c.opts)
	}
	c.startAgent()
	t.Cleanup(c.teardown)
	img, err := images.BusyboxImage("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := images.ImportImages(context.Background(), c.socket(), c.dir, map[string]v1.Image{images.BusyboxRef: img}); err != nil {
		t.Fatal(err)
	}
	c.waitReady()
	return c
}

func (c *cluster) socket() string { return filepath.Join(c.dir, "containerd", "containerd.sock") }

// startAgent runs the agent in the background until stopAgent.
func (c *cluster) startAgent() {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	opts := c.opts
	opts.Ready = ready
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(done)
		errc <- agent.Run(ctx, opts)
	}()
	select {
	case <-ready:
	case err := <-errc:
		cancel()
		c.t.Fatalf("agent: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		c.t.Fatal("agent did not start")
	}
	c.cancel, c.done = cancel, done
}

func (c *cluster) stopAgent() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
	c.cancel = nil
}

// waitReady waits for the Node to be Ready.
func (c *cluster) waitReady() {
	c.t.Helper()
	testserver.Eventually(c.t, 30*time.Second, "node Ready", func() (bool, error) {
		n, err := c.client.CoreV1().Nodes().Get(context.Background(), c.name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				return cond.Status == corev1.ConditionTrue, fmt.Errorf("%s: %s", cond.Reason, cond.Message)
			}
		}
		return false, nil
	})
}

// teardown stops the agent, then removes every sandbox (and so every
// container) through a bare containerd on the same state, so that nothing
// outlives the test; then it unmounts what is left under the data dir.
func (c *cluster) teardown() {
	c.stopAgent()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := agent.RemoveAllPods(ctx, c.dir, c.log); err != nil {
		c.t.Errorf("remove the test's pods: %v", err)
	}
	unmountAll(c.dir)
}

func unmountAll(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		_ = syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

// namespace creates a namespace for one test.
func (c *cluster) namespace(name string) string {
	c.t.Helper()
	return c.env.Namespace(c.t, name)
}

// pod creates a pod bound to the node.
func (c *cluster) pod(t *testing.T, ns string, p *corev1.Pod) *corev1.Pod {
	t.Helper()
	p.Spec.NodeName = c.name
	if p.Spec.TerminationGracePeriodSeconds == nil {
		g := int64(2)
		p.Spec.TerminationGracePeriodSeconds = &g
	}
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Image == "" {
			p.Spec.Containers[i].Image = "busybox"
		}
		if p.Spec.Containers[i].ImagePullPolicy == "" {
			p.Spec.Containers[i].ImagePullPolicy = corev1.PullIfNotPresent
		}
	}
	for i := range p.Spec.InitContainers {
		if p.Spec.InitContainers[i].Image == "" {
			p.Spec.InitContainers[i].Image = "busybox"
		}
		if p.Spec.InitContainers[i].ImagePullPolicy == "" {
			p.Spec.InitContainers[i].ImagePullPolicy = corev1.PullIfNotPresent
		}
	}
	out, err := c.client.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s: %v", p.Name, err)
	}
	return out
}

// waitPod polls the pod until cond holds.
func (c *cluster) waitPod(t *testing.T, ns, name string, timeout time.Duration, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	testserver.Eventually(t, timeout, name+": "+what, func() (bool, error) {
		p, err := c.client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = p
		if cond(p) {
			return true, nil
		}
		return false, fmt.Errorf("phase %s, status %s", p.Status.Phase, brief(p))
	})
	return last
}

func running(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning && ready(p) }

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// brief summarises container states for failure messages.
func brief(p *corev1.Pod) string {
	var b strings.Builder
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			fmt.Fprintf(&b, "[%s restarts=%d ready=%v ", cs.Name, cs.RestartCount, cs.Ready)
			switch {
			case cs.State.Waiting != nil:
				fmt.Fprintf(&b, "waiting %s: %s", cs.State.Waiting.Reason, cs.State.Waiting.Message)
			case cs.State.Running != nil:
				b.WriteString("running")
			case cs.State.Terminated != nil:
				fmt.Fprintf(&b, "terminated %s exit %d", cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
			}
			b.WriteString("] ")
		}
	}
	return b.String()
}

func sh(script string) []string { return []string{"sh", "-c", script} }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// first is the pod's first app container status (zero before any).
func first(p *corev1.Pod) corev1.ContainerStatus {
	if len(p.Status.ContainerStatuses) == 0 {
		return corev1.ContainerStatus{}
	}
	return p.Status.ContainerStatuses[0]
}

func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }
