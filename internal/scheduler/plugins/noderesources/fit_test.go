package noderesources

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

type req = map[corev1.ResourceName]string

func nodeInfo(node *corev1.Node, pods ...*corev1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(node)
	for _, p := range pods {
		ni.AddPodInfo(framework.NewPodInfo(p))
	}
	return ni
}

func newFit(t *testing.T, args string) *Fit {
	t.Helper()
	var raw json.RawMessage
	if args != "" {
		raw = json.RawMessage(args)
	}
	p, err := New(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Fit)
}

func TestFilter(t *testing.T) {
	node := schedtest.MakeNode().Name("n").Capacity(req{"cpu": "4", "memory": "8Gi", "pods": "3", "example.com/gpu": "2"}).Obj()
	used := schedtest.MakePod().Name("used").Req(req{"cpu": "3", "memory": "2Gi"}).Obj()
	tests := []struct {
		name    string
		pod     *corev1.Pod
		pods    []*corev1.Pod
		args    string
		code    framework.Code
		reasons []string
	}{
		{"fits", schedtest.MakePod().Req(req{"cpu": "1", "memory": "1Gi"}).Obj(), []*corev1.Pod{used}, "", framework.Success, nil},
		{"insufficient cpu", schedtest.MakePod().Req(req{"cpu": "2"}).Obj(), []*corev1.Pod{used}, "", framework.Unschedulable, []string{"Insufficient cpu"}},
		{"cpu and memory", schedtest.MakePod().Req(req{"cpu": "2", "memory": "7Gi"}).Obj(), []*corev1.Pod{used}, "", framework.Unschedulable,
			[]string{"Insufficient cpu", "Insufficient memory"}},
		{"more than the node has", schedtest.MakePod().Req(req{"cpu": "5"}).Obj(), nil, "", framework.UnschedulableAndUnresolvable, []string{"Insufficient cpu"}},
		{"too many pods", schedtest.MakePod().Obj(), []*corev1.Pod{used, schedtest.MakePod().Name("b").Obj(), schedtest.MakePod().Name("c").Obj()}, "",
			framework.Unschedulable, []string{"Too many pods"}},
		{"best effort fits anywhere with room", schedtest.MakePod().Container().Obj(), []*corev1.Pod{used}, "", framework.Success, nil},
		{"extended resource", schedtest.MakePod().Req(req{"example.com/gpu": "3"}).Obj(), nil, "", framework.UnschedulableAndUnresolvable, []string{"Insufficient example.com/gpu"}},
		{"extended resource the node lacks", schedtest.MakePod().Req(req{"other.io/fpga": "1"}).Obj(), nil, "", framework.UnschedulableAndUnresolvable, []string{"Insufficient other.io/fpga"}},
		{"ignored resource", schedtest.MakePod().Req(req{"other.io/fpga": "1"}).Obj(), nil, `{"ignoredResources":["other.io/fpga"]}`, framework.Success, nil},
		{"ignored group", schedtest.MakePod().Req(req{"other.io/fpga": "1"}).Obj(), nil, `{"ignoredResourceGroups":["other.io"]}`, framework.Success, nil},
		{"init container peak", schedtest.MakePod().Req(req{"cpu": "100m"}).InitReq(req{"cpu": "2"}).Obj(), []*corev1.Pod{used}, "", framework.Unschedulable, []string{"Insufficient cpu"}},
		{"sidecar adds to containers", schedtest.MakePod().Req(req{"cpu": "600m"}).SidecarReq(req{"cpu": "600m"}).Obj(), []*corev1.Pod{used}, "", framework.Unschedulable, []string{"Insufficient cpu"}},
		{"overhead counts", schedtest.MakePod().Req(req{"cpu": "900m"}).Overhead(req{"cpu": "200m"}).Obj(), []*corev1.Pod{used}, "", framework.Unschedulable, []string{"Insufficient cpu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFit(t, tt.args)
			state := framework.NewCycleState()
			f.PreFilter(context.Background(), state, tt.pod)
			s := f.Filter(context.Background(), state, tt.pod, nodeInfo(node, tt.pods...))
			if s.Code() != tt.code || len(s.Reasons()) != len(tt.reasons) {
				t.Fatalf("Filter = %v, want %v %v", s, tt.code, tt.reasons)
			}
			for i := range tt.reasons {
				if s.Reasons()[i] != tt.reasons[i] {
					t.Errorf("reason %d = %q, want %q", i, s.Reasons()[i], tt.reasons[i])
				}
			}
		})
	}
}

func TestScore(t *testing.T) {
	empty := schedtest.MakeNode().Name("empty").Capacity(req{"cpu": "4", "memory": "4Gi"}).Obj()
	busy := schedtest.MakeNode().Name("busy").Capacity(req{"cpu": "4", "memory": "4Gi"}).Obj()
	load := schedtest.MakePod().Name("load").Req(req{"cpu": "3", "memory": "1Gi"}).Obj()
	pod := schedtest.MakePod().Req(req{"cpu": "1", "memory": "1Gi"}).Obj()
	tests := []struct {
		name        string
		args        string
		empty, busy int64
	}{
		// empty: cpu (4-1)/4=75, mem (4-1)/4=75 -> 75; busy: cpu 0, mem 50 -> 25.
		{"least allocated", "", 75, 25},
		// empty: 25, 25 -> 25; busy: 100, 50 -> 75.
		{"most allocated", `{"scoringStrategy":{"type":"MostAllocated"}}`, 25, 75},
		// cpu weight 3: empty (75*3+75)/4=75, busy (0*3+50)/4=12.
		{"weights", `{"scoringStrategy":{"type":"LeastAllocated","resources":[{"name":"cpu","weight":3},{"name":"memory","weight":1}]}}`, 75, 12},
		// shape 0->0, 100->10 is MostAllocated.
		{"requested to capacity ratio", `{"scoringStrategy":{"type":"RequestedToCapacityRatio","requestedToCapacityRatio":{"shape":[{"utilization":0,"score":0},{"utilization":100,"score":10}]}}}`, 25, 75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFit(t, tt.args)
			se, _ := f.Score(context.Background(), nil, pod, nodeInfo(empty))
			sb, _ := f.Score(context.Background(), nil, pod, nodeInfo(busy, load))
			if se != tt.empty || sb != tt.busy {
				t.Errorf("scores empty=%d busy=%d, want %d %d", se, sb, tt.empty, tt.busy)
			}
		})
	}
}

func TestBestEffortScoresWithDefaults(t *testing.T) {
	node := schedtest.MakeNode().Name("n").Capacity(req{"cpu": "1", "memory": "1Gi"}).Obj()
	s, _ := newFit(t, "").Score(context.Background(), nil, schedtest.MakePod().Container().Obj(), nodeInfo(node))
	// 100m of 1 cpu -> 90; 200Mi of 1Gi -> 80 (integer math) -> 85.
	if s != 85 {
		t.Errorf("score = %d, want 85", s)
	}
}

func TestBadArgs(t *testing.T) {
	for _, args := range []string{`{"scoringStrategy":{"type":"Nope"}}`, `{"nope":1}`,
		`{"scoringStrategy":{"type":"RequestedToCapacityRatio"}}`,
		`{"scoringStrategy":{"resources":[{"name":"cpu","weight":101}]}}`} {
		if _, err := New(json.RawMessage(args), nil); err == nil {
			t.Errorf("args %s accepted", args)
		}
	}
}
