package balancedallocation

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

type req = map[corev1.ResourceName]string

func TestScore(t *testing.T) {
	node := schedtest.MakeNode().Name("n").Capacity(req{"cpu": "4", "memory": "4Gi"}).Obj()
	tests := []struct {
		name     string
		existing *corev1.Pod
		pod      *corev1.Pod
		want     int64
		skip     bool
	}{
		{"balanced", nil, schedtest.MakePod().Req(req{"cpu": "2", "memory": "2Gi"}).Obj(), 100, false},
		// cpu 1/4, mem 3/4: std 0.25 -> 75.
		{"unbalanced", nil, schedtest.MakePod().Req(req{"cpu": "1", "memory": "3Gi"}).Obj(), 75, false},
		// existing 3 cpu + 1 cpu = 1, mem 1/4: std .375 -> 62.
		{"counts existing pods", schedtest.MakePod().Name("e").Req(req{"cpu": "3"}).Obj(), schedtest.MakePod().Req(req{"cpu": "1", "memory": "1Gi"}).Obj(), 62, false},
		{"best effort skips", nil, schedtest.MakePod().Container().Obj(), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := New(nil, nil)
			b := p.(*BalancedAllocation)
			ni := framework.NewNodeInfo()
			ni.SetNode(node)
			if tt.existing != nil {
				ni.AddPodInfo(framework.NewPodInfo(tt.existing))
			}
			state := framework.NewCycleState()
			if s := b.PreScore(context.Background(), state, tt.pod, nil); s.IsSkip() != tt.skip {
				t.Fatalf("PreScore = %v, skip want %v", s, tt.skip)
			}
			if tt.skip {
				return
			}
			got, _ := b.Score(context.Background(), state, tt.pod, ni)
			if got != tt.want {
				t.Errorf("score = %d, want %d", got, tt.want)
			}
		})
	}
}
