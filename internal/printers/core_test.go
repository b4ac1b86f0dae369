package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func core(resource string) schema.GroupResource { return schema.GroupResource{Resource: resource} }

func TestServiceCells(t *testing.T) {
	svc := func(typ corev1.ServiceType, mutate func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{
			ObjectMeta: objMeta("web", 5*time.Minute),
			Spec: corev1.ServiceSpec{
				Type: typ, ClusterIP: "10.96.0.10", Selector: map[string]string{"app": "web"},
				Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}},
			},
		}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	runCells(t, core("services"), []cellCase{
		{"cluster ip", svc(corev1.ServiceTypeClusterIP, nil),
			[]interface{}{"web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "5m", "app=web"}},
		{"node port", svc(corev1.ServiceTypeNodePort, func(s *corev1.Service) {
			s.Spec.Ports[0].NodePort = 30080
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 53, NodePort: 30053, Protocol: corev1.ProtocolUDP})
		}), []interface{}{"web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP,53:30053/UDP", "5m", "app=web"}},
		{"load balancer pending", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.Ports[0].NodePort = 31000
		}), []interface{}{"web", "LoadBalancer", "10.96.0.10", "<pending>", "80:31000/TCP", "5m", "app=web"}},
		{"load balancer ready", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}, {Hostname: "lb.example.com"}}
		}), []interface{}{"web", "LoadBalancer", "10.96.0.10", "203.0.113.7,lb.example.com", "80/TCP", "5m", "app=web"}},
		{"external ips", svc(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"198.51.100.1", "198.51.100.2"}
		}), []interface{}{"web", "ClusterIP", "10.96.0.10", "198.51.100.1,198.51.100.2", "80/TCP", "5m", "app=web"}},
		{"headless without selector", svc(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.Selector, s.Spec.Ports = "None", nil, nil
		}), []interface{}{"web", "ClusterIP", "None", "<none>", "<none>", "5m", "<none>"}},
		{"external name", svc(corev1.ServiceTypeExternalName, func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ExternalName = "", "db.example.com"
		}), []interface{}{"web", "ExternalName", "<none>", "db.example.com", "80/TCP", "5m", "app=web"}},
	})
}

func TestNodeCells(t *testing.T) {
	node := func(mutate func(*corev1.Node)) *corev1.Node {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "cp-1", CreationTimestamp: ago(72 * time.Hour),
				Labels: map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "cp-1"}},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{
					{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
					{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
				},
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "cp-1"}, {Type: corev1.NodeInternalIP, Address: "192.168.1.10"}},
				NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.32.4", OSImage: "Ubuntu 24.04 LTS",
					KernelVersion: "6.8.0-45-generic", ContainerRuntimeVersion: "containerd://1.7.22"},
			},
		}
		if mutate != nil {
			mutate(n)
		}
		return n
	}
	runCells(t, core("nodes"), []cellCase{
		{"ready control plane", node(nil), []interface{}{"cp-1", "Ready", "control-plane", "3d", "v1.32.4",
			"192.168.1.10", "<none>", "Ubuntu 24.04 LTS", "6.8.0-45-generic", "containerd://1.7.22"}},
		{"cordoned not ready worker", node(func(n *corev1.Node) {
			n.Labels = map[string]string{"node-role.kubernetes.io/worker": "", "kubernetes.io/role": "gpu"}
			n.Spec.Unschedulable = true
			n.Status.Conditions[1].Status = corev1.ConditionUnknown
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.9"})
		}), []interface{}{"cp-1", "NotReady,SchedulingDisabled", "gpu,worker", "3d", "v1.32.4",
			"192.168.1.10", "203.0.113.9", "Ubuntu 24.04 LTS", "6.8.0-45-generic", "containerd://1.7.22"}},
		{"fresh node", node(func(n *corev1.Node) {
			n.Labels, n.Status = nil, corev1.NodeStatus{}
		}), []interface{}{"cp-1", "Unknown", "<none>", "3d", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
	})
}

func TestSimpleCoreCells(t *testing.T) {
	m := objMeta("x", 90*time.Second)
	cases := []struct {
		resource string
		c        cellCase
	}{
		{"namespaces", cellCase{"active", &corev1.Namespace{ObjectMeta: m, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			[]interface{}{"x", "Active", "90s"}}},
		{"configmaps", cellCase{"data and binary", &corev1.ConfigMap{ObjectMeta: m, Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": nil}},
			[]interface{}{"x", int64(3), "90s"}}},
		{"secrets", cellCase{"opaque", &corev1.Secret{ObjectMeta: m, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}},
			[]interface{}{"x", "Opaque", int64(1), "90s"}}},
		{"serviceaccounts", cellCase{"no secrets", &corev1.ServiceAccount{ObjectMeta: m},
			[]interface{}{"x", int64(0), "90s"}}},
		{"limitranges", cellCase{"created at", &corev1.LimitRange{ObjectMeta: m},
			[]interface{}{"x", now.Add(-90 * time.Second).Format(time.RFC3339)}}},
		{"replicationcontrollers", cellCase{"rc", &corev1.ReplicationController{ObjectMeta: m,
			Spec: corev1.ReplicationControllerSpec{Replicas: ptr(int32(3)), Selector: map[string]string{"app": "x"},
				Template: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "img:1"}, {Name: "b", Image: "img:2"}}}}},
			Status: corev1.ReplicationControllerStatus{Replicas: 3, ReadyReplicas: 2}},
			[]interface{}{"x", int64(3), int64(3), int64(2), "90s", "a,b", "img:1,img:2", "app=x"}}},
	}
	for _, tc := range cases {
		runCells(t, core(tc.resource), []cellCase{tc.c})
	}
}

func TestEndpointsCells(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, 0, len(ips))
		for _, ip := range ips {
			out = append(out, corev1.EndpointAddress{IP: ip})
		}
		return out
	}
	m := objMeta("web", time.Hour)
	runCells(t, core("endpoints"), []cellCase{
		{"empty", &corev1.Endpoints{ObjectMeta: m}, []interface{}{"web", "<none>", "60m"}},
		{"two", &corev1.Endpoints{ObjectMeta: m, Subsets: []corev1.EndpointSubset{{
			Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: []corev1.EndpointPort{{Port: 80}},
		}}}, []interface{}{"web", "10.0.0.1:80,10.0.0.2:80", "60m"}},
		{"more", &corev1.Endpoints{ObjectMeta: m, Subsets: []corev1.EndpointSubset{{
			Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}},
		}}}, []interface{}{"web", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...", "60m"}},
		{"headless no ports", &corev1.Endpoints{ObjectMeta: m, Subsets: []corev1.EndpointSubset{{Addresses: addrs("fd00::1")}}},
			[]interface{}{"web", "fd00::1", "60m"}},
		{"ipv6 with port", &corev1.Endpoints{ObjectMeta: m, Subsets: []corev1.EndpointSubset{{
			Addresses: addrs("fd00::1"), Ports: []corev1.EndpointPort{{Port: 80}},
		}}}, []interface{}{"web", "[fd00::1]:80", "60m"}},
	})
}

func TestResourceQuotaCells(t *testing.T) {
	q := resource.MustParse
	rq := &corev1.ResourceQuota{
		ObjectMeta: objMeta("quota", 2*time.Hour),
		Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{"pods": q("10"), "requests.cpu": q("2"), "limits.memory": q("2Gi"), "limits.cpu": q("4")},
			Used: corev1.ResourceList{"pods": q("3"), "requests.cpu": q("500m"), "limits.memory": q("1Gi")},
		},
	}
	runCells(t, core("resourcequotas"), []cellCase{{"mixed", rq, []interface{}{
		"quota", "120m", "pods: 3/10, requests.cpu: 500m/2", "limits.cpu: 0/4, limits.memory: 1Gi/2Gi",
	}}})
}

func TestEventCells(t *testing.T) {
	ev := &corev1.Event{
		ObjectMeta:     objMeta("web.17a", 10*time.Minute),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
		Reason:         "BackOff", Message: "Back-off restarting failed container\n", Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-a"},
		FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(30 * time.Second), Count: 7,
	}
	micro := &corev1.Event{
		ObjectMeta: objMeta("ns.1", time.Minute), InvolvedObject: corev1.ObjectReference{Kind: "Namespace"},
		Reason: "Created", Type: corev1.EventTypeNormal, EventTime: metav1.NewMicroTime(now.Add(-time.Minute)),
		ReportingController: "ctrl",
	}
	runCells(t, core("events"), []cellCase{
		{"legacy", ev, []interface{}{"30s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, node-a",
			"Back-off restarting failed container", "10m", int64(7), "web.17a"}},
		{"event time only", micro, []interface{}{"60s", "Normal", "Created", "namespace", "", "ctrl", "", "60s", int64(1), "ns.1"}},
	})
}
