package podcontrol

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

func TestCandidates(t *testing.T) {
	inf := cache.NewSharedIndexInformer(&cache.ListWatch{}, &corev1.Pod{}, 0, cache.Indexers{})
	if err := AddControllerIndex(inf); err != nil {
		t.Fatal(err)
	}
	if err := AddControllerIndex(inf); err != nil {
		t.Fatalf("adding the index twice: %v", err)
	}
	owned := func(name, ns, uid string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		if uid != "" {
			tr := true
			p.OwnerReferences = []metav1.OwnerReference{{UID: types.UID("u-" + uid), Controller: &tr}}
		}
		return p
	}
	st := inf.GetIndexer()
	for _, p := range []*corev1.Pod{owned("mine", "a", "1"), owned("orphan", "a", ""), owned("theirs", "a", "2"),
		owned("elsewhere", "b", ""), owned("cross-namespace", "b", "1")} {
		if err := st.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := PodCandidates(st, "a", "u-1")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range got {
		names[p.Name] = true
	}
	if len(names) != 2 || !names["mine"] || !names["orphan"] {
		t.Errorf("candidates %v, want mine and orphan", names)
	}
}
