package streaming

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	clientspdy "k8s.io/client-go/transport/spdy"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// echoServer answers each line with "echo: <line>" and then closes, like
// a tiny request/response service in the pod.
func echoServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "echo: %s", line)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// fakePortForwardServer stands in for containerd's port-forward server:
// SPDY pairs by request ID, dialling 127.0.0.1:<port> for each, and
// reporting a refused connection on the error stream.
func fakePortForwardServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := httpstream.Handshake(r, w, []string{portforward.PortForwardProtocolV1Name}); err != nil {
			return
		}
		var mu sync.Mutex
		errs := map[string]httpstream.Stream{}
		conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(st httpstream.Stream, reply <-chan struct{}) error {
			id := st.Headers().Get(corev1.PortForwardRequestIDHeader)
			mu.Lock()
			defer mu.Unlock()
			if st.Headers().Get(corev1.StreamType) == corev1.StreamTypeError {
				errs[id] = st
				return nil
			}
			errSt := errs[id]
			go func() {
				<-reply
				defer errSt.Close()
				c, err := net.Dial("tcp", "127.0.0.1:"+st.Headers().Get(corev1.PortHeader))
				if err != nil {
					fmt.Fprintf(errSt, "error forwarding port %s: %v", st.Headers().Get(corev1.PortHeader), err)
					st.Close()
					return
				}
				defer c.Close()
				go func() { io.Copy(c, st); c.(*net.TCPConn).CloseWrite() }()
				io.Copy(st, c)
				st.Close()
			}()
			return nil
		})
		if conn != nil {
			<-conn.CloseChan()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newPortForwardServer(t *testing.T) (*httptest.Server, *fakeRuntime) {
	rt := &fakeRuntime{containers: map[string]*runtimeapi.ContainerStatus{}}
	rt.streamURL = fakePortForwardServer(t).URL
	srv := httptest.NewServer(NewHandler(Config{Runtime: rt, Pods: fakePods{}, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv, rt
}

// forward runs client-go's PortForwarder (what kubectl uses) through
// dialer and returns the local port for remote.
func forward(t *testing.T, dialer httpstream.Dialer, remote int) int {
	t.Helper()
	stop, ready := make(chan struct{}), make(chan struct{})
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(remote)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- pf.ForwardPorts() }()
	t.Cleanup(func() { close(stop); <-errc })
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("port forward: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("port forward not ready")
	}
	ports, err := pf.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	return int(ports[0].Local)
}

func roundTrip(t *testing.T, port int, msg string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "%s\n", msg)
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestPortForward(t *testing.T) {
	srv, rt := newPortForwardServer(t)
	remote := echoServer(t)
	u, _ := url.Parse(srv.URL + "/portForward/default/web")
	spdyDialer := func() httpstream.Dialer {
		tr, up, err := clientspdy.RoundTripperFor(&restclient.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return clientspdy.NewDialer(up, &http.Client{Transport: tr}, "POST", u)
	}
	tunnelDialer := func() httpstream.Dialer {
		d, err := portforward.NewSPDYOverWebsocketDialer(u, &restclient.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, c := range []struct {
		name   string
		dialer func() httpstream.Dialer
	}{{"spdy", spdyDialer}, {"spdy-over-websocket", tunnelDialer}} {
		t.Run(c.name, func(t *testing.T) {
			local := forward(t, c.dialer(), remote)
			// Several connections through one session, one after another
			// and at once.
			for i := range 3 {
				if got := roundTrip(t, local, fmt.Sprint("hello ", i)); got != fmt.Sprintf("echo: hello %d\n", i) {
					t.Fatalf("round trip %d: %q", i, got)
				}
			}
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if got := roundTrip(t, local, fmt.Sprint("par ", i)); got != fmt.Sprintf("echo: par %d\n", i) {
						t.Errorf("parallel %d: %q", i, got)
					}
				}()
			}
			wg.Wait()
			if rt.lastPF.PodSandboxId != "s1" {
				t.Errorf("CRI port-forward request = %+v", rt.lastPF)
			}
		})
	}
}

func TestPortForwardWebSocketChannels(t *testing.T) {
	srv, _ := newPortForwardServer(t)
	remote := echoServer(t)
	for _, proto := range []string{protoPortFwd, protoV4Base64} {
		t.Run(proto, func(t *testing.T) {
			wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/portForward/default/web?ports=" + strconv.Itoa(remote)
			ws, resp, err := (&websocket.Dialer{Subprotocols: []string{proto}}).Dial(wsURL, nil)
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			defer ws.Close()
			if ws.Subprotocol() != proto {
				t.Fatalf("negotiated %q", ws.Subprotocol())
			}
			b64 := strings.Contains(proto, "base64")
			enc := func(ch byte, data string) (int, []byte) {
				if b64 {
					return websocket.TextMessage, []byte(string('0'+ch) + b64enc(data))
				}
				return websocket.BinaryMessage, append([]byte{ch}, data...)
			}
			read := func() (byte, string) {
				_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, m, err := ws.ReadMessage()
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if b64 {
					return m[0] - '0', b64dec(t, string(m[1:]))
				}
				return m[0], string(m[1:])
			}
			// Both channels open with the port, little endian.
			for range 2 {
				ch, data := read()
				if len(data) != 2 || int(binary.LittleEndian.Uint16([]byte(data))) != remote || ch > 1 {
					t.Fatalf("channel %d opened with %q", ch, data)
				}
			}
			if err := ws.WriteMessage(enc(0, "hi\n")); err != nil {
				t.Fatal(err)
			}
			var got string
			for !strings.HasSuffix(got, "\n") {
				ch, data := read()
				if ch != 0 {
					t.Fatalf("data on channel %d: %q", ch, data)
				}
				got += data
			}
			if got != "echo: hi\n" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func TestPortForwardErrors(t *testing.T) {
	srv, _ := newPortForwardServer(t)
	code, body := get(t, srv.URL+"/portForward/default/gone")
	if code != 404 || !strings.Contains(body, "pod not found") {
		t.Errorf("missing pod: %d %s", code, body)
	}
	code, body = get(t, srv.URL+"/portForward/default/web?ports=99999")
	if code != 400 || !strings.Contains(body, "invalid port") {
		t.Errorf("bad port: %d %s", code, body)
	}
	// The channel protocol needs its ports up front.
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/portForward/default/web"
	_, resp, err := (&websocket.Dialer{Subprotocols: []string{protoPortFwd}}).Dial(wsURL, nil)
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Errorf("websocket without ports: err=%v resp=%v", err, resp)
	}
}

func TestPortForwardRefused(t *testing.T) {
	srv, _ := newPortForwardServer(t)
	// A port nothing listens on: the runtime's message reaches the error
	// stream, and the data stream ends.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	u, _ := url.Parse(srv.URL + "/portForward/default/web")
	tr, up, _ := clientspdy.RoundTripperFor(&restclient.Config{})
	conn, _, err := clientspdy.NewDialer(up, &http.Client{Transport: tr}, "POST", u).Dial(portforward.PortForwardProtocolV1Name)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := http.Header{}
	h.Set(corev1.StreamType, corev1.StreamTypeError)
	h.Set(corev1.PortHeader, strconv.Itoa(closed))
	h.Set(corev1.PortForwardRequestIDHeader, "0")
	errSt, err := conn.CreateStream(h)
	if err != nil {
		t.Fatal(err)
	}
	errSt.Close()
	h.Set(corev1.StreamType, corev1.StreamTypeData)
	data, err := conn.CreateStream(h)
	if err != nil {
		t.Fatal(err)
	}
	msg := make(chan string, 1)
	go func() { b, _ := io.ReadAll(errSt); msg <- string(b) }()
	select {
	case m := <-msg:
		if !strings.Contains(m, "refused") {
			t.Errorf("error stream: %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no error reported")
	}
	if b, _ := io.ReadAll(data); len(b) != 0 {
		t.Errorf("data: %q", b)
	}
}
