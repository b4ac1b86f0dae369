package streaming

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	clientremote "k8s.io/client-go/tools/remotecommand"
	clientspdy "k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/containerd"
	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/images"
)

// realPod is one pod run through a real containerd.
type realPod struct {
	rt            runtimeapi.RuntimeServiceClient
	sandbox, ctr  string
	logPath, port string
}

func (p *realPod) ContainerID(ns, name, container string, previous bool) (string, error) {
	if name != "web" || container != "app" {
		return "", fmt.Errorf("pod %s/%s: %w", ns, name, ErrPodNotFound)
	}
	return p.ctr, nil
}

func (p *realPod) SandboxID(ns, name string) (string, error) {
	if name != "web" {
		return "", fmt.Errorf("pod %s/%s: %w", ns, name, ErrPodNotFound)
	}
	return p.sandbox, nil
}

func requireContainerd(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts containerd")
	}
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	for _, b := range []string{"containerd", "runc", "ctr"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (make deps installs it): %v", b, err)
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("busybox-static not installed")
	}
}

// startRealPod runs containerd in a temporary directory and one
// host-network pod whose container logs ticks and serves HTTP.
func startRealPod(t *testing.T) *realPod {
	requireContainerd(t)
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	sup, err := containerd.Start(ctx, containerd.Config{Dir: filepath.Join(dir, "c"), SandboxImage: images.PauseRef,
		CNIBinDir: "/usr/lib/cni", CNIConfDir: filepath.Join(dir, "net.d")}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Stop)
	pause, err := images.PauseImage()
	if err != nil {
		t.Fatal(err)
	}
	bb, err := images.BusyboxImage("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := images.ImportImages(ctx, sup.Socket(), dir, map[string]v1.Image{images.PauseRef: pause, images.BusyboxRef: bb}); err != nil {
		t.Fatal(err)
	}
	c, err := cri.Dial(sup.Socket())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	port := strconv.Itoa(freeTCPPort(t))
	p := &realPod{rt: c.Runtime, port: port}
	logDir := filepath.Join(dir, "logs")
	sbCfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "uid-web"},
		LogDirectory: logDir,
		Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE}}},
	}
	sb, err := c.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sbCfg})
	if err != nil {
		t.Fatal(err)
	}
	p.sandbox = sb.PodSandboxId
	t.Cleanup(func() {
		c.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.sandbox})
		c.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.sandbox})
	})
	script := `mkdir -p /www && echo served > /www/index.html && httpd -p 127.0.0.1:` + port + ` -h /www
echo hello; echo oops >&2; exec 3<&0; (while read line; do echo "stdin: $line"; done) <&3 &
i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done`
	cc, err := c.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: p.sandbox, SandboxConfig: sbCfg,
		Config: &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "app"}, Image: &runtimeapi.ImageSpec{Image: images.BusyboxRef},
			Command: []string{"sh", "-c", script}, LogPath: "app/0.log", Stdin: true}})
	if err != nil {
		t.Fatal(err)
	}
	p.ctr = cc.ContainerId
	if _, err := c.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: p.ctr}); err != nil {
		t.Fatal(err)
	}
	p.logPath = filepath.Join(logDir, "app/0.log")
	return p
}

func freeTCPPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRealContainerd(t *testing.T) {
	p := startRealPod(t)
	srv := httptest.NewServer(NewHandler(Config{Runtime: p.rt, Pods: p, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("logs", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/containerLogs/default/web/app?follow=true", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var got []string
		for sc.Scan() && !strings.HasPrefix(sc.Text(), "tick 3") {
			got = append(got, sc.Text())
		}
		// stdout and stderr are separate pipes: their order may vary.
		joined := "|" + strings.Join(got, "|") + "|"
		for _, want := range []string{"|hello|", "|oops|", "|tick 1|", "|tick 2|"} {
			if !strings.Contains(joined, want) {
				t.Fatalf("followed %q, missing %q", got, want)
			}
		}
		// Rotation as the kubelet does it: rename, then have the runtime
		// reopen the log; the follower carries on in the new file.
		if err := os.Rename(p.logPath, p.logPath+".1"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.rt.ReopenContainerLog(ctx, &runtimeapi.ReopenContainerLogRequest{ContainerId: p.ctr}); err != nil {
			t.Fatal(err)
		}
		waitFile(t, p.logPath)
		for sc.Scan() {
			if fi, _ := os.Stat(p.logPath); fi != nil && fi.Size() > 0 && strings.HasPrefix(sc.Text(), "tick") {
				first, _ := os.ReadFile(p.logPath)
				if e, err := parseLogLine([]byte(strings.SplitN(string(first), "\n", 2)[0])); err == nil && string(e.content) == sc.Text() {
					break // a line from the new file came through
				}
			}
		}
		if sc.Err() != nil {
			t.Fatalf("follow after rotation: %v", sc.Err())
		}
		_, body := get(t, srv.URL+"/containerLogs/default/web/app?tailLines=1&timestamps=true")
		if !strings.Contains(body, "Z tick ") || strings.Count(body, "\n") != 1 {
			t.Errorf("tail with timestamps: %q", body)
		}
	})

	executors := map[string]func(u string) (clientremote.Executor, error){
		"websocket": func(u string) (clientremote.Executor, error) {
			return clientremote.NewWebSocketExecutor(&restclient.Config{}, "GET", u)
		},
		"spdy": func(u string) (clientremote.Executor, error) {
			pu, _ := url.Parse(u)
			return clientremote.NewSPDYExecutor(&restclient.Config{}, "POST", pu)
		},
	}
	for name, newExec := range executors {
		t.Run("exec-"+name, func(t *testing.T) {
			q := url.Values{"command": {"sh", "-c", "read x; echo got $x; echo to-stderr >&2; exit 7"},
				"stdin": {"true"}, "stdout": {"true"}, "stderr": {"true"}}
			e, err := newExec(srv.URL + "/exec/default/web/app?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			var out, errOut syncBuffer
			err = e.StreamWithContext(ctx, clientremote.StreamOptions{Stdin: strings.NewReader("hi\n"), Stdout: &out, Stderr: &errOut})
			var ce utilexec.CodeExitError
			if !errors.As(err, &ce) || ce.Code != 7 || out.String() != "got hi\n" || errOut.String() != "to-stderr\n" {
				t.Fatalf("exec: err=%v out=%q stderr=%q", err, out.String(), errOut.String())
			}
			// A terminal, resized before the command reads its size.
			q = url.Values{"command": {"sh", "-c", "sleep 0.5; stty size; tty"}, "stdin": {"true"}, "stdout": {"true"}, "tty": {"true"}}
			e, _ = newExec(srv.URL + "/exec/default/web/app?" + q.Encode())
			hold := make(chan struct{})
			defer close(hold)
			var tty syncBuffer
			err = e.StreamWithContext(ctx, clientremote.StreamOptions{Stdin: &stdinReader{r: strings.NewReader(""), hold: hold}, Stdout: &tty, Tty: true,
				TerminalSizeQueue: &fixedSizes{sizes: []clientremote.TerminalSize{{Width: 100, Height: 40}}}})
			if err != nil || !strings.Contains(tty.String(), "40 100") || !strings.Contains(tty.String(), "/dev/pts/") {
				t.Fatalf("tty exec: err=%v out=%q", err, tty.String())
			}
			// A command that cannot start.
			q = url.Values{"command": {"no-such-binary"}, "stdout": {"true"}}
			e, _ = newExec(srv.URL + "/exec/default/web/app?" + q.Encode())
			err = e.StreamWithContext(ctx, clientremote.StreamOptions{Stdout: &out})
			t.Logf("missing binary: %v", err)
			if err == nil {
				t.Fatal("missing binary: no error")
			}
		})
		t.Run("attach-"+name, func(t *testing.T) {
			e, err := newExec(srv.URL + "/attach/default/web/app?stdin=true&stdout=true&stderr=true")
			if err != nil {
				t.Fatal(err)
			}
			actx, acancel := context.WithCancel(ctx)
			defer acancel()
			out := &watchWriter{want: "stdin: ping", found: make(chan struct{})}
			hold := make(chan struct{})
			defer close(hold)
			errc := make(chan error, 1)
			go func() {
				errc <- e.StreamWithContext(actx, clientremote.StreamOptions{Stdin: &stdinReader{r: strings.NewReader("ping\n"), hold: hold}, Stdout: out, Stderr: io.Discard})
			}()
			select {
			case <-out.found:
			case err := <-errc:
				t.Fatalf("attach ended: %v (%q)", err, out.String())
			case <-time.After(20 * time.Second):
				t.Fatalf("attach: no echo of stdin in %q", out.String())
			}
		})
	}

	t.Run("port-forward", func(t *testing.T) {
		u, _ := url.Parse(srv.URL + "/portForward/default/web")
		tr, up, _ := clientspdy.RoundTripperFor(&restclient.Config{})
		tunnel, _ := portforward.NewSPDYOverWebsocketDialer(u, &restclient.Config{})
		for name, d := range map[string]httpstream.Dialer{"spdy": clientspdy.NewDialer(up, &http.Client{Transport: tr}, "POST", u), "tunnel": tunnel} {
			remote, _ := strconv.Atoi(p.port)
			local := forward(t, d, remote)
			var body string
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(local) + "/index.html")
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if body = string(b); body == "served\n" {
						break
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
			if body != "served\n" {
				t.Fatalf("%s: GET through port-forward: %q", name, body)
			}
		}
	})
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reappear", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watchWriter signals when want has been written.
type watchWriter struct {
	syncBuffer
	want  string
	found chan struct{}
	done  bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if !w.done && strings.Contains(w.String(), w.want) {
		w.done = true
		close(w.found)
	}
	return n, err
}
