package nodeaffinity

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func run(t *testing.T, p *NodeAffinity, pod *corev1.Pod, node *corev1.Node) *framework.Status {
	t.Helper()
	state := framework.NewCycleState()
	if _, s := p.PreFilter(context.Background(), state, pod); s.IsSkip() {
		return nil
	} else if !s.IsSuccess() {
		return s
	}
	ni := framework.NewNodeInfo()
	ni.SetNode(node)
	return p.Filter(context.Background(), state, pod, ni)
}

func TestFilter(t *testing.T) {
	node := schedtest.MakeNode().Name("n1").Label("zone", "a").Label("gpu", "true").Label("cores", "8").Obj()
	tests := []struct {
		name string
		pod  *corev1.Pod
		want framework.Code
	}{
		{"no constraints", schedtest.MakePod().Obj(), framework.Success},
		{"nodeSelector matches", schedtest.MakePod().NodeSelector(map[string]string{"zone": "a"}).Obj(), framework.Success},
		{"nodeSelector differs", schedtest.MakePod().NodeSelector(map[string]string{"zone": "b"}).Obj(), framework.UnschedulableAndUnresolvable},
		{"affinity In", schedtest.MakePod().NodeAffinityIn("zone", "a", "b").Obj(), framework.Success},
		{"affinity In misses", schedtest.MakePod().NodeAffinityIn("zone", "c").Obj(), framework.UnschedulableAndUnresolvable},
		{"terms are ORed", schedtest.MakePod().NodeAffinityIn("zone", "c").NodeAffinityIn("gpu", "true").Obj(), framework.Success},
		{"requirements are ANDed", schedtest.MakePod().NodeAffinity(
			corev1.NodeSelectorRequirement{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}},
			corev1.NodeSelectorRequirement{Key: "gpu", Operator: corev1.NodeSelectorOpDoesNotExist}).Obj(), framework.UnschedulableAndUnresolvable},
		{"Gt", schedtest.MakePod().NodeAffinity(corev1.NodeSelectorRequirement{Key: "cores", Operator: corev1.NodeSelectorOpGt, Values: []string{"4"}}).Obj(), framework.Success},
		{"Lt", schedtest.MakePod().NodeAffinity(corev1.NodeSelectorRequirement{Key: "cores", Operator: corev1.NodeSelectorOpLt, Values: []string{"4"}}).Obj(), framework.UnschedulableAndUnresolvable},
		{"NotIn", schedtest.MakePod().NodeAffinity(corev1.NodeSelectorRequirement{Key: "zone", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"a"}}).Obj(), framework.UnschedulableAndUnresolvable},
		{"empty term matches nothing", schedtest.MakePod().NodeAffinity().Obj(), framework.UnschedulableAndUnresolvable},
		{"metadata.name", schedtest.MakePod().NodeAffinityFieldIn("n1").Obj(), framework.Success},
		{"both selector and affinity must match", schedtest.MakePod().NodeSelector(map[string]string{"zone": "b"}).NodeAffinityIn("zone", "a").Obj(), framework.UnschedulableAndUnresolvable},
	}
	p, _ := New(nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := run(t, p.(*NodeAffinity), tt.pod, node)
			if s.Code() != tt.want || (!s.IsSuccess() && s.Message() != ErrReasonPod) {
				t.Errorf("got %v, want %v", s, tt.want)
			}
		})
	}
}

func TestAddedAffinity(t *testing.T) {
	args, _ := json.Marshal(Args{AddedAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "pool", Operator: corev1.NodeSelectorOpIn, Values: []string{"batch"}}}}}}}})
	p, err := New(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := run(t, p.(*NodeAffinity), schedtest.MakePod().Obj(), schedtest.MakeNode().Name("n").Obj())
	if s.Code() != framework.UnschedulableAndUnresolvable || s.Message() != ErrReasonEnforced {
		t.Errorf("got %v", s)
	}
	if s := run(t, p.(*NodeAffinity), schedtest.MakePod().Obj(), schedtest.MakeNode().Name("n").Label("pool", "batch").Obj()); !s.IsSuccess() {
		t.Errorf("got %v", s)
	}
	if _, err := New(json.RawMessage(`{"bogus": 1}`), nil); err == nil {
		t.Error("unknown args field accepted")
	}
}

func TestPreFilterResult(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want sets.Set[string]
	}{
		{"no affinity", schedtest.MakePod().NodeSelector(map[string]string{"a": "b"}).Obj(), nil},
		{"names", schedtest.MakePod().NodeAffinityFieldIn("n1", "n2").Obj(), sets.New("n1", "n2")},
		{"a term without names", schedtest.MakePod().NodeAffinityFieldIn("n1").NodeAffinityIn("zone", "a").Obj(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := (&NodeAffinity{}).PreFilter(context.Background(), framework.NewCycleState(), tt.pod)
			var got sets.Set[string]
			if r != nil {
				got = r.NodeNames
			}
			if !got.Equal(tt.want) {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	nodes := []*corev1.Node{
		schedtest.MakeNode().Name("a").Label("zone", "a").Label("ssd", "true").Obj(),
		schedtest.MakeNode().Name("b").Label("zone", "a").Obj(),
		schedtest.MakeNode().Name("c").Obj(),
	}
	pod := schedtest.MakePod().PreferredNodeAffinity(10, "zone", "a").PreferredNodeAffinity(30, "ssd", "true").Obj()
	p := &NodeAffinity{}
	state := framework.NewCycleState()
	if s := p.PreScore(context.Background(), state, pod, nil); !s.IsSuccess() {
		t.Fatal(s)
	}
	scores := framework.NodeScoreList{}
	for _, n := range nodes {
		ni := framework.NewNodeInfo()
		ni.SetNode(n)
		s, _ := p.Score(context.Background(), state, pod, ni)
		scores = append(scores, framework.NodeScore{Name: n.Name, Score: s})
	}
	p.NormalizeScore(context.Background(), state, pod, scores)
	want := []int64{100, 25, 0}
	for i := range want {
		if scores[i].Score != want[i] {
			t.Errorf("%s = %d, want %d", scores[i].Name, scores[i].Score, want[i])
		}
	}
	if s := p.PreScore(context.Background(), framework.NewCycleState(), schedtest.MakePod().Obj(), nil); !s.IsSkip() {
		t.Errorf("pod without preferences: %v, want Skip", s)
	}
}
