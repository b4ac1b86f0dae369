package nodename

import (
	"context"
	"testing"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func TestFilter(t *testing.T) {
	node := schedtest.MakeNode().Name("n1").Obj()
	tests := []struct {
		name     string
		nodeName string
		want     framework.Code
	}{
		{"no node name", "", framework.Success},
		{"matching", "n1", framework.Success},
		{"other node", "n2", framework.UnschedulableAndUnresolvable},
	}
	ni := framework.NewNodeInfo()
	ni.SetNode(node)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := (&NodeName{}).Filter(context.Background(), nil, schedtest.MakePod().Node(tt.nodeName).Obj(), ni)
			if s.Code() != tt.want || (s != nil && s.Message() != ErrReason) {
				t.Errorf("Filter = %v, want %v", s, tt.want)
			}
		})
	}
}
