package endpoint

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

type podOpt func(*corev1.Pod)

func mkPod(name, ip string, ready bool, opts ...podOpt) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func withPort(name string, port int32) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: name, ContainerPort: port, Protocol: corev1.ProtocolTCP}}
	}
}

func svc(ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports, ClusterIP: "10.96.0.10"}}
}

func named(name string, port int32, target string) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString(target)}
}

func numbered(name string, port, target int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(target)}
}

func addr(p *corev1.Pod) corev1.EndpointAddress {
	n := p.Spec.NodeName
	return corev1.EndpointAddress{IP: p.Status.PodIP, NodeName: &n, Hostname: p.Spec.Hostname,
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}}
}

func port(name string, n int32) corev1.EndpointPort {
	return corev1.EndpointPort{Name: name, Port: n, Protocol: corev1.ProtocolTCP}
}

func TestDesired(t *testing.T) {
	a := mkPod("a", "10.0.0.2", true)
	b := mkPod("b", "10.0.0.1", true)
	nr := mkPod("nr", "10.0.0.3", false)
	other := mkPod("other", "10.0.0.4", true, withPort("http", 9090))
	noIP := mkPod("noip", "", true)
	done := mkPod("done", "10.0.0.5", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })
	now := metav1.Now()
	term := mkPod("term", "10.0.0.6", true, func(p *corev1.Pod) { p.DeletionTimestamp = &now })
	host := mkPod("host", "10.0.0.7", true, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "h0", "web" })
	hostOther := mkPod("host2", "10.0.0.8", true, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "h1", "elsewhere" })
	publish := svc(numbered("http", 80, 8080))
	publish.Spec.PublishNotReadyAddresses = true
	headless := svc()
	headless.Spec.ClusterIP = corev1.ClusterIPNone

	tests := []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want []corev1.EndpointSubset
	}{
		{"ready and not ready, sorted by IP", svc(numbered("http", 80, 8080)), []*corev1.Pod{a, b, nr, noIP, done, term},
			[]corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(b), addr(a)}, NotReadyAddresses: []corev1.EndpointAddress{addr(nr)},
				Ports: []corev1.EndpointPort{port("http", 8080)}}}},
		{"named port resolved per pod", svc(named("http", 80, "http")), []*corev1.Pod{a, other},
			[]corev1.EndpointSubset{
				{Addresses: []corev1.EndpointAddress{addr(a)}, Ports: []corev1.EndpointPort{port("http", 8080)}},
				{Addresses: []corev1.EndpointAddress{addr(other)}, Ports: []corev1.EndpointPort{port("http", 9090)}},
			}},
		{"a pod lacking a named port serves the others", svc(named("http", 80, "http"), named("metrics", 9100, "metrics")), []*corev1.Pod{a},
			[]corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(a)}, Ports: []corev1.EndpointPort{port("http", 8080)}}}},
		{"two ports, one subset", svc(numbered("http", 80, 8080), numbered("admin", 81, 8081)), []*corev1.Pod{a},
			[]corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(a)}, Ports: []corev1.EndpointPort{port("admin", 8081), port("http", 8080)}}}},
		{"publishNotReadyAddresses includes not ready and terminating pods as ready", publish, []*corev1.Pod{a, nr, term},
			[]corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(a), addr(nr), addr(term)}, Ports: []corev1.EndpointPort{port("http", 8080)}}}},
		{"hostname only for the service's subdomain", svc(numbered("http", 80, 8080)), []*corev1.Pod{host, hostOther},
			[]corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(host), func() corev1.EndpointAddress {
				x := addr(hostOther)
				x.Hostname = ""
				return x
			}()}, Ports: []corev1.EndpointPort{port("http", 8080)}}}},
		{"headless without ports lists addresses", headless, []*corev1.Pod{a, nr},
			[]corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(a)}, NotReadyAddresses: []corev1.EndpointAddress{addr(nr)}}}},
		{"no ports, not headless: nothing", svc(), []*corev1.Pod{a}, []corev1.EndpointSubset{}},
		{"no pods", svc(numbered("http", 80, 8080)), nil, []corev1.EndpointSubset{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, truncated := desired(tc.svc, tc.pods)
			if truncated {
				t.Error("truncated")
			}
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDesiredOverCapacity(t *testing.T) {
	var pods []*corev1.Pod
	for i := range maxCapacity + 5 {
		pods = append(pods, mkPod(fmt.Sprintf("p%d", i), fmt.Sprintf("10.1.%d.%d", i/250, i%250), i%2 == 0))
	}
	got, truncated := desired(svc(numbered("http", 80, 8080)), pods)
	n := 0
	for _, s := range got {
		n += len(s.Addresses) + len(s.NotReadyAddresses)
	}
	if !truncated || n != maxCapacity || len(got[0].Addresses) != (maxCapacity+6)/2 {
		t.Errorf("truncated=%v, %d addresses (%d ready), want %d with every ready one kept", truncated, n, len(got[0].Addresses), maxCapacity)
	}
}
