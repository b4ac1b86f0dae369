package podcontrol

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestIsAvailable(t *testing.T) {
	now := t0.Add(10 * time.Second)
	tests := []struct {
		name   string
		pod    *corev1.Pod
		min    int32
		want   bool
		wantIn time.Duration
	}{
		{"ready, no minReadySeconds", pod("a", ready(now)), 0, true, 0},
		{"not ready", pod("a", notReady), 0, false, 0},
		{"no condition", &corev1.Pod{}, 0, false, 0},
		{"ready long enough", pod("a", ready(t0)), 5, true, 0},
		{"ready too recently", pod("a", ready(now.Add(-2*time.Second))), 5, false, 4 * time.Second},
		{"ready exactly minReadySeconds ago", pod("a", ready(now.Add(-5*time.Second))), 5, false, 0},
		{"zero transition time", pod("a", ready(time.Time{})), 5, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsAvailable(tt.pod, tt.min, now); got != tt.want {
				t.Errorf("IsAvailable = %v, want %v", got, tt.want)
			}
			if got := AvailableIn(tt.pod, tt.min, now); got != tt.wantIn {
				t.Errorf("AvailableIn = %v, want %v", got, tt.wantIn)
			}
		})
	}
}

func TestIsActive(t *testing.T) {
	dying := pod("a")
	dying.DeletionTimestamp = &metav1.Time{Time: t0}
	tests := []struct {
		pod  *corev1.Pod
		want bool
	}{
		{pod("a"), true},
		{pod("a", phase(corev1.PodPending)), true},
		{pod("a", phase(corev1.PodSucceeded)), false},
		{pod("a", phase(corev1.PodFailed)), false},
		{dying, false},
	}
	for i, tt := range tests {
		if got := IsActive(tt.pod); got != tt.want {
			t.Errorf("%d: IsActive = %v, want %v", i, got, tt.want)
		}
	}
	if got := FilterActive([]*corev1.Pod{tests[0].pod, dying, tests[1].pod}); len(got) != 2 {
		t.Errorf("FilterActive kept %d pods, want 2", len(got))
	}
}

func TestNewPod(t *testing.T) {
	owner := &metav1.ObjectMeta{Name: "web-7d9f", Namespace: "ns", UID: "u1"}
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"}, Finalizers: []string{"f"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
	}
	ref := ControllerRef(owner, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"})
	p := NewPod(tmpl, owner, ref)
	if p.GenerateName != "web-7d9f-" || p.Namespace != "ns" {
		t.Errorf("generateName %q namespace %q", p.GenerateName, p.Namespace)
	}
	if p.Labels["app"] != "web" || p.Annotations["a"] != "b" || len(p.Finalizers) != 1 {
		t.Errorf("metadata not copied: %+v", p.ObjectMeta)
	}
	if len(p.OwnerReferences) != 1 || !*p.OwnerReferences[0].Controller || !*p.OwnerReferences[0].BlockOwnerDeletion ||
		p.OwnerReferences[0].Kind != "ReplicaSet" || p.OwnerReferences[0].APIVersion != "apps/v1" || p.OwnerReferences[0].UID != "u1" {
		t.Errorf("owner reference = %+v", p.OwnerReferences)
	}
	p.Labels["app"] = "changed"
	p.Spec.Containers[0].Image = "changed"
	if tmpl.Labels["app"] != "web" || tmpl.Spec.Containers[0].Image != "i" {
		t.Error("NewPod shares memory with the template")
	}
}

func TestSlowStart(t *testing.T) {
	tests := []struct {
		name      string
		count     int
		failAfter int64 // calls beyond this fail; -1 never
		wantDone  int
		wantCalls int64
	}{
		{"all succeed", 10, -1, 10, 10},
		{"zero", 0, -1, 0, 0},
		{"first call fails", 10, 0, 0, 1},
		{"fails in third batch", 100, 4, 4, 7}, // batches 1, 2, 4: calls 1..7, 5..7 fail
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			done, err := SlowStart(context.Background(), tt.count, 1, func(context.Context) error {
				if n := calls.Add(1); tt.failAfter >= 0 && n > tt.failAfter {
					return errors.New("quota")
				}
				return nil
			})
			if done != tt.wantDone || calls.Load() != tt.wantCalls {
				t.Errorf("done %d calls %d, want %d and %d", done, calls.Load(), tt.wantDone, tt.wantCalls)
			}
			if (err != nil) != (tt.failAfter >= 0) {
				t.Errorf("err = %v", err)
			}
		})
	}
}
