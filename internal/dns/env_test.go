package dns

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestServiceEnv(t *testing.T) {
	hello := service("default", "hello-web", "10.96.0.20", corev1.ServicePort{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP},
		corev1.ServicePort{Name: "metrics-port", Port: 9090})
	kube := service("default", "kubernetes", "10.96.0.1", corev1.ServicePort{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP})
	other := service("team", "db", "10.96.0.30", corev1.ServicePort{Port: 5432, Protocol: corev1.ProtocolUDP})
	headless := service("team", "hl", corev1.ClusterIPNone, corev1.ServicePort{Port: 1})
	all := []*corev1.Service{hello, kube, other, headless}
	show := func(vars []EnvVar) string {
		var s []string
		for _, v := range vars {
			s = append(s, v.Name+"="+v.Value)
		}
		return strings.Join(s, "\n")
	}
	want := `DB_SERVICE_HOST=10.96.0.30
DB_SERVICE_PORT=5432
DB_PORT=udp://10.96.0.30:5432
DB_PORT_5432_UDP=udp://10.96.0.30:5432
DB_PORT_5432_UDP_PROTO=udp
DB_PORT_5432_UDP_PORT=5432
DB_PORT_5432_UDP_ADDR=10.96.0.30
KUBERNETES_SERVICE_HOST=10.96.0.1
KUBERNETES_SERVICE_PORT=443
KUBERNETES_SERVICE_PORT_HTTPS=443
KUBERNETES_PORT=tcp://10.96.0.1:443
KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443
KUBERNETES_PORT_443_TCP_PROTO=tcp
KUBERNETES_PORT_443_TCP_PORT=443
KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1`
	if got := show(ServiceEnv(all, "team", true)); got != want {
		t.Errorf("team with links:\n%s\nwant\n%s", got, want)
	}
	if got := show(ServiceEnv(all, "team", false)); !strings.HasPrefix(got, "KUBERNETES_SERVICE_HOST=") || strings.Contains(got, "DB_") {
		t.Errorf("enableServiceLinks=false keeps only the kubernetes Service:\n%s", got)
	}
	got := show(ServiceEnv(all, "default", true))
	for _, w := range []string{"HELLO_WEB_SERVICE_HOST=10.96.0.20", "HELLO_WEB_SERVICE_PORT=8080", "HELLO_WEB_SERVICE_PORT_HTTP=8080",
		"HELLO_WEB_SERVICE_PORT_METRICS_PORT=9090", "HELLO_WEB_PORT=tcp://10.96.0.20:8080", "HELLO_WEB_PORT_9090_TCP_ADDR=10.96.0.20"} {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("default namespace lacks %s:\n%s", w, got)
		}
	}
	if n := strings.Count(got, "KUBERNETES_SERVICE_HOST="); n != 1 {
		t.Errorf("kubernetes appears %d times", n)
	}
	_ = fmt.Sprint()
}
