package defaultpreemption

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/plugins/noderesources"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

type req = map[corev1.ResourceName]string

func setup(t *testing.T, pods []*corev1.Pod, nodes []*corev1.Node) (*DefaultPreemption, *schedtest.Handle, *noderesources.Fit) {
	t.Helper()
	objs := make([]runtime.Object, len(pods))
	for i, p := range pods {
		objs[i] = p
	}
	h := schedtest.NewHandle(pods, nodes, objs...)
	fp, _ := noderesources.New(nil, h)
	fit := fp.(*noderesources.Fit)
	h.Filters, h.PreFilters = []framework.FilterPlugin{fit}, []framework.PreFilterPlugin{fit}
	p, err := New(nil, h)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*DefaultPreemption), h, fit
}

func statuses(h *schedtest.Handle, code framework.Code, msg string) framework.NodeToStatus {
	m := framework.NodeToStatus{Map: map[string]*framework.Status{}}
	for _, ni := range h.Snapshot.List() {
		m.Map[ni.Node().Name] = framework.NewStatus(code, msg)
	}
	return m
}

func node(name string) *corev1.Node {
	return schedtest.MakeNode().Name(name).Capacity(req{"cpu": "2"}).Obj()
}

func low(name, nodeName string, prio int32, cpu string, started time.Time) *corev1.Pod {
	return schedtest.MakePod().Name(name).Node(nodeName).Priority(prio).Req(req{"cpu": cpu}).StartTime(started).Obj()
}

func TestPostFilter(t *testing.T) {
	now := time.Now()
	high := schedtest.MakePod().Name("high").Priority(100).Req(req{"cpu": "1"}).Obj()
	tests := []struct {
		name        string
		pod         *corev1.Pod
		pods        []*corev1.Pod
		nodes       []*corev1.Node
		code        framework.Code
		wantNode    string
		wantVictims []string
		msg         string
	}{
		{name: "evicts a lower-priority pod", pod: high,
			pods:  []*corev1.Pod{low("l1", "n1", 0, "2", now)},
			nodes: []*corev1.Node{node("n1")}, wantNode: "n1", wantVictims: []string{"l1"}},
		{name: "evicts only what is needed, least important first", pod: high,
			pods:  []*corev1.Pod{low("l1", "n1", 1, "1", now), low("l2", "n1", 0, "1", now)},
			nodes: []*corev1.Node{node("n1")}, wantNode: "n1", wantVictims: []string{"l2"}},
		{name: "prefers the node with lower-priority victims", pod: high,
			pods:  []*corev1.Pod{low("mid", "n1", 50, "2", now), low("l", "n2", 10, "2", now)},
			nodes: []*corev1.Node{node("n1"), node("n2")}, wantNode: "n2", wantVictims: []string{"l"}},
		{name: "prefers fewer victims", pod: schedtest.MakePod().Name("high2").Priority(100).Req(req{"cpu": "2"}).Obj(),
			pods:  []*corev1.Pod{low("a", "n1", 0, "1", now), low("b", "n1", 0, "1", now), low("c", "n2", 0, "2", now)},
			nodes: []*corev1.Node{node("n1"), node("n2")}, wantNode: "n2", wantVictims: []string{"c"}},
		{name: "prefers evicting the newest pod", pod: high,
			pods:  []*corev1.Pod{low("old", "n1", 0, "2", now.Add(-time.Hour)), low("new", "n2", 0, "2", now)},
			nodes: []*corev1.Node{node("n1"), node("n2")}, wantNode: "n2", wantVictims: []string{"new"}},
		{name: "never preempts equal or higher priority", pod: high,
			pods:  []*corev1.Pod{low("h", "n1", 100, "2", now)},
			nodes: []*corev1.Node{node("n1")}, code: framework.Unschedulable,
			msg: "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."},
		{name: "preemptionPolicy Never", pod: schedtest.MakePod().Name("p").Priority(100).PreemptionPolicy(corev1.PreemptNever).Req(req{"cpu": "1"}).Obj(),
			pods: []*corev1.Pod{low("l1", "n1", 0, "2", now)}, nodes: []*corev1.Node{node("n1")}, code: framework.Unschedulable,
			msg: "preemption: not eligible due to preemptionPolicy=Never."},
		{name: "removing every victim is not enough", pod: schedtest.MakePod().Name("big").Priority(100).Req(req{"cpu": "3"}).Obj(),
			pods: []*corev1.Pod{low("l1", "n1", 0, "1", now)}, nodes: []*corev1.Node{node("n1")}, code: framework.Unschedulable,
			msg: "preemption: 0/1 nodes are available: 1 Insufficient cpu."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, h, fit := setup(t, tt.pods, tt.nodes)
			state := framework.NewCycleState()
			fit.PreFilter(context.Background(), state, tt.pod)
			r, s := p.PostFilter(context.Background(), state, tt.pod, statuses(h, framework.Unschedulable, "Insufficient cpu"))
			if s.Code() != tt.code {
				t.Fatalf("status = %v, want %v", s, tt.code)
			}
			if tt.code != framework.Success {
				if s.Message() != tt.msg {
					t.Errorf("message = %q, want %q", s.Message(), tt.msg)
				}
				return
			}
			if r.NominatedNodeName != tt.wantNode {
				t.Errorf("nominated %q, want %q", r.NominatedNodeName, tt.wantNode)
			}
			left, _ := h.Client.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
			remaining := map[string]bool{}
			for _, p := range left.Items {
				remaining[p.Name] = true
			}
			for _, v := range tt.wantVictims {
				if remaining[v] {
					t.Errorf("victim %s not deleted", v)
				}
			}
			if len(left.Items) != len(tt.pods)-len(tt.wantVictims) {
				t.Errorf("%d pods left, want %d", len(left.Items), len(tt.pods)-len(tt.wantVictims))
			}
		})
	}
}

func TestNotHelpful(t *testing.T) {
	p, h, _ := setup(t, nil, []*corev1.Node{node("n1"), node("n2")})
	pod := schedtest.MakePod().Name("p").Priority(5).Obj()
	_, s := p.PostFilter(context.Background(), framework.NewCycleState(), pod,
		statuses(h, framework.UnschedulableAndUnresolvable, "node(s) didn't match Pod's node affinity/selector"))
	if !strings.Contains(s.Message(), "2 Preemption is not helpful for scheduling") {
		t.Errorf("message = %q", s.Message())
	}
}

func TestWaitsForTerminatingVictims(t *testing.T) {
	victim := low("v", "n1", 0, "2", time.Now())
	victim.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	p, h, _ := setup(t, []*corev1.Pod{victim}, []*corev1.Node{node("n1")})
	pod := schedtest.MakePod().Name("p").Priority(5).NominatedNodeName("n1").Req(req{"cpu": "1"}).Obj()
	_, s := p.PostFilter(context.Background(), framework.NewCycleState(), pod, statuses(h, framework.Unschedulable, "Insufficient cpu"))
	if s.Message() != "preemption: not eligible due to a terminating pod on the nominated node." {
		t.Errorf("message = %q", s.Message())
	}
}
