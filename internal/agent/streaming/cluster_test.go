package streaming_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent"
	"github.com/navarch/navarch/internal/agent/cni"
	"github.com/navarch/navarch/internal/agent/containerd"
	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/images"
	"github.com/navarch/navarch/internal/agent/join"
	"github.com/navarch/navarch/internal/pki"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const kubectlPath = "/usr/bin/kubectl"

// cluster is an API server and one real node agent (containerd, CNI),
// everything on loopback and on a bridge of the test's own.
type cluster struct {
	env        *testserver.Env
	dir        string
	kubeconfig string
	log        *slog.Logger
}

func requireCluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: runs containers through a real agent")
	}
	if os.Geteuid() != 0 {
		t.Skip("running containers needs root")
	}
	for _, b := range []string{"containerd", "runc", "ctr"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (make deps installs it)", b)
		}
	}
	for _, p := range []string{"/usr/lib/cni/bridge", "/bin/busybox", kubectlPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing", p)
		}
	}
}

// startCluster registers node n1 and waits for it to be Ready, with the
// busybox image imported.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	requireCluster(t)
	ctx := context.Background()
	env := testserver.Start(t)
	c := &cluster{env: env, dir: t.TempDir(), kubeconfig: filepath.Join(env.DataDir, "kubeconfig.yaml"), log: slog.New(slog.DiscardHandler)}
	if os.Getenv("NAVARCH_TEST_LOG") != "" {
		c.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ca, err := pki.EnsureCA(filepath.Join(env.DataDir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	// The node's address is loopback so that the API server reaches the
	// agent without leaving the machine.
	lo := net.IPv4(127, 0, 0, 1)
	creds, err := join.Ensure(ctx, filepath.Join(c.dir, "pki"), join.Identity{NodeName: "n1", DNSNames: []string{"n1"}, IPs: []net.IP{lo}},
		func(_ context.Context, req join.Request) (*join.Response, error) {
			return join.Sign(join.CA{Cert: ca.Cert, Key: ca.Key, CertPEM: ca.CertPEM}, req)
		})
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithCancel(ctx)
	ready, done, errc := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		defer close(done)
		errc <- agent.Run(actx, agent.Options{NodeName: "n1", DataDir: c.dir, RestConfig: creds.RestConfig(env.Server.URL),
			Credentials: creds, PodCIDR: freeCIDR(t), NodeIP: lo, KubeletAddress: "127.0.0.1", Ready: ready, Logger: c.log})
	}()
	t.Cleanup(func() { c.teardown(cancel, done) })
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("agent: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("agent did not start")
	}
	bb, err := images.BusyboxImage("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := images.ImportImages(ctx, c.socket(), c.dir, map[string]v1.Image{images.BusyboxRef: bb}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 30*time.Second, "node n1 Ready", func() (bool, error) {
		n, err := env.Client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
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
	return c
}

func (c *cluster) socket() string { return filepath.Join(c.dir, "containerd", "containerd.sock") }

// freeCIDR picks a /24 that no interface on the machine is in.
func freeCIDR(t *testing.T) string {
	t.Helper()
	cidr, ok := cni.FreeCIDR()
	if !ok {
		t.Fatal("no free /24 for pods")
	}
	return cidr
}

// teardown deletes the pods through the API so that the agent removes
// them, stops the agent, then sweeps whatever is left with a bare
// containerd on the same state, unmounts and deletes the bridge.
func (c *cluster) teardown(cancel context.CancelFunc, done <-chan struct{}) {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	zero := int64(0)
	pods := c.env.Client.CoreV1().Pods("default")
	_ = pods.DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	for ctx.Err() == nil {
		if l, err := pods.List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-done
	c.sweep()
}

// sweep removes every sandbox left in the agent's containerd state, then
// unmounts what is left under the data dir and deletes the bridge.
func (c *cluster) sweep() {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if sup, err := containerd.Start(ctx, containerd.Config{Dir: filepath.Join(c.dir, "containerd"), SandboxImage: images.PauseRef,
		CNIBinDir: "/usr/lib/cni", CNIConfDir: filepath.Join(c.dir, "cni", "net.d")}, c.log); err == nil {
		if rt, err := cri.Dial(sup.Socket()); err == nil {
			if sbs, err := rt.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{}); err == nil {
				for _, sb := range sbs.Items {
					_, _ = rt.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id})
					_, _ = rt.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id})
				}
			}
			rt.Close()
		}
		sup.Stop()
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		var points []string
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], c.dir+"/") {
				points = append(points, f[4])
			}
		}
		for i := len(points) - 1; i >= 0; i-- {
			_ = syscall.Unmount(points[i], syscall.MNT_DETACH)
		}
	}
	_ = exec.Command("ip", "link", "delete", cni.BridgeName(c.dir)).Run()
}

// pod creates a pod on n1 and waits until it runs.
func (c *cluster) pod(t *testing.T, p *corev1.Pod, wait func(*corev1.Pod) bool) {
	t.Helper()
	p.Spec.NodeName = "n1"
	grace := int64(1)
	p.Spec.TerminationGracePeriodSeconds = &grace
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Image = "busybox"
		p.Spec.Containers[i].ImagePullPolicy = corev1.PullIfNotPresent
	}
	ctx := context.Background()
	if _, err := c.env.Client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 30*time.Second, "pod "+p.Name, func() (bool, error) {
		got, err := c.env.Client.CoreV1().Pods("default").Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return wait(got), fmt.Errorf("phase %s, statuses %+v", got.Status.Phase, got.Status.ContainerStatuses)
	})
}

func isRunning(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].State.Running != nil
}

// kubectl runs the real kubectl; env adds variables (protocol switches).
type kubectl struct {
	c   *cluster
	env []string
}

type result struct {
	stdout, stderr string
	code           int
}

func (k kubectl) cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, kubectlPath, append([]string{"--kubeconfig", k.c.kubeconfig,
		"--cache-dir", filepath.Join(k.c.dir, "kubectl-cache")}, args...)...)
	cmd.Env = append(os.Environ(), k.env...)
	return cmd
}

func (k kubectl) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := k.cmd(ctx, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kubectl %v: %v", args, err)
	}
	return r
}

// ok runs kubectl and requires success.
func (k kubectl) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := k.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("kubectl %v: exit %d: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

// lineReader hands out a command's output lines until a deadline.
func lineReader(t *testing.T, r io.Reader) func(timeout time.Duration) (string, bool) {
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 4096)
		for {
			n, err := r.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := strings.IndexByte(string(buf), '\n')
				if i < 0 {
					break
				}
				lines <- string(buf[:i])
				buf = buf[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	return func(timeout time.Duration) (string, bool) {
		select {
		case l, ok := <-lines:
			return l, ok
		case <-time.After(timeout):
			return "", false
		}
	}
}
