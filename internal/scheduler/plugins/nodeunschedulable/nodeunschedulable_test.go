package nodeunschedulable

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		node *corev1.Node
		want framework.Code
	}{
		{"schedulable node", schedtest.MakePod().Obj(), schedtest.MakeNode().Name("n").Obj(), framework.Success},
		{"cordoned node", schedtest.MakePod().Obj(), schedtest.MakeNode().Name("n").Unschedulable().Obj(), framework.UnschedulableAndUnresolvable},
		{"cordoned but tolerated", schedtest.MakePod().Toleration(corev1.TaintNodeUnschedulable, "", corev1.TaintEffectNoSchedule).Obj(),
			schedtest.MakeNode().Name("n").Unschedulable().Obj(), framework.Success},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni := framework.NewNodeInfo()
			ni.SetNode(tt.node)
			s := (&NodeUnschedulable{}).Filter(context.Background(), nil, tt.pod, ni)
			if s.Code() != tt.want || (s != nil && s.Message() != ErrReason) {
				t.Errorf("Filter = %v, want %v", s, tt.want)
			}
		})
	}
}
