package streaming_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// protocols are the two ways kubectl 1.32 streams: WebSocket first (its
// default), and SPDY, which it falls back to and which these variables
// force.
var protocols = []struct {
	name string
	env  []string
}{
	{"websocket", nil},
	{"spdy", []string{"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false", "KUBECTL_PORT_FORWARD_WEBSOCKETS=false"}},
}

// TestKubectlStreaming drives the real kubectl through the API server to
// a real agent and containerd: logs (tail, timestamps, limit, follow,
// previous), exec (exit codes, stdin, terminal), attach and port-forward.
func TestKubectlStreaming(t *testing.T) {
	c := startCluster(t)
	web := `mkdir -p /www && echo served > /www/index.html && httpd -p 8080 -h /www
echo start; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done`
	c.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "app", Command: []string{"sh", "-c", web}}}}}, isRunning)
	c.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "att"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "app", Stdin: true, Command: []string{"sh", "-c", "echo ready; while read l; do echo got $l; done"}}}}}, isRunning)
	c.pod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "crash"}, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways,
		Containers: []corev1.Container{{Name: "app", Command: []string{"sh", "-c", "echo run $(cat /proc/uptime); sleep 1; exit 1"}}}}},
		func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount >= 1
		})
	k := kubectl{c: c}

	t.Run("logs", func(t *testing.T) {
		all := k.ok(t, "logs", "web")
		if !strings.HasPrefix(all, "start\nline 1\n") {
			t.Fatalf("logs: %q", all)
		}
		if out := k.ok(t, "logs", "web", "--tail=1"); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "line ") {
			t.Errorf("--tail=1: %q", out)
		}
		if out := k.ok(t, "logs", "web", "--limit-bytes=3"); out != "sta" {
			t.Errorf("--limit-bytes=3: %q", out)
		}
		ts := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) line \d+\n$`)
		if out := k.ok(t, "logs", "web", "--tail=1", "--timestamps"); !ts.MatchString(out) {
			t.Errorf("--timestamps: %q", out)
		}
		if out := k.ok(t, "logs", "web", "--since=1h"); !strings.HasPrefix(out, "start\n") {
			t.Errorf("--since=1h: %q", out)
		}
		if out := k.ok(t, "logs", "crash", "--previous"); !strings.HasPrefix(out, "run ") {
			t.Errorf("--previous: %q", out)
		}
		r := k.run(t, "", "logs", "web", "--previous")
		if r.code == 0 || !strings.Contains(r.stderr, `previous terminated container "app" in pod "web" not found`) {
			t.Errorf("--previous without a restart: %d %q", r.code, r.stderr)
		}
		r = k.run(t, "", "logs", "web", "-c", "nope")
		if r.code == 0 || !strings.Contains(r.stderr, "container nope is not valid for pod web") {
			t.Errorf("unknown container: %d %q", r.code, r.stderr)
		}
	})

	t.Run("logs -f streams", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := k.cmd(ctx, "logs", "-f", "web", "--tail=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = cmd.Wait() }()
		next := lineReader(t, out)
		first, ok := next(10 * time.Second)
		n0, err := strconv.Atoi(strings.TrimPrefix(first, "line "))
		if !ok || err != nil {
			t.Fatalf("first line %q", first)
		}
		// New lines keep coming while kubectl runs: at least three more,
		// in order.
		for want := n0 + 1; want <= n0+3; want++ {
			if l, ok := next(10 * time.Second); l != fmt.Sprintf("line %d", want) {
				t.Fatalf("followed %q (ok=%v), want line %d", l, ok, want)
			}
		}
	})

	for _, p := range protocols {
		k := kubectl{c: c, env: p.env}
		t.Run("exec/"+p.name, func(t *testing.T) {
			r := k.run(t, "", "-v=6", "exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
			if r.code != 3 || r.stdout != "out\n" || !strings.Contains(r.stderr, "err\n") || !strings.Contains(r.stderr, "command terminated with exit code 3") {
				t.Fatalf("exec exit 3: %d %q %q", r.code, r.stdout, r.stderr)
			}
			if ws := strings.Contains(r.stderr, "The subprotocol is v5.channel.k8s.io"); ws != (p.env == nil) {
				t.Errorf("negotiated v5 over WebSocket = %v; kubectl said %q", ws, r.stderr)
			}
			if r := k.run(t, "hello\n", "exec", "-i", "web", "--", "cat"); r.code != 0 || r.stdout != "hello\n" {
				t.Errorf("exec -i cat: %d %q %q", r.code, r.stdout, r.stderr)
			}
			r = k.run(t, "", "exec", "web", "-c", "nope", "--", "true")
			if r.code == 0 || !strings.Contains(r.stderr, "container nope is not valid for pod web") {
				t.Errorf("unknown container: %d %q", r.code, r.stderr)
			}
			r = k.run(t, "", "exec", "web", "--", "no-such-command")
			if r.code == 0 || !strings.Contains(r.stderr, "executable file not found") {
				t.Errorf("missing command: %d %q", r.code, r.stderr)
			}
		})
		t.Run("exec -it/"+p.name, func(t *testing.T) {
			if _, err := exec.LookPath("script"); err != nil {
				t.Skip("script (util-linux) is needed for a terminal")
			}
			// script gives kubectl a terminal of 31 rows and 91 columns.
			line := fmt.Sprintf("stty rows 31 cols 91; %s %s --kubeconfig %s exec -it web -- sh -c 'tty; sleep 0.3; stty size; exit 4'",
				strings.Join(p.env, " "), kubectlPath, c.kubeconfig)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "script", "-qec", "env "+line, "/dev/null").CombinedOutput()
			ee, _ := err.(*exec.ExitError)
			if ee == nil || ee.ExitCode() != 4 || !strings.Contains(string(out), "/dev/pts/") || !strings.Contains(string(out), "31 91") {
				t.Fatalf("exec -it: %v %q", err, out)
			}
		})
		t.Run("attach/"+p.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := k.cmd(ctx, "attach", "-i", "att")
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { in.Close(); cancel(); _ = cmd.Wait() }()
			next := lineReader(t, out)
			want := "got ping-" + p.name
			fmt.Fprintf(in, "ping-%s\n", p.name)
			for {
				l, ok := next(10 * time.Second)
				if !ok {
					t.Fatalf("attach: no %q", want)
				}
				if l == want {
					break
				}
			}
		})
		t.Run("port-forward/"+p.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := k.cmd(ctx, "-v=6", "port-forward", "pod/web", ":8080")
			out, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); _ = cmd.Wait() }()
			next := lineReader(t, out)
			re := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> 8080$`)
			var port string
			for port == "" {
				l, ok := next(10 * time.Second)
				if !ok {
					t.Fatalf("port-forward did not start: %s", stderr.String())
				}
				if m := re.FindStringSubmatch(l); m != nil {
					port = m[1]
				}
			}
			for i := range 3 {
				resp, err := http.Get("http://127.0.0.1:" + port + "/index.html")
				if err != nil {
					t.Fatalf("GET %d through port-forward: %v", i, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "served\n" {
					t.Fatalf("GET %d: %q", i, b)
				}
			}
			if tunnel := strings.Contains(stderr.String(), "negotiated protocol: portforward.k8s.io"); tunnel != (p.env == nil) {
				t.Errorf("SPDY over WebSocket = %v; kubectl said %q", tunnel, stderr.String())
			}
		})
	}
}
