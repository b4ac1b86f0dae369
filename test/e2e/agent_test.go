package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAgentRunsKubectlRun is the first example on a fresh
// server: its own node agent becomes Ready, `navarch images busybox`
// loads the image, and `kubectl run web --image=busybox -- httpd -f -p
// 8080` serves on its pod IP, reachable from the host. The server gets a
// pod CIDR of its own so that its bridge never clashes with another
// cluster's on this machine.
func TestAgentRunsKubectlRun(t *testing.T) {
	requireServer(t)
	if os.Geteuid() != 0 {
		t.Skip("the node agent needs root")
	}
	for _, p := range []string{"/usr/bin/containerd", "/usr/lib/cni/bridge", "/bin/busybox"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing (make deps installs it)", p)
		}
	}
	srv := startServerWith(t, filepath.Join(t.TempDir(), "data"), "--pod-cidr", freePodCIDR(t))
	defer func() {
		if err := srv.stop(); err != nil {
			t.Errorf("server did not stop cleanly: %v", err)
		}
	}()
	node := waitNodeReady(t, srv)
	if out, err := exec.Command(binary, "images", "busybox", "--data-dir", srv.dataDir).CombinedOutput(); err != nil {
		t.Fatalf("navarch images busybox: %v: %s", err, out)
	}
	if out := kubectlOn(t, srv, "", "run", "web", "--image=busybox", "--", "httpd", "-f", "-p", "8080"); strings.TrimSpace(out) != "pod/web created" {
		t.Fatalf("kubectl run: %q", out)
	}
	waitRunning(t, srv, "default", "web")
	fields := strings.Fields(kubectlOn(t, srv, "", "get", "pod", "web", "-o", "jsonpath={.status.phase} {.spec.nodeName} {.status.podIP}"))
	if len(fields) != 3 || fields[0] != "Running" || fields[1] != node {
		t.Fatalf("pod web: %v", fields)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	var body []byte
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := hc.Get("http://" + fields[2] + ":8080/etc/hostname")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod IP %s not reachable from the host: %v", fields[2], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if string(bytes.TrimSpace(body)) != "web" {
		t.Errorf("the pod served %q, want its hostname web", body)
	}
	out := kubectlOn(t, srv, "", "get", "pods", "-o", "wide")
	if !strings.Contains(columns(out), "web 1/1 Running 0") || !strings.Contains(out, fields[2]) {
		t.Errorf("kubectl get pods -o wide:\n%s", out)
	}
	if out := kubectlOn(t, srv, "", "describe", "pod", "web"); !strings.Contains(out, "Started container web") {
		t.Errorf("kubectl describe shows no Started event:\n%s", out)
	}
	kubectlOn(t, srv, "", "delete", "pod", "web", "--grace-period=1")
}

// startServerWith is startServer with extra flags.
func startServerWith(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{dataDir: dataDir, port: port, kubeconfig: filepath.Join(dataDir, "kubeconfig.yaml"),
		cacheDir: filepath.Join(dataDir, "kubectl-cache"), logPath: filepath.Join(dataDir, "server.log"), exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"server", "--data-dir", dataDir, "--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port)}, extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	if err := s.waitReady(60 * time.Second); err != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
		var b bytes.Buffer
		s.dumpLog(&b)
		t.Fatalf("%v\n%s", err, b.String())
	}
	return s
}

// waitNodeReady waits for the server's own node and returns its name.
func waitNodeReady(t *testing.T, srv *server) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := kubectlOn(t, srv, "", "get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		for _, l := range nonEmptyLines(out) {
			if name, status, _ := strings.Cut(l, " "); status == "True" {
				return name
			}
		}
		if time.Now().After(deadline) {
			var b bytes.Buffer
			srv.dumpLog(&b)
			t.Fatalf("no Ready node after 60s: %q\n%s", out, b.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// freePodCIDR picks a /24 that no interface on the machine is in.
func freePodCIDR(t *testing.T) string {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for range 1000 {
		cidr := fmt.Sprintf("10.%d.%d.0/24", 200+rand.IntN(50), rand.IntN(256))
		_, n, _ := net.ParseCIDR(cidr)
		clash := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (n.Contains(ipn.IP) || ipn.Contains(n.IP)) {
				clash = true
			}
		}
		if !clash {
			return cidr
		}
	}
	t.Fatal("no free /24 for pods")
	return ""
}
