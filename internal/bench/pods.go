package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/agent"
	"github.com/navarch/navarch/internal/agent/cni"
	"github.com/navarch/navarch/internal/agent/join"
)

// PodsOptions configure `navarch bench pods`.
type PodsOptions struct {
	// Binary is the navarch executable (default: this one).
	Binary string
	// Burst is how many pods are created at once for the latency figures;
	// Sustained how many more are then created to measure the start rate.
	Burst, Sustained int
	Out              io.Writer
}

const podsNS = "bench-pods"

// Pods starts a server (API only) and a real node agent joined to it, and
// measures pod start-up on that node: latency from the create request to
// Running seen through a watch (image present), the sustained start rate,
// and the memory of the agent and of its containerd.
func Pods(ctx context.Context, o PodsOptions) error {
	if os.Geteuid() != 0 {
		return errors.New("bench pods runs containers: it needs root")
	}
	srv, err := startPodsServer(ctx, o)
	if err != nil {
		return err
	}
	defer srv.stop()
	ag, err := startAgent(ctx, o, srv)
	if err != nil {
		return err
	}
	defer ag.stop()
	cs := srv.clients
	if err := waitNodeReady(ctx, cs, ag.node); err != nil {
		return fmt.Errorf("%w (agent log: %s)", err, ag.logPath)
	}
	if out, err := exec.CommandContext(ctx, o.Binary, "images", "busybox", "--data-dir", ag.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("import busybox: %v: %s", err, out)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: podsNS}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	// A first pod unpacks the image's snapshot; the figures exclude that.
	if _, err := startPods(ctx, cs, ag.node, "warmup", 1); err != nil {
		return fmt.Errorf("warm-up pod: %w", err)
	}
	cpu0 := ag.cpu(srv)
	lat, err := startPods(ctx, cs, ag.node, "burst", o.Burst)
	if err != nil {
		return err
	}
	cpu1 := ag.cpu(srv)
	fmt.Fprintf(o.Out, "%d pods created at once, create -> Running (watch):\n", o.Burst)
	fmt.Fprintf(o.Out, "  p50 %s   p99 %s   max %s\n", ms(lat.pct(0.5)), ms(lat.pct(0.99)), ms(lat.pct(1)))
	fmt.Fprintf(o.Out, "  CPU per pod start: %s\n", cpu1.sub(cpu0).per(o.Burst))
	time.Sleep(3 * time.Second) // let start-up garbage go before sampling memory
	fmt.Fprintf(o.Out, "with %d pods running:\n", o.Burst+1)
	if rss, err := rssOf(ag.cmd.Process.Pid); err == nil {
		anon, _ := statusField(ag.cmd.Process.Pid, "RssAnon:")
		file, _ := statusField(ag.cmd.Process.Pid, "RssFile:")
		// File-backed pages are the navarch binary's, shared with the
		// server's process; PSS charges each process its share.
		pss, _ := procField(fmt.Sprintf("/proc/%d/smaps_rollup", ag.cmd.Process.Pid), "Pss:")
		fmt.Fprintf(o.Out, "  agent RSS       %.1f MiB (anonymous %.1f, file-backed %.1f; PSS %.1f)\n",
			float64(rss)/(1<<20), float64(anon)/(1<<20), float64(file)/(1<<20), float64(pss)/(1<<20))
	}
	if pid, err := ag.containerdPid(); err == nil {
		if rss, err := rssOf(pid); err == nil {
			fmt.Fprintf(o.Out, "  containerd RSS  %.1f MiB (its %d shims not counted)\n", float64(rss)/(1<<20), o.Burst+1)
		}
	}
	if o.Sustained > 0 {
		start := time.Now()
		lat, err := startPods(ctx, cs, ag.node, "sustained", o.Sustained)
		if err != nil {
			return err
		}
		took := time.Since(start)
		fmt.Fprintf(o.Out, "%d more pods: all Running after %s: %.1f starts/s (p50 %s, p99 %s)\n",
			o.Sustained, took.Round(time.Millisecond), float64(o.Sustained)/took.Seconds(), ms(lat.pct(0.5)), ms(lat.pct(0.99)))
	}
	return nil
}

// startPods creates n pods bound to node concurrently and returns, for
// each, the time from sending its create to seeing it Running in a watch.
func startPods(ctx context.Context, cs kubernetes.Interface, node, prefix string, n int) (latencies, error) {
	pods := cs.CoreV1().Pods(podsNS)
	w, err := pods.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			name := fmt.Sprintf("%s-%03d", prefix, i)
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
				NodeName: node, TerminationGracePeriodSeconds: ptr.To(int64(0)),
				Containers: []corev1.Container{{Name: "app", Image: "busybox", ImagePullPolicy: corev1.PullIfNotPresent, Command: []string{"sleep", "3600"}}},
			}}
			mu.Lock()
			sent[name] = time.Now()
			mu.Unlock()
			_, err := pods.Create(ctx, p, metav1.CreateOptions{})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			return nil, fmt.Errorf("create pod: %w", err)
		}
	}
	var lat latencies
	seen := map[string]bool{}
	timeout := time.After(5 * time.Minute)
	for len(lat) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil, errors.New("watch closed")
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if !isPod || ev.Type == watch.Deleted || p.Status.Phase != corev1.PodRunning || seen[p.Name] {
				continue
			}
			mu.Lock()
			t, ours := sent[p.Name]
			mu.Unlock()
			if ours {
				seen[p.Name] = true
				lat = append(lat, time.Since(t))
			}
		case <-timeout:
			return nil, fmt.Errorf("only %d of %d pods Running after 5 minutes", len(lat), n)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return lat, nil
}

func waitNodeReady(ctx context.Context, cs kubernetes.Interface, node string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err == nil {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("node %s not Ready within 60s", node)
}

// startPodsServer runs the API server alone: the pods are bound by the
// benchmark, so no scheduler or controllers are needed.
func startPodsServer(ctx context.Context, o PodsOptions) (*child, error) {
	dir, err := os.MkdirTemp("", "navarch-bench-pods-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &child{dir: dir, url: "https://127.0.0.1:" + strconv.Itoa(port)}
	c.cmd = exec.CommandContext(ctx, o.Binary, "server", "--data-dir", dir, "--secure-port", strconv.Itoa(port), "--bind-address", "127.0.0.1",
		"--log-level", "warn", "--disable-controllers=*", "--disable-scheduler", "--disable-agent")
	c.cmd.Stderr = os.Stderr
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.stop()
		return nil, err
	}
	return c, c.connect(Options{ContentType: "application/vnd.kubernetes.protobuf"})
}

// agentChild is a `navarch agent` joined to the benchmark's server.
type agentChild struct {
	cmd     *exec.Cmd
	dir     string
	node    string
	logPath string
	done    chan struct{}
}

// startAgent joins an agent the way a user does: the token file and the
// CA pin the server prints.
func startAgent(ctx context.Context, o PodsOptions, srv *child) (*agentChild, error) {
	caPEM, err := os.ReadFile(filepath.Join(srv.dir, "pki", "ca.crt"))
	if err != nil {
		return nil, err
	}
	pin, err := join.CAHash(caPEM)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "navarch-bench-agent-")
	if err != nil {
		return nil, err
	}
	a := &agentChild{dir: dir, node: "bench-node", logPath: filepath.Join(dir, "agent.log"), done: make(chan struct{})}
	logf, err := os.Create(a.logPath)
	if err != nil {
		return nil, err
	}
	a.cmd = exec.CommandContext(ctx, o.Binary, "agent", "--server", srv.url, "--token-file", filepath.Join(srv.dir, "pki", "token"),
		"--ca-cert-hash", pin, "--data-dir", dir, "--node-name", a.node, "--node-ip", "127.0.0.1", "--address", "127.0.0.1",
		"--kubelet-port", "0", "--pod-cidr", benchCIDR(), "--stop-pods-on-exit", "--log-level", "warn")
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	a.cmd.Cancel = func() error { return a.cmd.Process.Signal(syscall.SIGTERM) }
	if err := a.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() {
		_ = a.cmd.Wait()
		logf.Close()
		close(a.done)
	}()
	return a, nil
}

func (a *agentChild) containerdPid() (int, error) {
	b, err := os.ReadFile(filepath.Join(a.dir, "containerd", "containerd.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// stop ends the agent, which takes its pods down with it.
func (a *agentChild) stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
	// Whatever the agent did not take down goes now: the data dir must
	// not be removed under running containers.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := agent.RemoveAllPods(ctx, a.dir, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		fmt.Fprintf(os.Stderr, "bench: could not remove the node's pods (%v); leaving %s\n", err, a.dir)
		return
	}
	_ = os.RemoveAll(a.dir)
}

// benchCIDR is a /24 no interface on the machine is in.
func benchCIDR() string {
	if cidr, ok := cni.FreeCIDR(); ok {
		return cidr
	}
	return "10.254.254.0/24"
}

func rssOf(pid int) (int64, error) { return statusField(pid, "VmRSS:") }

// statusField reads a kB field of /proc/<pid>/status, in bytes.
func statusField(pid int, name string) (int64, error) {
	return procField(fmt.Sprintf("/proc/%d/status", pid), name)
}

// procField reads a "Name: N kB" field of a /proc file, in bytes.
func procField(path, name string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no " + name)
}

// cpuUse is CPU time by part of the node, children (runc, CNI plugins)
// included.
type cpuUse struct{ agent, containerd, shims, server time.Duration }

func (c cpuUse) sub(o cpuUse) cpuUse {
	return cpuUse{c.agent - o.agent, c.containerd - o.containerd, c.shims - o.shims, c.server - o.server}
}

func (c cpuUse) per(n int) string {
	d := func(t time.Duration) string { return ms(t / time.Duration(n)) }
	return fmt.Sprintf("agent %s, containerd+CNI %s, shims+runc %s, API server %s", d(c.agent), d(c.containerd), d(c.shims), d(c.server))
}

// cpu samples the CPU time of the agent, containerd, its shims and the
// server. Exited children count once their parent waited for them.
func (a *agentChild) cpu(srv *child) cpuUse {
	var u cpuUse
	u.agent = treeCPU(a.cmd.Process.Pid)
	u.server = treeCPU(srv.cmd.Process.Pid)
	cpid, err := a.containerdPid()
	if err != nil {
		return u
	}
	u.containerd = treeCPU(cpid)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.Contains(string(cmdline), "containerd-shim") && strings.Contains(string(cmdline), a.dir) {
			u.shims += treeCPU(pid)
		}
	}
	return u
}

// treeCPU is utime+stime+cutime+cstime of a process.
func treeCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, v := range f[11:15] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
