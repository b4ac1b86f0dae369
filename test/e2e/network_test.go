package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// devCluster is a running `navarch dev cluster`.
type devCluster struct {
	name, dataDir, kubeconfig, subnet string
	cmd                               *exec.Cmd
	exited                            chan struct{}
}

func startDevCluster(t *testing.T, nodes int) *devCluster {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	third := 200 + rand.IntN(50)
	c := &devCluster{name: fmt.Sprintf("nve%d", rand.IntN(10000)), dataDir: filepath.Join(t.TempDir(), "dev"),
		subnet: fmt.Sprintf("172.31.%d", third), exited: make(chan struct{})}
	c.kubeconfig = filepath.Join(c.dataDir, "server", "kubeconfig.yaml")
	log, err := os.Create(filepath.Join(t.TempDir(), "dev.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(binary, "dev", "cluster", "--nodes", fmt.Sprint(nodes), "--data-dir", c.dataDir, "--name", c.name,
		"--subnet", c.subnet+".0/24", "--secure-port", fmt.Sprint(port), "--node-monitor-grace-period", "15s")
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); log.Close(); close(c.exited) }()
	t.Cleanup(func() { c.stop(t) })
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(c.dataDir, "ready")); err == nil {
			return c
		}
		select {
		case <-c.exited:
			c.dumpLogs(t, log.Name())
			t.Fatal("navarch dev cluster exited before it was ready")
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.dumpLogs(t, log.Name())
			t.Fatal("navarch dev cluster not ready after 3 minutes")
		}
	}
}

func (c *devCluster) dumpLogs(t *testing.T, paths ...string) {
	more, _ := filepath.Glob(filepath.Join(c.dataDir, "*.log"))
	for _, p := range append(paths, more...) {
		b, _ := os.ReadFile(p)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("--- %s:\n%s", p, b)
	}
}

// stop interrupts the cluster, which removes its namespaces and bridge.
func (c *devCluster) stop(t *testing.T) {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(90 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		t.Errorf("navarch dev cluster still running 90s after SIGTERM")
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), c.name+"-node-") {
		t.Errorf("namespaces left behind:\n%s", out)
	}
}

func (c *devCluster) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.kubectlErr(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *devCluster) kubectlErr(args ...string) (string, error) {
	cmd := exec.Command(kubectlPath, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *devCluster) nodeIP(i int) string { return fmt.Sprintf("%s.%d", c.subnet, 10+i) }

// httpGet fetches url from this (the host) namespace.
func httpGet(url string) (string, error) {
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

// nodeGet fetches url from inside node i's namespace.
func (c *devCluster) nodeGet(i int, url string) (string, error) {
	out, err := exec.Command("ip", "netns", "exec", fmt.Sprintf("%s-node-%d", c.name, i), "timeout", "5", "busybox", "wget", "-qO-", url).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// collect asks get up to tries times and returns the distinct replies;
// errors are counted.
func collect(tries int, get func() (string, error)) (map[string]int, int) {
	seen, failed := map[string]int{}, 0
	for range tries {
		body, err := get()
		if err != nil {
			failed++
			continue
		}
		seen[body]++
	}
	return seen, failed
}

func requireAll(t *testing.T, what string, seen map[string]int, pods []string) {
	t.Helper()
	for _, p := range pods {
		if seen[p] == 0 {
			t.Errorf("%s: no reply from %s (replies %v)", what, p, seen)
		}
	}
}

// TestNetworkUserStory is issue 6's story on a three-node cluster on this
// machine: a Deployment of three busybox httpd replicas, exposed as
// NodePort and LoadBalancer, reached through the ClusterIP from every
// node, every node's NodePort, the LoadBalancer addresses and by DNS name
// from inside a pod; then a node cut off goes NotReady, its endpoint
// leaves, traffic keeps flowing, and all converges when its link returns.
func TestNetworkUserStory(t *testing.T) {
	requireServer(t)
	if os.Geteuid() != 0 {
		t.Skip("a dev cluster needs root")
	}
	for _, p := range []string{"/usr/bin/containerd", "/usr/lib/cni/bridge", "/bin/busybox", "/usr/bin/timeout"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing (make deps installs it)", p)
		}
	}
	c := startDevCluster(t, 3)
	c.kubectl(t, "create", "deployment", "hello", "--image=busybox:local", "--replicas=3", "--port=8080", "--",
		"sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www")
	c.kubectl(t, "expose", "deployment", "hello", "--type=NodePort")
	c.kubectl(t, "expose", "deployment", "hello", "--type=LoadBalancer", "--name=hello-lb")
	c.kubectl(t, "rollout", "status", "deployment/hello", "--timeout=90s")
	pods := strings.Fields(c.kubectl(t, "get", "pods", "-l", "app=hello", "-o", "jsonpath={.items[*].metadata.name}"))
	if len(pods) != 3 {
		t.Fatalf("pods: %v", pods)
	}
	clusterIP := c.kubectl(t, "get", "svc", "hello", "-o", "jsonpath={.spec.clusterIP}")
	nodePort := c.kubectl(t, "get", "svc", "hello", "-o", "jsonpath={.spec.ports[0].nodePort}")
	waitEndpoints(t, c, 3)

	for i := 1; i <= 3; i++ {
		seen, _ := collect(24, func() (string, error) { return c.nodeGet(i, "http://"+clusterIP+":8080/") })
		requireAll(t, fmt.Sprintf("ClusterIP from node-%d", i), seen, pods)
	}
	seen, failed := collect(30, func() (string, error) {
		return httpGet(fmt.Sprintf("http://%s:%s/", c.nodeIP(1+rand.IntN(3)), nodePort))
	})
	requireAll(t, "NodePort on every node", seen, pods)
	if failed > 0 {
		t.Errorf("NodePort: %d of 30 requests failed", failed)
	}
	var lbIPs []string
	netWait(t, 30*time.Second, "LoadBalancer EXTERNAL-IP", func() bool {
		out := c.kubectl(t, "get", "svc", "hello-lb", "-o", "wide")
		lbIPs = strings.Split(c.kubectl(t, "get", "svc", "hello-lb", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}"), " ")
		return len(lbIPs) == 3 && strings.Contains(out, lbIPs[0])
	})
	seen, _ = collect(30, func() (string, error) { return httpGet("http://" + lbIPs[rand.IntN(len(lbIPs))] + ":8080/") })
	requireAll(t, "LoadBalancer", seen, pods)
	out := c.kubectl(t, "exec", "deploy/hello", "--", "sh", "-c",
		"for i in 1 2 3 4 5 6 7 8 9 10 11 12; do wget -qO- http://hello.default.svc.cluster.local:8080; done")
	seen = map[string]int{}
	for _, l := range nonEmptyLines(out) {
		seen[strings.TrimSpace(l)]++
	}
	if len(seen) < 2 {
		t.Errorf("wget by DNS name from a pod: %q", out)
	}

	// Cut node-2 off: its end of the bridge goes down.
	victim := c.kubectl(t, "get", "pods", "-l", "app=hello", "--field-selector", "spec.nodeName=node-2", "-o", "jsonpath={.items[0].metadata.name}")
	link := c.name + "v2"
	if out, err := exec.Command("ip", "link", "set", link, "down").CombinedOutput(); err != nil {
		t.Fatalf("link down: %v %s", err, out)
	}
	linkUp := func() { _ = exec.Command("ip", "link", "set", link, "up").Run() }
	defer linkUp()
	netWait(t, 60*time.Second, "node-2 NotReady", func() bool {
		return strings.Contains(c.kubectl(t, "get", "node", "node-2"), "NotReady")
	})
	waitEndpoints(t, c, 2)
	survivors := []string{}
	for _, p := range pods {
		if p != victim {
			survivors = append(survivors, p)
		}
	}
	seen, failed = collect(20, func() (string, error) { return httpGet(fmt.Sprintf("http://%s:%s/", c.nodeIP(1), nodePort)) })
	requireAll(t, "NodePort while node-2 is cut off", seen, survivors)
	if failed > 0 || seen[victim] > 0 {
		t.Errorf("while node-2 is cut off: %d failures, replies %v", failed, seen)
	}
	netWait(t, 30*time.Second, "LoadBalancer without node-2", func() bool {
		return !strings.Contains(c.kubectl(t, "get", "svc", "hello-lb", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}"), c.nodeIP(2))
	})

	linkUp()
	netWait(t, 90*time.Second, "node-2 Ready again", func() bool {
		return !strings.Contains(c.kubectl(t, "get", "node", "node-2"), "NotReady")
	})
	waitEndpoints(t, c, 3)
	seen, _ = collect(30, func() (string, error) { return httpGet(fmt.Sprintf("http://%s:%s/", c.nodeIP(2), nodePort)) })
	requireAll(t, "NodePort of node-2 after it came back", seen, pods)
}

// waitEndpoints waits until exactly n of the hello Service's endpoints are ready.
func waitEndpoints(t *testing.T, c *devCluster, n int) {
	t.Helper()
	netWait(t, 90*time.Second, fmt.Sprintf("%d ready endpoints", n), func() bool {
		out := c.kubectl(t, "get", "endpointslices", "-l", "kubernetes.io/service-name=hello", "-o",
			"jsonpath={range .items[*].endpoints[*]}{.conditions.ready} {end}")
		// Endpoints of pods on a lost node stay in the slice with
		// ready=false, as upstream keeps them.
		return strings.Count(out, "true") == n
	})
}

func netWait(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
