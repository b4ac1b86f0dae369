package streaming

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newLogServer(t *testing.T) (*httptest.Server, *fakeRuntime, string) {
	t.Helper()
	dir := t.TempDir()
	cur, prev := filepath.Join(dir, "1.log"), filepath.Join(dir, "0.log")
	writeFile(t, prev, logFile("stdout F previous run"))
	writeFile(t, cur, logFile("stdout F one", "stderr F two", "stdout F three"))
	rt := &fakeRuntime{containers: map[string]*runtimeapi.ContainerStatus{
		"c1": {Id: "c1", State: runtimeapi.ContainerState_CONTAINER_RUNNING, LogPath: cur},
		"c0": {Id: "c0", State: runtimeapi.ContainerState_CONTAINER_EXITED, LogPath: prev},
	}}
	srv := httptest.NewServer(NewHandler(Config{Runtime: rt, Pods: fakePods{}, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv, rt, cur
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestContainerLogs(t *testing.T) {
	srv, _, _ := newLogServer(t)
	cases := []struct {
		query    string
		path     string
		code     int
		contains string
	}{
		{path: "/containerLogs/default/web/app", code: 200, contains: "one\ntwo\nthree\n"},
		{path: "/containerLogs/default/web/app", query: "tailLines=1", code: 200, contains: "three\n"},
		{path: "/containerLogs/default/web/app", query: "previous=true", code: 200, contains: "previous run\n"},
		{path: "/containerLogs/default/web/app", query: "limitBytes=5", code: 200, contains: "one\nt"},
		{path: "/containerLogs/default/web/app", query: "timestamps=1&tailLines=1", code: 200, contains: t0.Add(2*time.Second).Format(time.RFC3339Nano) + " three\n"},
		{path: "/containerLogs/default/web/app", query: "sinceTime=" + t0.Add(time.Second).Format(time.RFC3339), code: 200, contains: "two\nthree\n"},
		{path: "/containerLogs/default/web/app", query: "tailLines=-1", code: 400, contains: "tailLines"},
		{path: "/containerLogs/default/web/app", query: "sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z", code: 400, contains: "at most one of"},
		{path: "/containerLogs/default/web/app", query: "follow=maybe", code: 400, contains: "follow"},
		{path: "/containerLogs/default/web/other", code: 400, contains: `container \"other\" in pod \"web\" is not available`},
		{path: "/containerLogs/default/nope/app", code: 404, contains: "pod not found"},
	}
	for _, c := range cases {
		code, body := get(t, srv.URL+c.path+"?"+c.query)
		if code != c.code || (c.code == 200 && body != c.contains) || (c.code != 200 && !strings.Contains(body, c.contains)) {
			t.Errorf("%s?%s: got %d %q, want %d %q", c.path, c.query, code, body, c.code, c.contains)
		}
	}
}

// readLines reads from r until want has been seen or the deadline passes.
func waitFor(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended before %q", want)
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %q", want)
		}
	}
}

func TestContainerLogsFollow(t *testing.T) {
	srv, rt, path := newLogServer(t)
	resp, err := http.Get(srv.URL + "/containerLogs/default/web/app?follow=true&tailLines=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitFor(t, lines, "three")
	appendFile(t, path, logFile("stdout P fo", "stdout F ur"))
	waitFor(t, lines, "four")

	// Rotation: the kubelet renames the file and the runtime reopens a
	// new one at the same path.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", logFile("stdout F five"))
	appendFile(t, path, logFile("stdout F six", "stdout F six and a half"))
	waitFor(t, lines, "five")
	waitFor(t, lines, "six")
	waitFor(t, lines, "six and a half")

	// Truncation in place (to less than was read) starts over.
	writeFile(t, path, logFile("stdout F seven"))
	waitFor(t, lines, "seven")

	// The stream ends once the container has stopped.
	rt.setState("c1", runtimeapi.ContainerState_CONTAINER_EXITED)
	appendFile(t, path, logFile("stdout F last words"))
	waitFor(t, lines, "last words")
	select {
	case _, ok := <-lines:
		if ok {
			t.Fatal("unexpected line after the end")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not end after the container stopped")
	}
}
