package e2e

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// streamer runs a long-lived kubectl (get -w, wait) and collects its
// stdout lines as they arrive.
type streamer struct {
	lines chan string
	seen  []string
	done  chan struct{}
	err   error
}

func startStreaming(t *testing.T, k kubectlRun, timeout time.Duration) *streamer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := k.command(ctx)
	pr, pw := io.Pipe()
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = pw, &stderr
	if k.mergeStderr {
		cmd.Stderr = pw
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start kubectl %v: %v", k.args, err)
	}
	s := &streamer{lines: make(chan string), done: make(chan struct{})}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		s.err = cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		// Unblock exec's copy into pw, then wait for the process.
		pr.Close()
		<-s.done
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("kubectl %v stderr: %s", k.args, stderr.String())
		}
	})
	return s
}

// expect waits until a line satisfying match arrives and returns it.
func (s *streamer) expect(t *testing.T, what string, match func(string) bool) string {
	t.Helper()
	for _, l := range s.seen {
		if match(l) {
			return l
		}
	}
	timer := time.NewTimer(20 * time.Second)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("stream ended before %s; got %q", what, s.seen)
			}
			s.seen = append(s.seen, l)
			if match(l) {
				return l
			}
		case <-timer.C:
			t.Fatalf("no line with %s within 20s; got %q", what, s.seen)
		}
	}
}

// wait waits for the command to exit, collecting any further output,
// and returns its error.
func (s *streamer) wait(t *testing.T) error {
	t.Helper()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-s.lines:
			if !ok { // EOF comes after the process has exited
				<-s.done
				return s.err
			}
			s.seen = append(s.seen, l)
		case <-timer.C:
			t.Fatalf("command still running after 30s; output %q", s.seen)
			return nil
		}
	}
}

// consume forgets lines already matched, so the next expect only looks
// at what arrives afterwards.
func (s *streamer) consume() { s.seen = nil }

func rowOf(name string) func(string) bool {
	return func(l string) bool { return strings.HasPrefix(l, name+" ") }
}

func TestGet_Watch(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "watch")
	kubectl(t, "-n", ns, "run", "p0", "--image=busybox")

	w := startStreaming(t, kubectlRun{srv: srv, args: []string{"-n", ns, "get", "pods", "-w"}}, 90*time.Second)
	if h := w.expect(t, "the header", func(l string) bool { return strings.HasPrefix(l, "NAME") }); columns(h) != "NAME READY STATUS RESTARTS AGE" {
		t.Errorf("watch header: got %q", h)
	}
	w.expect(t, "existing pod p0", rowOf("p0"))
	w.consume()

	kubectl(t, "-n", ns, "run", "p1", "--image=busybox")
	if l := w.expect(t, "new pod p1", rowOf("p1")); !strings.HasPrefix(columns(l), "p1 0/1 Pending 0 ") {
		t.Errorf("added row: got %q", l)
	}
	w.consume()
	kubectl(t, "-n", ns, "label", "pod", "p1", "changed=yes")
	w.expect(t, "modified pod p1", rowOf("p1"))
	w.consume()
	kubectl(t, "-n", ns, "delete", "pod", "p0", "--wait=false")
	w.expect(t, "deleted pod p0", rowOf("p0"))

	// --output-watch-events names each change.
	ev := startStreaming(t, kubectlRun{srv: srv, args: []string{"-n", ns, "get", "pods", "-w", "--output-watch-events"}}, 90*time.Second)
	ev.expect(t, "ADDED p1", func(l string) bool { return strings.HasPrefix(columns(l), "ADDED p1 ") })
	kubectl(t, "-n", ns, "annotate", "pod", "p1", "note=x")
	ev.expect(t, "MODIFIED p1", func(l string) bool { return strings.HasPrefix(columns(l), "MODIFIED p1 ") })
	kubectl(t, "-n", ns, "delete", "pod", "p1", "--wait=false")
	ev.expect(t, "DELETED p1", func(l string) bool { return strings.HasPrefix(columns(l), "DELETED p1 ") })
}

// TestGet_WatchSelector checks that a filtered watch reports an object
// leaving the selector as DELETED and re-entering it as ADDED.
func TestGet_WatchSelector(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "watch-selector")
	kubectl(t, "-n", ns, "run", "wp", "--image=busybox", "--labels=app=a", pendingOverride)
	kubectl(t, "-n", ns, "run", "other", "--image=busybox", "--labels=app=z", pendingOverride)
	w := startStreaming(t, kubectlRun{srv: srv, args: []string{"-n", ns, "get", "pods", "-l", "app=a", "-w", "--output-watch-events"}}, 90*time.Second)
	event := func(typ, name string) func(string) bool {
		return func(l string) bool { return strings.HasPrefix(columns(l), typ+" "+name+" ") }
	}
	w.expect(t, "ADDED wp", event("ADDED", "wp"))
	w.consume()
	kubectl(t, "-n", ns, "label", "pod", "wp", "app=b", "--overwrite")
	w.expect(t, "DELETED wp on leaving the selector", event("DELETED", "wp"))
	w.consume()
	kubectl(t, "-n", ns, "label", "pod", "other", "app=a", "--overwrite")
	w.expect(t, "ADDED other on entering the selector", event("ADDED", "other"))
	w.consume()
	kubectl(t, "-n", ns, "label", "pod", "wp", "app=a", "--overwrite")
	w.expect(t, "ADDED wp on re-entering", event("ADDED", "wp"))
	for _, l := range w.seen {
		if strings.Contains(l, " other ") && !strings.HasPrefix(columns(l), "ADDED other") {
			t.Errorf("unexpected event for other: %q", l)
		}
	}
}
