package podcontrol

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
)

func TestOwnedPodEvents(t *testing.T) {
	kind := appsv1.SchemeGroupVersion.WithKind("DaemonSet")
	yes := true
	pod := func(rv, owner, ownerKind string, deleting bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", ResourceVersion: rv}}
		if owner != "" {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: ownerKind, Name: owner, Controller: &yes}}
		}
		if deleting {
			p.DeletionTimestamp = &metav1.Time{}
		}
		return p
	}
	cases := []struct {
		name      string
		fire      func(h cache.ResourceEventHandlerFuncs)
		expect    [2]int // pending creations, deletions of ns/a before
		added     []string
		orphans   int
		satisfied bool
	}{
		{"create seen", func(h cache.ResourceEventHandlerFuncs) { h.OnAdd(pod("1", "a", "DaemonSet", false), false) },
			[2]int{1, 0}, []string{"ns/a"}, 0, true},
		{"other kind is an orphan", func(h cache.ResourceEventHandlerFuncs) { h.OnAdd(pod("1", "a", "ReplicaSet", false), false) },
			[2]int{1, 0}, nil, 1, false},
		{"added while deleting counts as a deletion", func(h cache.ResourceEventHandlerFuncs) { h.OnAdd(pod("1", "a", "DaemonSet", true), false) },
			[2]int{0, 1}, []string{"ns/a"}, 0, true},
		{"resync ignored", func(h cache.ResourceEventHandlerFuncs) {
			h.OnUpdate(pod("1", "a", "DaemonSet", false), pod("1", "a", "DaemonSet", false))
		},
			[2]int{0, 0}, nil, 0, true},
		{"deletion timestamp set", func(h cache.ResourceEventHandlerFuncs) {
			h.OnUpdate(pod("1", "a", "DaemonSet", false), pod("2", "a", "DaemonSet", true))
		},
			[2]int{0, 1}, []string{"ns/a"}, 0, true},
		{"released: old owner queued, pod offered for adoption", func(h cache.ResourceEventHandlerFuncs) {
			h.OnUpdate(pod("1", "a", "DaemonSet", false), pod("2", "", "", false))
		},
			[2]int{0, 0}, []string{"ns/a"}, 1, true},
		{"deleted without an update", func(h cache.ResourceEventHandlerFuncs) { h.OnDelete(pod("1", "a", "DaemonSet", false)) },
			[2]int{0, 1}, []string{"ns/a"}, 0, true},
		{"tombstone", func(h cache.ResourceEventHandlerFuncs) {
			h.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pod("1", "a", "DaemonSet", true)})
		}, [2]int{0, 0}, []string{"ns/a"}, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exp := controller.NewExpectations()
			exp.Expect("ns/a", tc.expect[0], tc.expect[1])
			var added []string
			orphans := 0
			e := OwnedPodEvents{Kind: kind, Expect: exp, Add: func(k string) { added = append(added, k) }, Orphan: func(*corev1.Pod) { orphans++ }}
			tc.fire(e.Handler())
			if !slices.Equal(added, tc.added) || orphans != tc.orphans {
				t.Errorf("queued %v, orphans %d; want %v, %d", added, orphans, tc.added, tc.orphans)
			}
			if got := exp.Satisfied("ns/a"); got != tc.satisfied {
				t.Errorf("satisfied = %v, want %v", got, tc.satisfied)
			}
		})
	}
}
