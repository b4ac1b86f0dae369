package tainttoleration

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func nodeInfo(n *corev1.Node) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(n)
	return ni
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		node *corev1.Node
		want framework.Code
		msg  string
	}{
		{"no taints", schedtest.MakePod().Obj(), schedtest.MakeNode().Name("n").Obj(), framework.Success, ""},
		{"untolerated NoSchedule", schedtest.MakePod().Obj(),
			schedtest.MakeNode().Name("n").Taint("dedicated", "gpu", corev1.TaintEffectNoSchedule).Obj(),
			framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"},
		{"tolerated by value", schedtest.MakePod().Toleration("dedicated", "gpu", corev1.TaintEffectNoSchedule).Obj(),
			schedtest.MakeNode().Name("n").Taint("dedicated", "gpu", corev1.TaintEffectNoSchedule).Obj(), framework.Success, ""},
		{"wrong value", schedtest.MakePod().Toleration("dedicated", "cpu", corev1.TaintEffectNoSchedule).Obj(),
			schedtest.MakeNode().Name("n").Taint("dedicated", "gpu", corev1.TaintEffectNoSchedule).Obj(),
			framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"},
		{"tolerated by Exists on any effect", schedtest.MakePod().Toleration("dedicated", "", "").Obj(),
			schedtest.MakeNode().Name("n").Taint("dedicated", "gpu", corev1.TaintEffectNoExecute).Obj(), framework.Success, ""},
		{"untolerated NoExecute", schedtest.MakePod().Obj(),
			schedtest.MakeNode().Name("n").Taint("node.kubernetes.io/unreachable", "", corev1.TaintEffectNoExecute).Obj(),
			framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"},
		{"PreferNoSchedule does not filter", schedtest.MakePod().Obj(),
			schedtest.MakeNode().Name("n").Taint("soft", "x", corev1.TaintEffectPreferNoSchedule).Obj(), framework.Success, ""},
		{"empty key Exists tolerates everything", schedtest.MakePod().Toleration("", "", "").Obj(),
			schedtest.MakeNode().Name("n").Taint("a", "b", corev1.TaintEffectNoSchedule).Obj(), framework.Success, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := (&TaintToleration{}).Filter(context.Background(), nil, tt.pod, nodeInfo(tt.node))
			if s.Code() != tt.want || s.Message() != tt.msg {
				t.Errorf("Filter = %v, want %v %q", s, tt.want, tt.msg)
			}
		})
	}
}

func TestScore(t *testing.T) {
	nodes := []*corev1.Node{
		schedtest.MakeNode().Name("clean").Obj(),
		schedtest.MakeNode().Name("one").Taint("a", "1", corev1.TaintEffectPreferNoSchedule).Obj(),
		schedtest.MakeNode().Name("two").Taint("a", "1", corev1.TaintEffectPreferNoSchedule).Taint("b", "2", corev1.TaintEffectPreferNoSchedule).Obj(),
		schedtest.MakeNode().Name("tolerated").Taint("c", "3", corev1.TaintEffectPreferNoSchedule).Obj(),
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want []int64
	}{
		{"fewer untolerated taints score higher", schedtest.MakePod().Toleration("c", "3", corev1.TaintEffectPreferNoSchedule).Obj(), []int64{100, 50, 0, 100}},
		{"no tolerations", schedtest.MakePod().Obj(), []int64{100, 50, 0, 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &TaintToleration{}
			state := framework.NewCycleState()
			p.PreScore(context.Background(), state, tt.pod, nil)
			scores := make(framework.NodeScoreList, len(nodes))
			for i, n := range nodes {
				s, st := p.Score(context.Background(), state, tt.pod, nodeInfo(n))
				if !st.IsSuccess() {
					t.Fatal(st)
				}
				scores[i] = framework.NodeScore{Name: n.Name, Score: s}
			}
			p.NormalizeScore(context.Background(), state, tt.pod, scores)
			for i := range scores {
				if scores[i].Score != tt.want[i] {
					t.Errorf("%s: score %d, want %d", scores[i].Name, scores[i].Score, tt.want[i])
				}
			}
		})
	}
}
