package garbagecollector

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func ref(uid string) objectRef {
	return objectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "cm-" + uid, UID: types.UID(uid)}
}

func owner(uid string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "cm-" + uid, UID: types.UID(uid), BlockOwnerDeletion: &block}
}

func add(uid string, owners ...metav1.OwnerReference) change {
	return change{kind: addOrUpdate, ref: ref(uid), owners: owners}
}

func TestGraphApply(t *testing.T) {
	tests := []struct {
		name    string
		changes []change
		// last is the work the last change must produce.
		wantDelete, wantOrphan []string
		// check inspects the final graph.
		check func(t *testing.T, g *graph)
	}{
		{
			name:       "a dependent of an unseen owner creates a virtual owner to verify",
			changes:    []change{add("child", owner("parent", false))},
			wantDelete: []string{"parent"},
			check: func(t *testing.T, g *graph) {
				p := g.nodes["parent"]
				if p == nil || !p.virtual || len(p.dependents) != 1 {
					t.Fatalf("parent %+v", p)
				}
			},
		},
		{
			name:    "observing the virtual owner makes it real",
			changes: []change{add("child", owner("parent", false)), add("parent")},
			check: func(t *testing.T, g *graph) {
				if p := g.nodes["parent"]; p.virtual || len(p.dependents) != 1 {
					t.Fatalf("parent %+v", p)
				}
			},
		},
		{
			name:       "deleting an owner queues its dependents",
			changes:    []change{add("parent"), add("a", owner("parent", false)), add("b", owner("parent", true)), {kind: deleted, ref: ref("parent")}},
			wantDelete: []string{"a", "b"},
			check: func(t *testing.T, g *graph) {
				if g.nodes["parent"] != nil {
					t.Fatal("deleted owner still in the graph")
				}
			},
		},
		{
			name: "foreground deletion queues every dependent and the owner",
			changes: []change{add("parent"), add("a", owner("parent", true)), add("b", owner("parent", false)),
				{kind: addOrUpdate, ref: ref("parent"), deleted: true, foreground: true}},
			wantDelete: []string{"a", "b", "parent"},
			check: func(t *testing.T, g *graph) {
				s, _ := g.snapshot("parent")
				if !s.deletingDependents || !slices.Equal(s.blocking(), []types.UID{"a"}) {
					t.Fatalf("snapshot %+v, blocking %v", s, s.blocking())
				}
			},
		},
		{
			name: "a repeated foreground update queues nothing new",
			changes: []change{add("parent"), add("a", owner("parent", true)),
				{kind: addOrUpdate, ref: ref("parent"), deleted: true, foreground: true},
				{kind: addOrUpdate, ref: ref("parent"), deleted: true, foreground: true, old: &state{deleted: true, foreground: true}}},
		},
		{
			name: "the last blocking dependent going queues the waiting owner",
			changes: []change{add("parent"), add("a", owner("parent", true)),
				{kind: addOrUpdate, ref: ref("parent"), deleted: true, foreground: true},
				{kind: deleted, ref: ref("a"), owners: []metav1.OwnerReference{owner("parent", true)}}},
			wantDelete: []string{"parent"},
		},
		{
			name: "a dependent dropping its blocking reference queues the waiting owner",
			changes: []change{add("parent"), add("a", owner("parent", true)),
				{kind: addOrUpdate, ref: ref("parent"), deleted: true, foreground: true},
				add("a")},
			wantDelete: []string{"parent"},
			check: func(t *testing.T, g *graph) {
				if len(g.nodes["parent"].dependents) != 0 {
					t.Fatal("dependent still linked after dropping its owner reference")
				}
			},
		},
		{
			name: "a dependent turning its reference non-blocking queues the waiting owner",
			changes: []change{add("parent"), add("a", owner("parent", true)),
				{kind: addOrUpdate, ref: ref("parent"), deleted: true, foreground: true},
				add("a", owner("parent", false))},
			wantDelete: []string{"parent"},
		},
		{
			name:       "a new dependent of an owner deleting its dependents is queued",
			changes:    []change{add("parent"), {kind: addOrUpdate, ref: ref("parent"), deleted: true, foreground: true}, add("late", owner("parent", true))},
			wantDelete: []string{"late"},
		},
		{
			name:       "orphan deletion queues the owner for orphaning",
			changes:    []change{add("parent"), add("a", owner("parent", true)), {kind: addOrUpdate, ref: ref("parent"), deleted: true, orphan: true}},
			wantOrphan: []string{"parent"},
		},
		{
			name:       "an object found already deleting with orphan at start is orphaned",
			changes:    []change{{kind: addOrUpdate, ref: ref("parent"), deleted: true, orphan: true}},
			wantOrphan: []string{"parent"},
		},
		{
			name:       "a virtual delete removes a virtual owner and queues its dependents",
			changes:    []change{add("child", owner("ghost", false)), {kind: virtualDelete, ref: ref("ghost")}},
			wantDelete: []string{"child"},
			check: func(t *testing.T, g *graph) {
				if g.nodes["ghost"] != nil {
					t.Fatal("virtual node kept")
				}
			},
		},
		{
			name:    "a virtual delete leaves an observed node alone",
			changes: []change{add("parent"), add("child", owner("parent", false)), {kind: virtualDelete, ref: ref("parent")}},
			check: func(t *testing.T, g *graph) {
				if g.nodes["parent"] == nil {
					t.Fatal("observed node removed by a virtual delete")
				}
			},
		},
		{
			name:       "changing owners moves the dependent",
			changes:    []change{add("p1"), add("p2"), add("c", owner("p1", false)), add("c", owner("p2", false), owner("p3", false))},
			wantDelete: []string{"p3"},
			check: func(t *testing.T, g *graph) {
				if len(g.nodes["p1"].dependents) != 0 || len(g.nodes["p2"].dependents) != 1 || !g.nodes["p3"].virtual {
					t.Fatalf("p1 %d p2 %d p3 %+v", len(g.nodes["p1"].dependents), len(g.nodes["p2"].dependents), g.nodes["p3"])
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph()
			var w work
			for _, c := range tc.changes {
				w = g.apply(c)
			}
			if got := sortedStrings(w.attemptToDelete); !slices.Equal(got, sorted(tc.wantDelete)) {
				t.Errorf("attemptToDelete %v, want %v", got, tc.wantDelete)
			}
			if got := sortedStrings(w.attemptToOrphan); !slices.Equal(got, sorted(tc.wantOrphan)) {
				t.Errorf("attemptToOrphan %v, want %v", got, tc.wantOrphan)
			}
			if tc.check != nil {
				tc.check(t, g)
			}
		})
	}
}

func sortedStrings(uids []types.UID) []string {
	out := make([]string, len(uids))
	for i, u := range uids {
		out[i] = string(u)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func TestRelevantUpdate(t *testing.T) {
	base := metav1.ObjectMeta{UID: "u", ResourceVersion: "1", OwnerReferences: []metav1.OwnerReference{owner("p", false)}}
	now := metav1.Now()
	tests := []struct {
		name   string
		mutate func(m *metav1.ObjectMeta)
		want   bool
	}{
		{"resourceVersion only", func(m *metav1.ObjectMeta) { m.ResourceVersion = "2"; m.Labels = map[string]string{"a": "b"} }, false},
		{"deletion starts", func(m *metav1.ObjectMeta) { m.DeletionTimestamp = &now }, true},
		{"finalizer added", func(m *metav1.ObjectMeta) { m.Finalizers = []string{"orphan"} }, true},
		{"owner removed", func(m *metav1.ObjectMeta) { m.OwnerReferences = nil }, true},
		{"owner unblocked", func(m *metav1.ObjectMeta) { m.OwnerReferences = []metav1.OwnerReference{owner("p", true)} }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur := *base.DeepCopy()
			tc.mutate(&cur)
			if got := relevantUpdate(&base, &cur); got != tc.want {
				t.Errorf("relevantUpdate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPolicyOf(t *testing.T) {
	tests := []struct {
		fins []string
		want metav1.DeletionPropagation
	}{
		{nil, metav1.DeletePropagationBackground},
		{[]string{"example.com/x"}, metav1.DeletePropagationBackground},
		{[]string{metav1.FinalizerDeleteDependents}, metav1.DeletePropagationForeground},
		{[]string{metav1.FinalizerDeleteDependents, metav1.FinalizerOrphanDependents}, metav1.DeletePropagationOrphan},
	}
	for _, tc := range tests {
		obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Finalizers: tc.fins}}
		if got := policyOf(obj); got != tc.want {
			t.Errorf("policyOf(%v) = %s, want %s", tc.fins, got, tc.want)
		}
	}
}

func TestUnblock(t *testing.T) {
	in := []metav1.OwnerReference{owner("a", true), owner("b", true)}
	out := unblock(in, []types.UID{"a"})
	if blocks(&out[0]) || !blocks(&out[1]) || !blocks(&in[0]) {
		t.Errorf("unblock: %v (input %v)", out, in)
	}
}
