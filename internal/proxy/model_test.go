package proxy

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func slice(ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-x",
		Labels: map[string]string{discoveryv1.LabelServiceName: "web"}}, AddressType: discoveryv1.AddressTypeIPv4, Ports: ports, Endpoints: eps}
}

func sliceEP(ip, node string, ready, serving, terminating bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: ptr.To(node),
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(terminating)}}
}

// describe prints the parts of ServicePorts the tests compare.
func describe(ports []ServicePort) string {
	var lines []string
	for _, sp := range ports {
		l := fmt.Sprintf("%s %s:%d np=%d ext=%v extLocal=%v aff=%d eps=", sp.Key(), sp.ClusterIP, sp.Port, sp.NodePort, sp.ExternalIPs, sp.ExternalLocal, sp.AffinitySeconds)
		for _, e := range sp.Endpoints {
			l += fmt.Sprintf("%s(local=%v,", e, e.Local)
			if e.Remote {
				l += "remote,"
			}
			l += fmt.Sprintf("ready=%v,serving=%v,term=%v) ", e.Ready, e.Serving, e.Terminating)
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	return strings.Join(lines, "\n")
}

func TestServicePorts(t *testing.T) {
	svc := func(mut func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.5", ClusterIPs: []string{"10.96.0.5"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}}
		if mut != nil {
			mut(s)
		}
		return s
	}
	httpPort := []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}}
	tests := []struct {
		name string
		src  Sources
		want string
	}{{
		name: "named target port resolved through the slice, local and remote endpoints flagged",
		src: Sources{Service: svc(nil), Slices: []*discoveryv1.EndpointSlice{slice(httpPort,
			sliceEP("10.244.2.2", "n2", true, true, false), sliceEP("10.244.1.2", "n1", true, true, false))}},
		want: "default/web/tcp/http 10.96.0.5:80 np=0 ext=[] extLocal=false aff=0 eps=10.244.1.2:8080(local=true,ready=true,serving=true,term=false) 10.244.2.2:8080(local=false,remote,ready=true,serving=true,term=false)",
	}, {
		name: "duplicate endpoints across slices are merged; other ports ignored",
		src: Sources{Service: svc(nil), Slices: []*discoveryv1.EndpointSlice{
			slice(httpPort, sliceEP("10.244.1.2", "n1", true, true, false)),
			slice(httpPort, sliceEP("10.244.1.2", "n1", true, true, false)),
			slice([]discoveryv1.EndpointPort{{Name: ptr.To("other"), Port: ptr.To[int32](1)}}, sliceEP("10.244.9.9", "n1", true, true, false))}},
		want: "default/web/tcp/http 10.96.0.5:80 np=0 ext=[] extLocal=false aff=0 eps=10.244.1.2:8080(local=true,ready=true,serving=true,term=false)",
	}, {
		name: "headless Service has nothing to program",
		src: Sources{Service: svc(func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
		})},
		want: "",
	}, {
		name: "ExternalName has nothing to program",
		src:  Sources{Service: svc(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName })},
		want: "",
	}, {
		name: "LoadBalancer: node port, ingress IPs, Local policy, affinity default timeout",
		src: Sources{Service: svc(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.Ports[0].NodePort = 30080
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.ExternalIPs = []string{"172.31.0.9"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "172.31.0.10"}, {Hostname: "lb.example"}}
		})},
		want: "default/web/tcp/http 10.96.0.5:80 np=30080 ext=[172.31.0.9 172.31.0.10] extLocal=true aff=10800 eps=",
	}, {
		name: "selectorless Service with manual Endpoints, not-ready addresses kept as not ready",
		src: Sources{Service: svc(nil), Endpoints: &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "192.168.5.5"}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "192.168.5.6"}},
			Ports:             []corev1.EndpointPort{{Name: "http", Port: 9000}}}}}},
		want: "default/web/tcp/http 10.96.0.5:80 np=0 ext=[] extLocal=false aff=0 eps=192.168.5.5:9000(local=false,ready=true,serving=true,term=false) 192.168.5.6:9000(local=false,ready=false,serving=false,term=false)",
	}, {
		name: "NodePort on a ClusterIP Service is ignored",
		src:  Sources{Service: svc(func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30001 })},
		want: "default/web/tcp/http 10.96.0.5:80 np=0 ext=[] extLocal=false aff=0 eps=",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := describe(ServicePorts(tc.src, "n1")); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestUsableEndpoints(t *testing.T) {
	eps := []Endpoint{
		{IP: ip4("10.0.0.1"), Ready: false, Serving: true, Terminating: true},
		{IP: ip4("10.0.0.2"), Ready: false, Serving: false, Terminating: true},
	}
	if got := usable(eps, false); len(got) != 1 || !got[0].IP.Equal(ip4("10.0.0.1")) {
		t.Errorf("with no ready endpoint the serving terminating one is used: %v", got)
	}
	eps = append(eps, Endpoint{IP: ip4("10.0.0.3"), Ready: true, Serving: true})
	if got := usable(eps, false); len(got) != 1 || !got[0].IP.Equal(ip4("10.0.0.3")) {
		t.Errorf("ready endpoints win: %v", got)
	}
}

func TestApplyRedirects(t *testing.T) {
	ports := []ServicePort{{Service: nn("kube-system", "kube-dns"), Protocol: "UDP", Port: 53}, {Service: nn("kube-system", "kube-dns"), Protocol: "TCP", Port: 9153}}
	applyRedirects(ports, []Redirect{{Service: nn("kube-system", "kube-dns"), Protocol: "UDP", Port: 53, To: ip4("192.0.2.7"), ToPort: 5353}})
	if len(ports[0].Endpoints) != 1 || ports[0].Endpoints[0].String() != "192.0.2.7:5353" || !ports[0].Endpoints[0].Ready {
		t.Errorf("udp/53 not redirected: %v", ports[0].Endpoints)
	}
	if len(ports[1].Endpoints) != 0 {
		t.Errorf("tcp/9153 redirected: %v", ports[1].Endpoints)
	}
}
