// Package bench measures a running navarch the way a user sees it: it starts
// the real `navarch server` binary as a child process with embedded etcd and
// drives it with client-go. It reports numbers; it asserts nothing.
package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options configure `navarch bench api`.
type Options struct {
	// Binary is the navarch executable to start (default: this one).
	Binary string
	// Objects is how many pods to create and list.
	Objects int
	// Clients is the number of concurrent creators.
	Clients int
	// Rate and Duration shape the mixed-load phase.
	Rate     int
	Duration time.Duration
	// Watchers is the number of watches for the fan-out phase.
	Watchers int
	// ContentType is the client's wire format.
	ContentType string
	// ServerArgs are extra `navarch server` flags; nil runs the API alone
	// (no controllers, scheduler or agent).
	ServerArgs []string
	Out        io.Writer
}

// child is a navarch server started for a benchmark.
type child struct {
	cmd     *exec.Cmd
	dir     string
	url     string
	ready   time.Duration
	cfg     *rest.Config
	clients *kubernetes.Clientset
}

// startServer starts navarch and measures the time to /readyz.
func startServer(ctx context.Context, o Options) (*child, error) {
	dir, err := os.MkdirTemp("", "navarch-bench-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &child{dir: dir, url: "https://127.0.0.1:" + strconv.Itoa(port)}
	args := []string{"server", "--data-dir", dir, "--secure-port", strconv.Itoa(port), "--bind-address", "127.0.0.1", "--log-level", "warn"}
	if o.ServerArgs == nil {
		// The API server alone, as upstream's reference figures were taken.
		args = append(args, "--disable-controllers=*", "--disable-scheduler", "--disable-agent")
	}
	c.cmd = exec.CommandContext(ctx, o.Binary, append(args, o.ServerArgs...)...)
	c.cmd.Stderr = os.Stderr
	start := time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.stop()
		return nil, err
	}
	c.ready = time.Since(start)
	return c, c.connect(o)
}

func (c *child) waitReady(ctx context.Context) error {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := hc.Get(c.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return fmt.Errorf("navarch did not become ready within 30s")
}

func (c *child) connect(o Options) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(c.dir, "kubeconfig.yaml"))
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = o.ContentType
	cfg.AcceptContentTypes = o.ContentType + ",application/json"
	c.cfg = cfg
	c.clients, err = kubernetes.NewForConfig(cfg)
	return err
}

func (c *child) stop() {
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		_ = c.cmd.Wait()
	}
	_ = os.RemoveAll(c.dir)
}

// rssBytes reads the resident set size of the server process.
func (c *child) rssBytes() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// latencies summarizes a set of durations.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
