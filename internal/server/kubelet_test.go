package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/client-go/rest"
	clientspdy "k8s.io/client-go/transport/spdy"

	"github.com/navarch/navarch/internal/pki"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

// fakeAgent is a node agent's HTTPS server as the API server sees it:
// serving certificate from the cluster CA, client certificates required.
type fakeAgent struct {
	srv     *httptest.Server
	release chan struct{}
	mu      sync.Mutex
	// seen records "CN|path?query" of each request.
	seen []string
}

func startFakeAgent(t *testing.T, dataDir string) *fakeAgent {
	t.Helper()
	ca, err := pki.EnsureCA(filepath.Join(dataDir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.EnsureServing(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAgent{release: make(chan struct{})}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving}, ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeAgent) port() int32 { return int32(a.srv.Listener.Addr().(*net.TCPAddr).Port) }

func (a *fakeAgent) serve(w http.ResponseWriter, r *http.Request) {
	cert := r.TLS.PeerCertificates[0]
	a.mu.Lock()
	a.seen = append(a.seen, cert.Subject.CommonName+"|"+strings.Join(cert.Subject.Organization, ",")+"|"+r.URL.RequestURI())
	a.mu.Unlock()
	switch {
	case r.URL.Path == "/containerLogs/default/web/app":
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "line 1")
		http.NewResponseController(w).Flush()
		<-a.release
		fmt.Fprintln(w, "line 2")
	case r.URL.Path == "/containerLogs/default/web/waiting":
		http.Error(w, `container "waiting" in pod "web" is waiting to start: ContainerCreating`, http.StatusBadRequest)
	case strings.HasPrefix(r.URL.Path, "/exec/") && websocket.IsWebSocketUpgrade(r):
		u := websocket.Upgrader{Subprotocols: []string{"v5.channel.k8s.io", "v4.channel.k8s.io"}}
		ws, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			typ, m, err := ws.ReadMessage()
			if err != nil {
				return
			}
			ws.WriteMessage(typ, m)
		}
	case strings.HasPrefix(r.URL.Path, "/exec/"):
		if _, err := httpstream.Handshake(r, w, []string{"v4.channel.k8s.io"}); err != nil {
			return
		}
		conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, _ <-chan struct{}) error {
			go func() { io.Copy(s, s); s.Close() }()
			return nil
		})
		if conn != nil {
			<-conn.CloseChan()
		}
	default:
		http.Error(w, "unexpected path "+r.URL.Path, http.StatusNotFound)
	}
}

func (a *fakeAgent) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

func TestPodSubresourcesThroughAgent(t *testing.T) {
	env := testserver.Start(t)
	ctx := context.Background()
	agent := startFakeAgent(t, env.DataDir)
	cs := env.Client
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = agent.port()
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	mkPod := func(name, nodeName string, containers ...string) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: nodeName}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
		}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mkPod("web", "n1", "app", "waiting")
	mkPod("pending", "", "app")
	mkPod("lost", "n-gone", "app")

	t.Run("logs stream as they come", func(t *testing.T) {
		rc, err := cs.CoreV1().Pods("default").GetLogs("web", &corev1.PodLogOptions{Container: "app", Follow: true, TailLines: ptr(int64(5))}).Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		br := bufio.NewReader(rc)
		// The first line arrives while the agent still holds the second.
		if l, err := br.ReadString('\n'); l != "line 1\n" {
			t.Fatalf("first line %q, %v", l, err)
		}
		close(agent.release)
		rest, _ := io.ReadAll(br)
		if string(rest) != "line 2\n" {
			t.Fatalf("rest %q", rest)
		}
		var saw bool
		for _, r := range agent.requests() {
			saw = saw || r == "kube-apiserver-kubelet-client|system:masters|/containerLogs/default/web/app?follow=true&tailLines=5"
		}
		if !saw {
			t.Errorf("agent requests: %v", agent.requests())
		}
	})

	t.Run("log errors", func(t *testing.T) {
		cases := []struct {
			pod, container string
			code           int32
			msg            string
		}{
			{"web", "waiting", 400, `container "waiting" in pod "web" is waiting to start: ContainerCreating`},
			{"web", "", 400, "a container name must be specified for pod web, choose one of: [app waiting]"},
			{"web", "nope", 400, "container nope is not valid for pod web"},
			{"absent", "app", 404, `pods "absent" not found`},
			{"lost", "app", 404, `nodes "n-gone" not found`},
		}
		for _, c := range cases {
			_, err := cs.CoreV1().Pods("default").GetLogs(c.pod, &corev1.PodLogOptions{Container: c.container}).Stream(ctx)
			var se *apierrors.StatusError
			if !asStatus(err, &se) || se.ErrStatus.Code != c.code || se.ErrStatus.Message != c.msg {
				t.Errorf("%s/%s: %v, want %d %q", c.pod, c.container, err, c.code, c.msg)
			}
		}
		// A pod on no node yet has no log to show.
		if b, err := cs.CoreV1().Pods("default").GetLogs("pending", &corev1.PodLogOptions{}).DoRaw(ctx); err != nil || len(b) != 0 {
			t.Errorf("pending pod log: %q, %v", b, err)
		}
	})

	t.Run("websocket upgrade is end to end", func(t *testing.T) {
		tlsCfg, err := rest.TLSConfigFor(env.Config)
		if err != nil {
			t.Fatal(err)
		}
		u := "wss://" + strings.TrimPrefix(env.Config.Host, "https://") + "/api/v1/namespaces/default/pods/web/exec?container=app&command=sh&stdout=true"
		ws, resp, err := (&websocket.Dialer{TLSClientConfig: tlsCfg, Subprotocols: []string{"v5.channel.k8s.io", "v4.channel.k8s.io"}}).Dial(u, nil)
		if err != nil {
			t.Fatalf("dial: %v (%v)", err, resp)
		}
		defer ws.Close()
		if ws.Subprotocol() != "v5.channel.k8s.io" {
			t.Errorf("negotiated %q", ws.Subprotocol())
		}
		ws.WriteMessage(websocket.BinaryMessage, []byte("\x00ping"))
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, m, err := ws.ReadMessage(); err != nil || string(m) != "\x00ping" {
			t.Fatalf("echo %q, %v", m, err)
		}
	})

	t.Run("spdy upgrade is end to end", func(t *testing.T) {
		tr, up, err := clientspdy.RoundTripperFor(env.Config)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(env.Config.Host + "/api/v1/namespaces/default/pods/web/exec?container=app&command=sh&stdin=true")
		conn, proto, err := clientspdy.NewDialer(up, &http.Client{Transport: tr}, "POST", u).Dial("v5.channel.k8s.io", "v4.channel.k8s.io")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if proto != "v4.channel.k8s.io" {
			t.Errorf("negotiated %q", proto)
		}
		h := http.Header{}
		h.Set("streamType", "stdin")
		s, err := conn.CreateStream(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(s, "pong")
		s.Close()
		if b, _ := io.ReadAll(s); string(b) != "pong" {
			t.Fatalf("echo %q", b)
		}
	})

	t.Run("stream errors", func(t *testing.T) {
		cases := []struct {
			path string
			code int
			msg  string
		}{
			{"pods/pending/exec?command=ls&stdout=true", 400, "pod pending does not have a host assigned"},
			{"pods/pending/portforward", 400, "pod pending does not have a host assigned"},
			{"pods/web/attach?container=nope&stdout=true", 400, "container nope is not valid for pod web"},
			{"pods/absent/exec?command=ls", 404, `pods \"absent\" not found`},
			{"pods/web/log?tailLines=-2", 422, "must be greater than or equal to 0"},
		}
		client := &http.Client{Transport: mustTransport(t, env.Config)}
		for _, c := range cases {
			resp, err := client.Post(env.Config.Host+"/api/v1/namespaces/default/"+c.path, "", nil)
			if strings.Contains(c.path, "/log") {
				resp, err = client.Get(env.Config.Host + "/api/v1/namespaces/default/" + c.path)
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || !strings.Contains(string(b), c.msg) {
				t.Errorf("%s: %d %s, want %d %q", c.path, resp.StatusCode, b, c.code, c.msg)
			}
		}
	})

	t.Run("agent unreachable", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		closedPort := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		n, _ := cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
		n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(closedPort)
		if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := cs.CoreV1().Pods("default").GetLogs("web", &corev1.PodLogOptions{Container: "app"}).Stream(ctx)
		var se *apierrors.StatusError
		if !asStatus(err, &se) || se.ErrStatus.Code != 500 || !strings.Contains(se.ErrStatus.Message, strconv.Itoa(closedPort)) {
			t.Errorf("unreachable agent: %v", err)
		}
	})
}

func asStatus(err error, se **apierrors.StatusError) bool {
	s, ok := err.(*apierrors.StatusError)
	*se = s
	return ok
}

func mustTransport(t *testing.T, cfg *rest.Config) http.RoundTripper {
	t.Helper()
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func ptr[T any](v T) *T { return &v }
