package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/navarch/navarch/internal/proxy"
)

// netns is a network namespace the benchmark made.
type netns struct{ name string }

func newNetns(prefix string) (*netns, error) {
	n := &netns{name: fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%100000)}
	if err := run("ip", "netns", "add", n.name); err != nil {
		return nil, err
	}
	return n, n.ip("link", "set", "lo", "up")
}

func (n *netns) delete() { _ = exec.Command("ip", "netns", "del", n.name).Run() }

func (n *netns) ip(args ...string) error {
	return run(append([]string{"ip", "-n", n.name}, args...)...)
}

func (n *netns) fd() (int, error) {
	return unix.Open(filepath.Join("/var/run/netns", n.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

func closeFd(fd int) { _ = unix.Close(fd) }

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inNetns runs fn on a thread of its own inside the namespace.
func (n *netns) inNetns(fn func()) error {
	fd, err := n.fd()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		defer closeFd(fd)
		// The thread dies with the goroutine, namespace and all.
		runtime.LockOSThread()
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- nil
		fn()
	}()
	return <-errc
}

// proxyThroughput compares the rate of new HTTP connections to a busybox
// httpd through a ClusterIP with the same requests sent to the pod IP:
// node namespace with a bridge, the server and the client in pod
// namespaces, navarch's table in the node.
func proxyThroughput(ctx context.Context, o ProxyOptions) error {
	node, err := newNetns("nvbn")
	if err != nil {
		return err
	}
	defer node.delete()
	server, client, err := benchPods(node)
	if err != nil {
		return err
	}
	defer server.delete()
	defer client.delete()
	dir, err := os.MkdirTemp("", "navarch-bench-www-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("ok\n"), 0o644); err != nil {
		return err
	}
	httpd := exec.CommandContext(ctx, "ip", "netns", "exec", server.name, "busybox", "httpd", "-f", "-p", "8080", "-h", dir)
	if err := httpd.Start(); err != nil {
		return fmt.Errorf("busybox httpd: %w", err)
	}
	defer func() { _ = httpd.Process.Kill(); _ = httpd.Wait() }()
	vip, err := programBenchService(node)
	if err != nil {
		return err
	}
	direct := "10.244.1.2:8080"
	if _, err := rate(client, "", direct, time.Second, 1); err != nil {
		return fmt.Errorf("backend not reachable: %w", err)
	}
	// Each kind of request leaves from an address of its own: after DNAT a
	// ClusterIP connection has a direct one's tuple, and conntrack's
	// TIME_WAIT entries of the direct rounds would clash with it.
	if err := client.ip("addr", "add", "10.244.1.4/24", "dev", "eth0"); err != nil {
		return err
	}
	sources := []string{"10.244.1.3", "10.244.1.4"}
	var best [2]float64
	for r := range o.Rounds {
		for i, addr := range []string{direct, vip} {
			v, err := rate(client, sources[i], addr, o.Duration, o.Concurrency)
			if err != nil {
				return err
			}
			best[i] = max(best[i], v)
			fmt.Fprintf(o.Out, "  round %d %-8s %s: %.0f connections/s\n", r+1, []string{"pod IP", "ClusterIP"}[i], addr, v)
		}
	}
	fmt.Fprintf(o.Out, "connection rate (best of %d rounds, %d concurrent, %s each): pod IP %.0f/s, ClusterIP %.0f/s (%.1f%% of direct)\n",
		o.Rounds, o.Concurrency, o.Duration, best[0], best[1], 100*best[1]/best[0])
	return nil
}

// benchPods makes a server pod 10.244.1.2 and a client pod 10.244.1.3 on
// the node's bridge.
func benchPods(node *netns) (server, client *netns, err error) {
	steps := [][]string{{"link", "add", "br0", "type", "bridge"}, {"addr", "add", "10.244.1.1/24", "dev", "br0"}, {"link", "set", "br0", "up"}}
	for _, s := range steps {
		if err := node.ip(s...); err != nil {
			return nil, nil, err
		}
	}
	if err := run("ip", "netns", "exec", node.name, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"); err != nil {
		return nil, nil, err
	}
	var pods []*netns
	for i, addr := range []string{"10.244.1.2/24", "10.244.1.3/24"} {
		p, err := newNetns("nvbp")
		if err != nil {
			return nil, nil, err
		}
		pods = append(pods, p)
		link := fmt.Sprintf("vb%d", i)
		for _, s := range [][]string{
			{"-n", node.name, "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", p.name},
			{"-n", node.name, "link", "set", link, "master", "br0"}, {"-n", node.name, "link", "set", link, "up"},
			{"-n", p.name, "addr", "add", addr, "dev", "eth0"}, {"-n", p.name, "link", "set", "eth0", "up"},
			{"-n", p.name, "route", "add", "default", "via", "10.244.1.1"},
		} {
			if err := run(append([]string{"ip"}, s...)...); err != nil {
				return nil, nil, err
			}
		}
	}
	return pods[0], pods[1], nil
}

// programBenchService points ClusterIP 10.96.0.100:80 at the server pod.
func programBenchService(node *netns) (string, error) {
	fd, err := node.fd()
	if err != nil {
		return "", err
	}
	defer closeFd(fd)
	t, err := proxy.OpenTable("navarch-bench", fd)
	if err != nil {
		return "", err
	}
	defer t.Close()
	if err := t.Reset(); err != nil {
		return "", err
	}
	_, cidr, _ := net.ParseCIDR("10.244.0.0/16")
	sp := proxy.ServicePort{Protocol: "TCP", ClusterIP: net.ParseIP("10.96.0.100").To4(), Port: 80,
		Endpoints: []proxy.Endpoint{{IP: net.ParseIP("10.244.1.2").To4(), Port: 8080, Ready: true, Serving: true}}}
	sp.Service.Namespace, sp.Service.Name = "bench", "web"
	return "10.96.0.100:80", t.Apply(map[string]*proxy.Objects{"bench/web": proxy.Generator{ClusterCIDR: cidr}.Service([]proxy.ServicePort{sp})})
}

// rate opens new connections from src (empty: any address) to addr in the
// client namespace, each with one HTTP/1.0 request, for d with c workers;
// it returns completed requests per second.
func rate(client *netns, src, addr string, d time.Duration, c int) (float64, error) {
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	if src != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for range c {
		wg.Add(1)
		err := client.inNetns(func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for time.Now().Before(deadline) {
				if get(dialer, addr, buf) {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
		if err != nil {
			wg.Done()
			return 0, err
		}
	}
	wg.Wait()
	if ok.Load() == 0 {
		return 0, fmt.Errorf("no request to %s succeeded (%d failed)", addr, failed.Load())
	}
	return float64(ok.Load()) / d.Seconds(), nil
}

func get(dialer *net.Dialer, addr string, buf []byte) bool {
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.Contains(line, " 200 ")
}
