package endpointutil

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestFindPort(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}}},
		{Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100, Protocol: corev1.ProtocolTCP}}},
	}}}
	tests := []struct {
		name   string
		port   corev1.ServicePort
		want   int32
		errors bool
	}{
		{"number", corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(8080)}, 8080, false},
		{"unset target: the port", corev1.ServicePort{Port: 80}, 80, false},
		{"name, defaulted protocols", corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}, 8080, false},
		{"name in another container", corev1.ServicePort{Port: 9, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("metrics")}, 9100, false},
		{"name with the protocol", corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")}, 53, false},
		{"name with another protocol", corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("dns")}, 0, true},
		{"unknown name", corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("https")}, 0, true},
	}
	for _, tc := range tests {
		got, err := FindPort(pod, &tc.port)
		if got != tc.want || (err != nil) != tc.errors {
			t.Errorf("%s: %d, %v; want %d (error %v)", tc.name, got, err, tc.want, tc.errors)
		}
	}
}

func TestShouldInclude(t *testing.T) {
	now := metav1.Now()
	withIP := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1"}
	tests := []struct {
		name        string
		pod         corev1.Pod
		terminating bool
		want        bool
	}{
		{"running with an IP", corev1.Pod{Status: withIP}, false, true},
		{"no IP", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, false, false},
		{"succeeded", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded, PodIP: "10.0.0.1"}}, true, false},
		{"failed", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, PodIP: "10.0.0.1"}}, true, false},
		{"terminating", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Status: withIP}, false, false},
		{"terminating, included", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Status: withIP}, true, true},
	}
	for _, tc := range tests {
		if got := ShouldInclude(&tc.pod, tc.terminating); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPodIPOf(t *testing.T) {
	p := &corev1.Pod{Status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "fd00::1"}}}}
	if PodIPOf(p, false) != "10.0.0.1" || PodIPOf(p, true) != "fd00::1" {
		t.Errorf("PodIPOf: %q %q", PodIPOf(p, false), PodIPOf(p, true))
	}
	if PodIPOf(&corev1.Pod{Status: corev1.PodStatus{PodIP: "10.0.0.2"}}, true) != "" {
		t.Error("IPv4-only pod has an IPv6 address")
	}
}

func TestPodChanged(t *testing.T) {
	base := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}, ResourceVersion: "1"},
		Status: corev1.PodStatus{PodIP: "10.0.0.1", Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	tests := []struct {
		name           string
		mutate         func(*corev1.Pod)
		labels, change bool
	}{
		{"nothing relevant", func(p *corev1.Pod) { p.ResourceVersion = "2"; p.Status.StartTime = &metav1.Time{} }, false, false},
		{"labels", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "b"} }, true, false},
		{"readiness", func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }, false, true},
		{"IP", func(p *corev1.Pod) { p.Status.PodIP = "10.0.0.2" }, false, true},
		{"deletion", func(p *corev1.Pod) { n := metav1.Now(); p.DeletionTimestamp = &n }, false, true},
	}
	for _, tc := range tests {
		cur := base.DeepCopy()
		tc.mutate(cur)
		l, c := PodChanged(&base, cur)
		if l != tc.labels || c != tc.change {
			t.Errorf("%s: labels %v change %v, want %v %v", tc.name, l, c, tc.labels, tc.change)
		}
	}
}
