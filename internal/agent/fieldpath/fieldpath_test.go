package fieldpath

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestField(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1",
		Labels: map[string]string{"b": "2", "a": "1"}, Annotations: map[string]string{"x": `q"uote`}},
		Spec: corev1.PodSpec{NodeName: "n1", ServiceAccountName: "sa"}}
	st := Status{PodIP: "10.0.0.5", HostIP: "192.168.1.2", PodIPs: []string{"10.0.0.5"}}
	for _, tc := range []struct {
		path, want string
		env, err   bool
	}{
		{path: "metadata.name", want: "p"},
		{path: "metadata.namespace", want: "ns"},
		{path: "metadata.uid", want: "u1"},
		{path: "metadata.labels", want: "a=\"1\"\nb=\"2\""},
		{path: "metadata.labels['b']", want: "2"},
		{path: "metadata.annotations['x']", want: `q"uote`},
		{path: "metadata.annotations", want: `x="q\"uote"`},
		{path: "status.podIP", env: true, want: "10.0.0.5"},
		{path: "status.podIP", err: true},
		{path: "status.hostIP", env: true, want: "192.168.1.2"},
		{path: "spec.nodeName", env: true, want: "n1"},
		{path: "spec.serviceAccountName", env: true, want: "sa"},
		{path: "spec.bogus", env: true, err: true},
	} {
		got, err := Field(pod, tc.path, st, tc.env)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Field(%q, env=%v) = %q, %v; want %q (error %v)", tc.path, tc.env, got, err, tc.want, tc.err)
		}
	}
}

func TestResource(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi"), corev1.ResourceCPU: resource.MustParse("250m")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
	}}}}}
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	for _, tc := range []struct {
		res, divisor, want string
	}{
		{"limits.memory", "", "67108864"},
		{"limits.memory", "1Mi", "64"},
		{"limits.cpu", "", "1"}, // 250m rounds up to 1 core
		{"limits.cpu", "1m", "250"},
		{"requests.cpu", "1m", "100"},
		{"requests.memory", "", "0"},
	} {
		ref := &corev1.ResourceFieldSelector{Resource: tc.res}
		if tc.divisor != "" {
			ref.Divisor = resource.MustParse(tc.divisor)
		}
		got, err := Resource(pod, "c", ref, alloc)
		if err != nil || got != tc.want {
			t.Errorf("%s/%s = %q, %v; want %q", tc.res, tc.divisor, got, err, tc.want)
		}
	}
	pod.Spec.Containers[0].Resources.Limits = nil
	if got, _ := Resource(pod, "c", &corev1.ResourceFieldSelector{Resource: "limits.cpu"}, alloc); got != "2" {
		t.Errorf("unset cpu limit = %q, want node allocatable 2", got)
	}
}
