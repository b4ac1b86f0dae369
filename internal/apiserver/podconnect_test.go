package apiserver

import (
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testPod(node string, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: corev1.PodSpec{NodeName: node}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
	}
	return p
}

func TestStreamPath(t *testing.T) {
	withInit := testPod("n1", "app", "side")
	withInit.Spec.InitContainers = []corev1.Container{{Name: "setup"}}
	withInit.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
	cases := []struct {
		name      string
		pod       *corev1.Pod
		sub       string
		container string
		want      string
		wantErr   string
	}{
		{"only container by default", testPod("n1", "app"), "exec", "", "/exec/default/web/app", ""},
		{"named container", withInit, "attach", "side", "/attach/default/web/side", ""},
		{"init container", withInit, "exec", "setup", "/exec/default/web/setup", ""},
		{"ephemeral container", withInit, "exec", "debug", "/exec/default/web/debug", ""},
		{"port-forward needs no container", testPod("n1", "a", "b"), "portforward", "", "/portForward/default/web", ""},
		{"unknown container", testPod("n1", "app"), "exec", "nope", "", "container nope is not valid for pod web"},
		{"ambiguous", withInit, "exec", "", "", "a container name must be specified for pod web, choose one of: [app side] or one of the init containers: [setup]"},
		{"ambiguous without init", testPod("n1", "a", "b"), "exec", "", "", "a container name must be specified for pod web, choose one of: [a b]"},
		{"not scheduled", testPod("", "app"), "exec", "", "", "pod web does not have a host assigned"},
		{"not scheduled port-forward", testPod("", "app"), "portforward", "", "", "pod web does not have a host assigned"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := streamPath(c.pod, c.sub, url.Values{"container": {c.container}})
			if c.wantErr != "" {
				if !apierrors.IsBadRequest(err) || err.Error() != c.wantErr {
					t.Fatalf("err = %v, want 400 %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestValidateLogOptions(t *testing.T) {
	cases := []struct {
		query   string
		code    int32
		message string
	}{
		{query: "tailLines=10&limitBytes=5&sinceSeconds=3&follow=true&timestamps=1"},
		{query: "sinceTime=2024-01-01T00:00:00Z&stream=Stdout"},
		{query: "tailLines=-1", code: 422, message: `PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0`},
		{query: "limitBytes=0", code: 422, message: `limitBytes: Invalid value: 0: must be greater than 0`},
		{query: "sinceSeconds=0", code: 422, message: `sinceSeconds: Invalid value: 0: must be greater than 0`},
		{query: "sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z", code: 422, message: "at most one of `sinceTime` or `sinceSeconds` may be specified"},
		{query: "stream=Both", code: 422, message: `stream: Unsupported value: "Both"`},
		{query: "tailLines=ten", code: 400, message: `tailLines: invalid value "ten"`},
		{query: "follow=yes", code: 400, message: `follow: invalid value "yes"`},
		{query: "sinceTime=yesterday", code: 400, message: `sinceTime: invalid value "yesterday"`},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		err := validateLogOptions("web", q)
		if c.code == 0 {
			if err != nil {
				t.Errorf("%s: %v", c.query, err)
			}
			continue
		}
		st := statusOf(err)
		if st.Code != c.code || !strings.Contains(st.Message, c.message) {
			t.Errorf("%s: got %d %q, want %d containing %q", c.query, st.Code, st.Message, c.code, c.message)
		}
	}
}

func TestAgentQuery(t *testing.T) {
	q, _ := url.ParseQuery("container=app&command=sh&command=-c&command=echo+hi&stdin=true&insecureSkipTLSVerifyBackend=true")
	got := agentQuery(q)
	if got.Get("container") != "" || got.Get("insecureSkipTLSVerifyBackend") != "" || strings.Join(got["command"], " ") != "sh -c echo hi" || got.Get("stdin") != "true" {
		t.Errorf("agentQuery = %v", got)
	}
}

func TestNodeAddress(t *testing.T) {
	n := &corev1.Node{Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: "host1"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.5"}}}}
	if got, _ := nodeAddress(n); got != "10.0.0.5" {
		t.Errorf("InternalIP not preferred: %q", got)
	}
	n.Status.Addresses = n.Status.Addresses[:1]
	if got, _ := nodeAddress(n); got != "host1" {
		t.Errorf("fallback: %q", got)
	}
	n.Status.Addresses = nil
	if _, err := nodeAddress(n); !apierrors.IsBadRequest(err) {
		t.Errorf("no address: %v", err)
	}
}
