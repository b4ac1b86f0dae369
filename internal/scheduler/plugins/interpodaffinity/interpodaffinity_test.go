package interpodaffinity

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

const zone = corev1.LabelTopologyZone
const host = corev1.LabelHostname

func nodes() []*corev1.Node {
	return []*corev1.Node{
		schedtest.MakeNode().Name("a1").Zone("a").Obj(),
		schedtest.MakeNode().Name("a2").Zone("a").Obj(),
		schedtest.MakeNode().Name("b1").Zone("b").Obj(),
		schedtest.MakeNode().Name("nozone").Obj(),
	}
}

func newPlugin(t *testing.T, h *schedtest.Handle) *InterPodAffinity {
	t.Helper()
	p, err := New(nil, h)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*InterPodAffinity)
}

func TestFilter(t *testing.T) {
	db := map[string]string{"app": "db"}
	web := map[string]string{"app": "web"}
	tests := []struct {
		name     string
		pod      *corev1.Pod
		existing []*corev1.Pod
		want     map[string]framework.Code // per node; missing = Success
		msg      string
		skip     bool
	}{
		{name: "nothing to check skips", pod: schedtest.MakePod().Obj(),
			existing: []*corev1.Pod{schedtest.MakePod().Name("e").Labels(db).Node("a1").Obj()}, skip: true},
		{name: "affinity to a zone with a match", pod: schedtest.MakePod().PodAffinity(zone, db).Obj(),
			existing: []*corev1.Pod{schedtest.MakePod().Name("e").Labels(db).Node("a1").Obj()},
			want:     map[string]framework.Code{"b1": framework.UnschedulableAndUnresolvable, "nozone": framework.UnschedulableAndUnresolvable},
			msg:      ErrReasonAffinityRulesNotMatch},
		{name: "first pod of a self-affine group", pod: schedtest.MakePod().Labels(db).PodAffinity(zone, db).Obj(),
			want: map[string]framework.Code{"nozone": framework.UnschedulableAndUnresolvable}, msg: ErrReasonAffinityRulesNotMatch},
		{name: "affinity with no match anywhere", pod: schedtest.MakePod().PodAffinity(zone, db).Obj(),
			want: map[string]framework.Code{"a1": framework.UnschedulableAndUnresolvable, "a2": framework.UnschedulableAndUnresolvable,
				"b1": framework.UnschedulableAndUnresolvable, "nozone": framework.UnschedulableAndUnresolvable}, msg: ErrReasonAffinityRulesNotMatch},
		{name: "anti-affinity per host", pod: schedtest.MakePod().Labels(web).PodAntiAffinity(host, web).Obj(),
			existing: []*corev1.Pod{schedtest.MakePod().Name("e").Labels(web).Node("a1").Obj()},
			want:     map[string]framework.Code{"a1": framework.Unschedulable}, msg: ErrReasonAntiAffinityRulesNotMatch},
		{name: "anti-affinity per zone", pod: schedtest.MakePod().PodAntiAffinity(zone, web).Obj(),
			existing: []*corev1.Pod{schedtest.MakePod().Name("e").Labels(web).Node("a1").Obj()},
			want:     map[string]framework.Code{"a1": framework.Unschedulable, "a2": framework.Unschedulable}, msg: ErrReasonAntiAffinityRulesNotMatch},
		{name: "anti-affinity ignores other namespaces", pod: schedtest.MakePod().PodAntiAffinity(host, web).Obj(),
			existing: []*corev1.Pod{schedtest.MakePod().Name("e").Namespace("other").Labels(web).Node("a1").Obj()}},
		{name: "existing pod's anti-affinity is symmetric", pod: schedtest.MakePod().Labels(web).Obj(),
			existing: []*corev1.Pod{schedtest.MakePod().Name("e").PodAntiAffinity(zone, web).Node("b1").Obj()},
			want:     map[string]framework.Code{"b1": framework.Unschedulable}, msg: ErrReasonExistingAntiAffinityRulesNotM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := schedtest.NewHandle(tt.existing, nodes())
			p := newPlugin(t, h)
			state := framework.NewCycleState()
			_, s := p.PreFilter(context.Background(), state, tt.pod)
			if s.IsSkip() != tt.skip {
				t.Fatalf("PreFilter = %v, skip want %v", s, tt.skip)
			}
			if tt.skip {
				return
			}
			for _, ni := range h.Snapshot.List() {
				got := p.Filter(context.Background(), state, tt.pod, ni)
				want := tt.want[ni.Node().Name]
				if got.Code() != want || (want != framework.Success && got.Message() != tt.msg) {
					t.Errorf("node %s: %v, want %v %q", ni.Node().Name, got, want, tt.msg)
				}
			}
		})
	}
}

func TestAddRemovePod(t *testing.T) {
	web := map[string]string{"app": "web"}
	h := schedtest.NewHandle(nil, nodes())
	p := newPlugin(t, h)
	pod := schedtest.MakePod().PodAntiAffinity(host, web).Obj()
	state := framework.NewCycleState()
	if _, s := p.PreFilter(context.Background(), state, pod); !s.IsSuccess() {
		t.Fatal(s)
	}
	ni, _ := h.Snapshot.Get("a1")
	other := framework.NewPodInfo(schedtest.MakePod().Name("o").Labels(web).Node("a1").Obj())
	p.AddPod(context.Background(), state, pod, other, ni)
	if s := p.Filter(context.Background(), state, pod, ni); s.Code() != framework.Unschedulable {
		t.Fatalf("after AddPod: %v", s)
	}
	p.RemovePod(context.Background(), state, pod, other, ni)
	if s := p.Filter(context.Background(), state, pod, ni); !s.IsSuccess() {
		t.Fatalf("after RemovePod: %v", s)
	}
}

func TestScore(t *testing.T) {
	db := map[string]string{"app": "db"}
	tests := []struct {
		name     string
		pod      *corev1.Pod
		existing []*corev1.Pod
		want     map[string]int64
	}{
		{"preferred affinity favours the zone", schedtest.MakePod().PreferredPodAffinity(10, zone, db).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").Labels(db).Node("a1").Obj()},
			map[string]int64{"a1": 100, "a2": 100, "b1": 0, "nozone": 0}},
		{"preferred anti-affinity avoids the host", schedtest.MakePod().PreferredPodAntiAffinity(10, host, db).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").Labels(db).Node("a1").Obj()},
			map[string]int64{"a1": 0, "a2": 100, "b1": 100, "nozone": 100}},
		{"existing pods' required affinity attracts", schedtest.MakePod().Labels(db).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").PodAffinity(zone, db).Node("b1").Obj()},
			map[string]int64{"a1": 0, "a2": 0, "b1": 100, "nozone": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := schedtest.NewHandle(tt.existing, nodes())
			p := newPlugin(t, h)
			state := framework.NewCycleState()
			if s := p.PreScore(context.Background(), state, tt.pod, h.Snapshot.List()); !s.IsSuccess() {
				t.Fatal(s)
			}
			var scores framework.NodeScoreList
			for _, ni := range h.Snapshot.List() {
				s, _ := p.Score(context.Background(), state, tt.pod, ni)
				scores = append(scores, framework.NodeScore{Name: ni.Node().Name, Score: s})
			}
			p.NormalizeScore(context.Background(), state, tt.pod, scores)
			for _, s := range scores {
				if s.Score != tt.want[s.Name] {
					t.Errorf("%s = %d, want %d", s.Name, s.Score, tt.want[s.Name])
				}
			}
		})
	}
}
