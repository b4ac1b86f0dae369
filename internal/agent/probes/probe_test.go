package probes

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestHTTPAndTCPProbes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if !strings.HasPrefix(r.UserAgent(), "kube-probe/") || r.Header.Get("X-Test") != "yes" {
				w.WriteHeader(http.StatusBadRequest)
			}
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	host, portS, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	port, _ := strconv.Atoi(portS)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	c := &corev1.Container{Name: "c", Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: int32(port)}}}
	hdr := []corev1.HTTPHeader{{Name: "X-Test", Value: "yes"}}
	r := NewRunner(nil)
	for _, tc := range []struct {
		name string
		p    corev1.ProbeHandler
		ok   bool
		out  string
	}{
		{"http ok by name", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromString("web"), HTTPHeaders: hdr}}, true, ""},
		{"http follows redirects", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/redirect", Port: intstr.FromInt32(int32(port)), HTTPHeaders: hdr}}, true, ""},
		{"http 500", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/bad", Port: intstr.FromInt32(int32(port))}}, false, "HTTP probe failed with statuscode: 500"},
		{"http unknown port name", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("nope")}}, false, `couldn't find port "nope"`},
		{"tcp open", corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}, true, ""},
		{"tcp closed", corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(closedPort))}}, false, "connection refused"},
	} {
		ok, out := r.Run(context.Background(), &corev1.Probe{ProbeHandler: tc.p, TimeoutSeconds: 1}, Target{Host: host, Container: c})
		if ok != tc.ok || !strings.Contains(out, tc.out) {
			t.Errorf("%s: ok=%v out=%q, want ok=%v containing %q", tc.name, ok, out, tc.ok, tc.out)
		}
	}
}
