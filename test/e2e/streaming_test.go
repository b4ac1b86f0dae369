package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/navarch/navarch/internal/agent/images"
)

// kubectlProtocols: kubectl 1.32 streams over WebSocket by default and
// falls back to SPDY, which these variables force.
var kubectlProtocols = []struct {
	name string
	env  []string
}{
	{"websocket", nil},
	{"spdy", []string{"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false", "KUBECTL_PORT_FORWARD_WEBSOCKETS=false"}},
}

// TestStreaming runs the examples against the server's own node
// agent: a busybox pod whose logs stream, exec with exit codes, and
// port-forward, each over WebSocket and SPDY.
func TestStreaming(t *testing.T) {
	srv := requireServer(t)
	node := requireReadyNode(t, srv)
	importBusybox(t, srv)
	streamingScenarios(t, srv, node)
}

// streamingScenarios runs on node: the pod is bound there directly, so
// that the test needs no scheduler.
func streamingScenarios(t *testing.T, srv *server, node string) {
	ns := newNamespace(t, "streaming")
	script := `mkdir -p /www && echo served > /www/index.html && httpd -p 8080 -h /www
echo start; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done`
	kubectl(t, "-n", ns, "run", "web", "--image=busybox", "--image-pull-policy=IfNotPresent",
		`--overrides={"apiVersion":"v1","spec":{"nodeName":"`+node+`"}}`, "--", "sh", "-c", script)
	waitRunning(t, srv, ns, "web")

	t.Run("logs", func(t *testing.T) {
		if out := kubectl(t, "-n", ns, "logs", "web"); !strings.HasPrefix(out, "start\nline 1\n") {
			t.Fatalf("logs: %q", out)
		}
		if out := kubectl(t, "-n", ns, "logs", "web", "--tail=1"); !regexp.MustCompile(`^line \d+\n$`).MatchString(out) {
			t.Errorf("logs --tail=1: %q", out)
		}
		stderr := kubectlFail(t, "-n", ns, "logs", "web", "--previous")
		if !strings.Contains(stderr, `previous terminated container "web" in pod "web" not found`) {
			t.Errorf("logs --previous: %q", stderr)
		}
	})

	t.Run("logs -f", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
		defer cancel()
		cmd := kubectlRun{srv: srv, args: []string{"-n", ns, "logs", "-f", "web", "--tail=1"}}.command(ctx)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = cmd.Wait() }()
		next := outputLines(out)
		var first int
		if l, ok := next(10 * time.Second); !ok || func() bool { _, err := fmt.Sscanf(l, "line %d", &first); return err != nil }() {
			t.Fatalf("first line %q", l)
		}
		for want := first + 1; want <= first+3; want++ {
			if l, _ := next(10 * time.Second); l != fmt.Sprintf("line %d", want) {
				t.Fatalf("followed %q, want line %d", l, want)
			}
		}
	})

	for _, p := range kubectlProtocols {
		t.Run("exec/"+p.name, func(t *testing.T) {
			res := kubectlRun{srv: srv, env: p.env, args: []string{"-n", ns, "exec", "web", "--", "sh", "-c", "echo out; exit 3"}}.run(t)
			if res.code != 3 || res.stdout != "out\n" || !strings.Contains(res.stderr, "command terminated with exit code 3") {
				t.Errorf("exec exit 3: %d %q %q", res.code, res.stdout, res.stderr)
			}
			res = kubectlRun{srv: srv, env: p.env, stdin: "hello\n", args: []string{"-n", ns, "exec", "-i", "web", "--", "cat"}}.run(t)
			if res.code != 0 || res.stdout != "hello\n" {
				t.Errorf("exec -i: %d %q %q", res.code, res.stdout, res.stderr)
			}
		})
		t.Run("exec -it/"+p.name, func(t *testing.T) {
			if _, err := exec.LookPath("script"); err != nil {
				t.Skip("script (util-linux) is needed to give kubectl a terminal")
			}
			line := fmt.Sprintf("stty rows 31 cols 91; env %s %s --kubeconfig %s --cache-dir %s -n %s exec -it web -- sh -c 'tty; sleep 0.3; stty size'",
				strings.Join(p.env, " "), kubectlPath, srv.kubeconfig, srv.cacheDir, ns)
			ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
			defer cancel()
			out, err := exec.CommandContext(ctx, "script", "-qec", line, "/dev/null").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "/dev/pts/") || !strings.Contains(string(out), "31 91") {
				t.Errorf("exec -it: %v %q", err, out)
			}
		})
		t.Run("port-forward/"+p.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
			defer cancel()
			cmd := kubectlRun{srv: srv, env: p.env, args: []string{"-n", ns, "port-forward", "pod/web", ":8080"}}.command(ctx)
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); _ = cmd.Wait() }()
			next := outputLines(out)
			re := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> 8080$`)
			var port string
			for port == "" {
				l, ok := next(10 * time.Second)
				if !ok {
					t.Fatal("port-forward printed no local port")
				}
				if m := re.FindStringSubmatch(l); m != nil {
					port = m[1]
				}
			}
			resp, err := http.Get("http://127.0.0.1:" + port + "/index.html")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "served\n" {
				t.Errorf("GET through port-forward: %q", b)
			}
		})
	}
}

// requireReadyNode skips when the server runs no node agent, and waits
// for a node to be Ready when it does; it returns that node's name.
func requireReadyNode(t *testing.T, srv *server) string {
	t.Helper()
	if strings.TrimSpace(kubectl(t, "get", "nodes", "-o", "name")) == "" {
		t.Skip("no Node registered: this server runs no node agent")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := kubectl(t, "get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		for _, l := range nonEmptyLines(out) {
			if name, status, _ := strings.Cut(l, " "); status == "True" {
				return name
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Ready node after 60s%s: %q", srv.health(), out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// importBusybox loads a busybox image built from busybox-static into the
// node, with `navarch images import`.
func importBusybox(t *testing.T, srv *server) {
	t.Helper()
	img, err := images.BusyboxImage("/bin/busybox")
	if err != nil {
		t.Skipf("busybox image: %v (busybox-static missing?)", err)
	}
	archive := filepath.Join(t.TempDir(), "busybox.tar")
	if err := images.WriteArchiveFile(archive, map[string]v1.Image{images.BusyboxRef: img}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "images", "import", "--data-dir", srv.dataDir, archive).CombinedOutput()
	if err != nil {
		t.Skipf("navarch images import: %v: %s", err, out)
	}
}

// waitRunning waits for a pod's Ready condition.
func waitRunning(t *testing.T, srv *server, ns, name string) {
	t.Helper()
	res := kubectlRun{srv: srv, args: []string{"-n", ns, "wait", "--for=condition=Ready", "pod/" + name, "--timeout=45s"}}.run(t)
	if res.code != 0 {
		t.Fatalf("pod %s not Ready: %s%s\n%s", name, res.stderr, srv.health(),
			kubectlRun{srv: srv, args: []string{"-n", ns, "describe", "pod", name}}.run(t).stdout)
	}
}

// outputLines hands out r's lines, each within a timeout.
func outputLines(r io.Reader) func(time.Duration) (string, bool) {
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		var buf []byte
		tmp := make([]byte, 4096)
		for {
			n, err := r.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for i := strings.IndexByte(string(buf), '\n'); i >= 0; i = strings.IndexByte(string(buf), '\n') {
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
