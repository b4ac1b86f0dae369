package job

import (
	"strconv"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestIndexSet(t *testing.T) {
	cases := []struct {
		in          string
		completions int
		want        string
	}{
		{"", 5, ""},
		{"0", 5, "0"},
		{"0,1", 5, "0-1"},
		{"3,0-1,2", 5, "0-3"},
		{"1,3-5,7", 10, "1,3-5,7"},
		{"1,3-5,7", 5, "1,3-4"},
		{"x,2,4-y", 5, "2"},
	}
	for _, c := range cases {
		if got := parseIndexes(c.in, c.completions).String(); got != c.want {
			t.Errorf("parseIndexes(%q, %d) = %q, want %q", c.in, c.completions, got, c.want)
		}
	}
}

func indexedPod(i string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p" + i, Annotations: map[string]string{batchv1.JobCompletionIndexAnnotation: i}}}
}

func TestIndexes(t *testing.T) {
	active := []*corev1.Pod{indexedPod("1"), indexedPod("1"), indexedPod("3"), indexedPod("9"), indexedPod("x")}
	done := indexSet{0: true, 3: true}
	if got := missingIndexes(done, active, 6, 10); len(got) != 3 || got[0] != 2 || got[1] != 4 || got[2] != 5 {
		t.Errorf("missingIndexes = %v, want [2 4 5]", got)
	}
	if got := missingIndexes(done, active, 6, 1); len(got) != 1 || got[0] != 2 {
		t.Errorf("missingIndexes(n=1) = %v, want [2]", got)
	}
	var names []string
	for _, p := range redundantIndexed(done, active, 6) {
		names = append(names, p.Name+"/"+strconv.Itoa(podIndex(p, 6)))
	}
	// The second pod of index 1, the pod of done index 3, and the two without a valid index.
	if len(names) != 4 || names[0] != "p1/1" || names[1] != "p3/3" || names[2] != "p9/-1" || names[3] != "px/-1" {
		t.Errorf("redundantIndexed = %v", names)
	}
}

func TestNewPodIndexed(t *testing.T) {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "work", Namespace: "ns", UID: "u"},
		Spec: batchv1.JobSpec{Completions: ptr.To[int32](3), CompletionMode: ptr.To(batchv1.IndexedCompletion),
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}, InitContainers: []corev1.Container{{Name: "i"}}}}}}
	p := newPod(j, 2)
	if p.GenerateName != "work-2-" || p.Spec.Hostname != "work-2" || p.Annotations[batchv1.JobCompletionIndexAnnotation] != "2" ||
		p.Labels[batchv1.JobCompletionIndexAnnotation] != "2" || p.Labels["a"] != "b" {
		t.Errorf("indexed pod = %+v", p.ObjectMeta)
	}
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		if len(c.Env) != 1 || c.Env[0].Name != "JOB_COMPLETION_INDEX" || c.Env[0].ValueFrom.FieldRef == nil {
			t.Errorf("container %s env = %+v", c.Name, c.Env)
		}
	}
	if len(p.Finalizers) != 1 || p.Finalizers[0] != batchv1.JobTrackingFinalizer {
		t.Errorf("finalizers = %v", p.Finalizers)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != "u" || ref.Kind != "Job" {
		t.Errorf("owner = %+v", p.OwnerReferences)
	}
	if len(j.Spec.Template.Spec.Containers[0].Env) != 0 {
		t.Error("newPod changed the Job's template")
	}
	long := hostname("a-very-long-job-name-that-goes-on-and-on-and-on-until-it-is-too.long", "12")
	if len(long) > 63 || long[len(long)-3:] != "-12" {
		t.Errorf("hostname = %q (%d)", long, len(long))
	}
}
