package core

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func newPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", ResourceVersion: "1"}, Spec: minimalSpec()}
}

// createPod runs the create path of the strategy the way the store does.
func createPod(p *corev1.Pod) field.ErrorList {
	s := podStrategy{}
	s.Default(p)
	s.PrepareForCreate(context.Background(), p)
	return s.Validate(context.Background(), p)
}

func TestPodCreateDefaults(t *testing.T) {
	p := newPod()
	if errs := createPod(p); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	if p.Spec.ServiceAccountName != "default" || p.Spec.DeprecatedServiceAccount != "default" {
		t.Errorf("service account = %q/%q", p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount)
	}
	if p.Spec.Priority == nil || *p.Spec.Priority != 0 {
		t.Errorf("priority = %v, want 0", p.Spec.Priority)
	}
	if p.Spec.PreemptionPolicy == nil || *p.Spec.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("preemptionPolicy = %v", p.Spec.PreemptionPolicy)
	}
	if len(p.Spec.Tolerations) != 2 {
		t.Fatalf("tolerations = %v, want 2", p.Spec.Tolerations)
	}
	for i, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		tol := p.Spec.Tolerations[i]
		if tol.Key != key || tol.Operator != corev1.TolerationOpExists || tol.Effect != corev1.TaintEffectNoExecute ||
			tol.TolerationSeconds == nil || *tol.TolerationSeconds != 300 {
			t.Errorf("toleration %d = %+v", i, tol)
		}
	}
	if p.Status.Phase != corev1.PodPending || p.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("status = %+v", p.Status)
	}
}

func TestPodTolerationNotDuplicated(t *testing.T) {
	p := newPod()
	p.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(10))}}
	createPod(p)
	if len(p.Spec.Tolerations) != 2 || *p.Spec.Tolerations[0].TolerationSeconds != 10 {
		t.Fatalf("tolerations = %+v", p.Spec.Tolerations)
	}
}

func TestComputeQOS(t *testing.T) {
	q := func(cpu, mem string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			l[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		return l
	}
	cases := []struct {
		name string
		res  corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{"none", corev1.ResourceRequirements{}, corev1.PodQOSBestEffort},
		{"limits only (requests defaulted)", corev1.ResourceRequirements{Limits: q("1", "1Gi")}, corev1.PodQOSGuaranteed},
		{"requests only", corev1.ResourceRequirements{Requests: q("1", "")}, corev1.PodQOSBurstable},
		{"unequal", corev1.ResourceRequirements{Limits: q("2", "1Gi"), Requests: q("1", "1Gi")}, corev1.PodQOSBurstable},
		{"cpu only limits", corev1.ResourceRequirements{Limits: q("1", "")}, corev1.PodQOSBurstable},
	}
	for _, tc := range cases {
		spec := minimalSpec()
		spec.Containers[0].Resources = tc.res
		DefaultPodSpec(&spec)
		DefaultPodRequests(&spec)
		if got := computeQOS(&spec); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestPodValidateName(t *testing.T) {
	p := newPod()
	p.Name = "Not_Valid"
	checkErrs(t, createPod(p), wantErr{"metadata.name", field.ErrorTypeInvalid})
}

func TestPodValidateUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []wantErr
	}{
		{"image change allowed", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:2" }, nil},
		{"toleration added", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "x", Operator: corev1.TolerationOpExists})
		}, nil},
		{"deadline set", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(10)) }, nil},
		{"scheduling gate removed", func(p *corev1.Pod) { p.Spec.SchedulingGates = nil }, nil},
		{"restart policy change", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]wantErr{{"spec", field.ErrorTypeForbidden}}},
		{"toleration removed", func(p *corev1.Pod) { p.Spec.Tolerations = p.Spec.Tolerations[:1] },
			[]wantErr{{"spec.tolerations", field.ErrorTypeForbidden}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := newPod()
			old.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/gate"}}
			createPod(old)
			p := old.DeepCopy()
			tc.mutate(p)
			podStrategy{}.Default(p)
			errs := podStrategy{}.ValidateUpdate(context.Background(), p, old)
			checkErrs(t, errs, tc.want...)
			for _, e := range errs {
				if e.Field == "spec" && !strings.Contains(e.Detail, "pod updates may not change fields other than `spec.containers[*].image`") {
					t.Errorf("detail = %q", e.Detail)
				}
			}
		})
	}
}

func TestPodFields(t *testing.T) {
	p := newPod()
	createPod(p)
	p.Spec.NodeName = "n1"
	p.Status.PodIP = "10.0.0.5"
	p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.5"}}
	got := podFields(p)
	want := map[string]string{
		"spec.nodeName": "n1", "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
		"spec.serviceAccountName": "default", "spec.hostNetwork": "false", "status.phase": "Pending",
		"status.podIP": "10.0.0.5", "status.nominatedNodeName": "",
	}
	if len(got) != len(want) {
		t.Fatalf("fields = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestPodStatusUpdate(t *testing.T) {
	old := newPod()
	createPod(old)
	p := old.DeepCopy()
	p.Status.Phase = "Dancing"
	p.Status.PodIP = "not-an-ip"
	checkErrs(t, podStrategy{}.ValidateStatusUpdate(context.Background(), p, old),
		wantErr{"status.phase", field.ErrorTypeNotSupported}, wantErr{"status.podIP", field.ErrorTypeInvalid})
}
