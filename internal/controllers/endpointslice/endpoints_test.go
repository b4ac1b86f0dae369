package endpointslice

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func testPod(name, ip string, ready bool, port int32) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(name)},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: ip}, {IP: "fd00::" + name}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

func nodeLister(nodes ...*corev1.Node) corelisters.NodeLister {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, n := range nodes {
		_ = idx.Add(n)
	}
	return corelisters.NewNodeLister(idx)
}

func TestDesired(t *testing.T) {
	now := metav1.Now()
	term := testPod("term", "10.0.0.3", true, 8080)
	term.DeletionTimestamp = &now
	pods := []*corev1.Pod{testPod("a", "10.0.0.1", true, 8080), testPod("b", "10.0.0.2", false, 9090), term}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"}, IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
		Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	nodes := nodeLister(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{corev1.LabelTopologyZone: "z1"}}})

	got := desired(svc, pods, nodes)
	if len(got) != 2 {
		t.Fatalf("%d groups, want one per resolved port (8080, 9090)", len(got))
	}
	type conds struct{ ready, serving, terminating bool }
	want := map[string]conds{"a": {true, true, false}, "b": {false, false, false}, "term": {false, true, true}}
	for k, g := range got {
		if k.addressType != discoveryv1.AddressTypeIPv4 || len(g.ports) != 1 || *g.ports[0].Name != "http" {
			t.Errorf("group %+v ports %+v", k, g.ports)
		}
		for _, e := range g.endpoints {
			c := conds{*e.Conditions.Ready, *e.Conditions.Serving, *e.Conditions.Terminating}
			if c != want[e.TargetRef.Name] {
				t.Errorf("%s conditions %+v, want %+v", e.TargetRef.Name, c, want[e.TargetRef.Name])
			}
			if *e.NodeName != "n1" || e.Zone == nil || *e.Zone != "z1" || len(e.Addresses) != 1 {
				t.Errorf("%s: node %v zone %v addresses %v", e.TargetRef.Name, e.NodeName, e.Zone, e.Addresses)
			}
		}
	}

	// publishNotReadyAddresses: every endpoint ready and serving.
	svc.Spec.PublishNotReadyAddresses = true
	for _, g := range desired(svc, pods, nodes) {
		for _, e := range g.endpoints {
			if !*e.Conditions.Ready || !*e.Conditions.Serving {
				t.Errorf("%s not ready with publishNotReadyAddresses", e.TargetRef.Name)
			}
		}
	}
	// Dual stack: one group per family.
	svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
	if types := addressTypes(svc); len(types) != 2 || types[0] != discoveryv1.AddressTypeIPv6 {
		t.Errorf("address types %v", types)
	}
	if n := len(desired(svc, pods, nodes)); n != 4 {
		t.Errorf("dual stack: %d groups, want 4", n)
	}
}

func TestSliceLabels(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone}}
	l := sliceLabels(svc)
	if l[discoveryv1.LabelServiceName] != "web" || l[discoveryv1.LabelManagedBy] != ControllerName || l["tier"] != "front" {
		t.Errorf("labels %v", l)
	}
	if _, ok := l[corev1.IsHeadlessService]; !ok {
		t.Errorf("headless label missing: %v", l)
	}
}
