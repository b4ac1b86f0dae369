package namespace

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

func TestConditions(t *testing.T) {
	t0 := metav1.NewTime(time.Unix(100, 0))
	t1 := metav1.NewTime(time.Unix(200, 0))
	tests := []struct {
		name string
		o    outcome
		// want maps a condition type to its status, reason and message.
		want map[corev1.NamespaceConditionType][3]string
	}{
		{"all done", outcome{}, map[corev1.NamespaceConditionType][3]string{
			corev1.NamespaceDeletionDiscoveryFailure: {"False", "ResourcesDiscovered", "All resources successfully discovered"},
			corev1.NamespaceDeletionGVParsingFailure: {"False", "ParsedGroupVersions", "All legacy kube types successfully parsed"},
			corev1.NamespaceDeletionContentFailure:   {"False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"},
			corev1.NamespaceContentRemaining:         {"False", "ContentRemoved", "All content successfully removed"},
			corev1.NamespaceFinalizersRemaining:      {"False", "ContentHasNoFinalizers", "All content-preserving finalizers finished"},
		}},
		{"content with finalizers", outcome{
			remaining:  map[string]int{"pods": 2, "deployments.apps": 1},
			finalizers: map[string]int{"example.com/b": 1, "example.com/a": 2},
		}, map[corev1.NamespaceConditionType][3]string{
			corev1.NamespaceContentRemaining: {"True", "SomeResourcesRemain",
				"Some resources are remaining: deployments.apps has 1 resource instances, pods has 2 resource instances"},
			corev1.NamespaceFinalizersRemaining: {"True", "SomeFinalizersRemain",
				"Some content in the namespace has finalizers remaining: example.com/a in 2 resource instances, example.com/b in 1 resource instances"},
		}},
		{"failures", outcome{
			discoveryErr: &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{{Group: "metrics.k8s.io", Version: "v1beta1"}: errors.New("down")}},
			deleteErrs:   []error{errors.New("delete collection of pods: boom")},
		}, map[corev1.NamespaceConditionType][3]string{
			corev1.NamespaceDeletionDiscoveryFailure: {"True", "DiscoveryFailed",
				"Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: down"},
			corev1.NamespaceDeletionContentFailure: {"True", "ContentDeletionFailed",
				"Failed to delete all resource types, 1 remaining: delete collection of pods: boom"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := corev1.NamespaceCondition{Type: "Custom", Status: corev1.ConditionTrue}
			got := conditions([]corev1.NamespaceCondition{other}, &tc.o, t0)
			if len(got) != len(conditionTypes)+1 || got[0] != other {
				t.Fatalf("conditions %+v: want the foreign condition kept first, then ours", got)
			}
			for typ, w := range tc.want {
				c := find(got, typ)
				if c == nil || string(c.Status) != w[0] || c.Reason != w[1] || c.Message != w[2] {
					t.Errorf("%s = %+v, want %v", typ, c, w)
				}
			}
			// A second pass with the same outcome keeps transition times;
			// a changed status moves them.
			again := conditions(got, &tc.o, t1)
			for _, c := range again[1:] {
				if !c.LastTransitionTime.Equal(&t0) {
					t.Errorf("%s transition time moved without a status change", c.Type)
				}
			}
			flipped := conditions(got, &outcome{remaining: map[string]int{"x": 1}}, t1)
			if c := find(flipped, corev1.NamespaceContentRemaining); (c.Status == find(got, c.Type).Status) != c.LastTransitionTime.Equal(&t0) {
				t.Errorf("transition time of %s wrong after a flip: %+v", c.Type, c)
			}
		})
	}
}

func TestOutcomeDone(t *testing.T) {
	if !(&outcome{finalizers: map[string]int{}}).done() {
		t.Error("empty outcome not done")
	}
	if (&outcome{remaining: map[string]int{"pods": 1}}).done() {
		t.Error("remaining content counted as done")
	}
	if (&outcome{discoveryErr: errors.New("x")}).done() {
		t.Error("a discovery failure counted as done: an undiscovered group may hold content")
	}
}
