package streaming

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	restclient "k8s.io/client-go/rest"
	clientremote "k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	streamhttp "k8s.io/streaming/pkg/httpstream"
)

// fakeStreamServer stands in for containerd's streaming server: a SPDY
// remotecommand server (our own, in its server role) whose "process"
// runs the fake commands of runFake.
func fakeStreamServer(t *testing.T, rt *fakeRuntime) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt.mu.Lock()
		cmd := []string{"attached"}
		var o execOptions
		if r.URL.Path == "/exec" {
			e := rt.lastExec
			cmd, o = e.Cmd, execOptions{stdin: e.Stdin, stdout: e.Stdout, stderr: e.Stderr, tty: e.Tty}
		} else {
			a := rt.lastAtt
			o = execOptions{stdin: a.Stdin, stdout: a.Stdout, stderr: a.Stderr, tty: a.Tty}
		}
		rt.mu.Unlock()
		s, err := spdySession(w, r, o)
		if err != nil {
			t.Errorf("fake stream server: %v", err)
			return
		}
		s.finish(runFake(s, cmd))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func runFake(s *session, cmd []string) error {
	switch cmd[0] {
	case "cat":
		_, err := io.Copy(s.stdout, s.stdin)
		return err
	case "exit":
		code, _ := strconv.Atoi(cmd[1])
		if s.stderr != nil {
			fmt.Fprint(s.stderr, "bye")
		}
		return utilexec.CodeExitError{Err: fmt.Errorf("exit code %d", code), Code: code}
	case "size":
		size := s.resize.Next()
		fmt.Fprintf(s.stdout, "%dx%d", size.Width, size.Height)
		return nil
	case "attached":
		fmt.Fprint(s.stdout, "attached output")
		return nil
	case "fail":
		return errors.New("failed to exec in container: executable file not found in $PATH")
	}
	return fmt.Errorf("unknown fake command %q", cmd[0])
}

func newExecServer(t *testing.T) (*httptest.Server, *fakeRuntime) {
	t.Helper()
	rt := &fakeRuntime{containers: map[string]*runtimeapi.ContainerStatus{}}
	rt.streamURL = fakeStreamServer(t, rt).URL
	srv := httptest.NewServer(NewHandler(Config{Runtime: rt, Pods: fakePods{}, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv, rt
}

type executorKind struct {
	name string
	new  func(url string) (clientremote.Executor, error)
}

// executors are the client-go executors kubectl 1.32 uses (WebSocket v5,
// then SPDY) plus a WebSocket v4 client.
var executors = []executorKind{
	{"websocket-v5", func(u string) (clientremote.Executor, error) {
		return clientremote.NewWebSocketExecutor(&restclient.Config{}, "GET", u)
	}},
	{"websocket-v4", func(u string) (clientremote.Executor, error) {
		return clientremote.NewWebSocketExecutorForProtocols(&restclient.Config{}, "GET", u, protoV4)
	}},
	{"spdy", func(u string) (clientremote.Executor, error) {
		pu, err := parseURL(u)
		if err != nil {
			return nil, err
		}
		return clientremote.NewSPDYExecutor(&restclient.Config{}, "POST", pu)
	}},
}

// stdinReader gives its data, then blocks until closed: like a terminal,
// it does not end by itself unless told to.
type stdinReader struct {
	r    io.Reader
	eof  bool
	hold chan struct{}
}

func (s *stdinReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF && !s.eof {
		<-s.hold
	}
	return n, err
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestExec(t *testing.T) {
	srv, rt := newExecServer(t)
	for _, ex := range executors {
		t.Run(ex.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			run := func(query string, opts clientremote.StreamOptions) error {
				e, err := ex.new(srv.URL + "/exec/default/web/app?" + query)
				if err != nil {
					t.Fatal(err)
				}
				return e.StreamWithContext(ctx, opts)
			}
			var out, errOut syncBuffer
			// Stdin to its end (v5 and SPDY half-close it; v4 cannot, so
			// its fake command ends on exit instead).
			if ex.name != "websocket-v4" {
				err := run("command=cat&stdin=true&stdout=true", clientremote.StreamOptions{Stdin: strings.NewReader("hello"), Stdout: &out})
				if err != nil || out.String() != "hello" {
					t.Fatalf("cat: err=%v out=%q", err, out.String())
				}
			}
			// Exit codes come back as CodeExitError, as kubectl needs.
			err := run("command=exit&command=3&stdout=true&stderr=true", clientremote.StreamOptions{Stdout: &out, Stderr: &errOut})
			var ce utilexec.CodeExitError
			if !errors.As(err, &ce) || ce.Code != 3 || errOut.String() != "bye" {
				t.Fatalf("exit 3: err=%v (%T) stderr=%q", err, err, errOut.String())
			}
			if got := rt.lastExec; strings.Join(got.Cmd, " ") != "exit 3" || got.ContainerId != "c1" || got.Tty || !got.Stderr {
				t.Errorf("CRI exec request = %+v", got)
			}
			// A terminal: resize events reach the runtime; stderr is off.
			var sized syncBuffer
			hold := make(chan struct{})
			defer close(hold)
			sizes := &fixedSizes{sizes: []clientremote.TerminalSize{{Width: 100, Height: 40}}}
			err = run("command=size&stdin=true&stdout=true&stderr=true&tty=true",
				clientremote.StreamOptions{Stdin: &stdinReader{r: strings.NewReader(""), hold: hold}, Stdout: &sized, Tty: true, TerminalSizeQueue: sizes})
			if err != nil || sized.String() != "100x40" {
				t.Fatalf("tty: err=%v out=%q", err, sized.String())
			}
			if got := rt.lastExec; !got.Tty || got.Stderr {
				t.Errorf("tty exec request = %+v, want tty without stderr", got)
			}
			// Runtime failures carry the runtime's message.
			err = run("command=fail&stdout=true", clientremote.StreamOptions{Stdout: &out})
			if err == nil || !strings.Contains(err.Error(), "executable file not found") {
				t.Fatalf("fail: err=%v", err)
			}
		})
	}
}

type fixedSizes struct {
	mu    sync.Mutex
	sizes []clientremote.TerminalSize
}

func (f *fixedSizes) Next() *clientremote.TerminalSize {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sizes) == 0 {
		return nil
	}
	s := f.sizes[0]
	f.sizes = f.sizes[1:]
	return &s
}

func TestAttach(t *testing.T) {
	srv, rt := newExecServer(t)
	for _, ex := range executors {
		t.Run(ex.name, func(t *testing.T) {
			e, err := ex.new(srv.URL + "/attach/default/web/app?stdout=true")
			if err != nil {
				t.Fatal(err)
			}
			var out syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := e.StreamWithContext(ctx, clientremote.StreamOptions{Stdout: &out}); err != nil || out.String() != "attached output" {
				t.Fatalf("attach: err=%v out=%q", err, out.String())
			}
			if rt.lastAtt.ContainerId != "c1" || !rt.lastAtt.Stdout || rt.lastAtt.Stdin {
				t.Errorf("CRI attach request = %+v", rt.lastAtt)
			}
		})
	}
}

func TestExecErrors(t *testing.T) {
	srv, _ := newExecServer(t)
	cases := []struct {
		path, query string
		code        int
		contains    string
	}{
		{"/exec/default/web/app", "stdout=true", 400, "at least 1 command"},
		{"/exec/default/web/app", "command=ls", 400, "at least 1 of stdin, stdout, stderr"},
		{"/exec/default/web/other", "command=ls&stdout=true", 400, `container \"other\" in pod \"web\" is not available`},
		{"/exec/default/gone/app", "command=ls&stdout=true", 404, "pod not found"},
		{"/attach/default/gone/app", "stdout=true", 404, "pod not found"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("POST", srv.URL+c.path+"?"+c.query, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "SPDY/3.1")
		req.Header.Set(httpstream.HeaderProtocolVersion, protoV4)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.contains) {
			t.Errorf("%s?%s: got %d %s, want %d %q", c.path, c.query, resp.StatusCode, body, c.code, c.contains)
		}
	}
	// Through client-go, a refused WebSocket upgrade is an upgrade failure,
	// on which kubectl falls back to SPDY.
	e, _ := clientremote.NewWebSocketExecutor(&restclient.Config{}, "GET", srv.URL+"/exec/default/gone/app?command=ls&stdout=true")
	err := e.StreamWithContext(context.Background(), clientremote.StreamOptions{Stdout: io.Discard})
	if !streamhttp.IsUpgradeFailure(err) {
		t.Errorf("websocket on a missing pod: %v, want an upgrade failure", err)
	}
}
