package nodeports

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func TestFilter(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	tests := []struct {
		name     string
		pod      *corev1.Pod
		existing []*corev1.Pod
		want     framework.Code
	}{
		{"no ports skips", schedtest.MakePod().Container().Obj(), nil, framework.Skip},
		{"free port", schedtest.MakePod().HostPort(tcp, "", 8080).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").HostPort(tcp, "", 9090).Obj()}, framework.Success},
		{"same port and protocol", schedtest.MakePod().HostPort(tcp, "", 8080).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").HostPort(tcp, "", 8080).Obj()}, framework.Unschedulable},
		{"same port, other protocol", schedtest.MakePod().HostPort(udp, "", 8080).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").HostPort(tcp, "", 8080).Obj()}, framework.Success},
		{"different specific IPs", schedtest.MakePod().HostPort(tcp, "10.0.0.1", 8080).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").HostPort(tcp, "10.0.0.2", 8080).Obj()}, framework.Success},
		{"specific IP against 0.0.0.0", schedtest.MakePod().HostPort(tcp, "10.0.0.1", 8080).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").HostPort(tcp, "", 8080).Obj()}, framework.Unschedulable},
		{"0.0.0.0 against specific IP", schedtest.MakePod().HostPort(tcp, "", 8080).Obj(),
			[]*corev1.Pod{schedtest.MakePod().Name("e").HostPort(tcp, "10.0.0.2", 8080).Obj()}, framework.Unschedulable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni := framework.NewNodeInfo()
			ni.SetNode(schedtest.MakeNode().Name("n").Obj())
			for _, p := range tt.existing {
				ni.AddPodInfo(framework.NewPodInfo(p))
			}
			state := framework.NewCycleState()
			p := &NodePorts{}
			_, s := p.PreFilter(context.Background(), state, tt.pod)
			if s.IsSkip() {
				if tt.want != framework.Skip {
					t.Fatalf("PreFilter skipped")
				}
				return
			}
			s = p.Filter(context.Background(), state, tt.pod, ni)
			if s.Code() != tt.want || (!s.IsSuccess() && s.Message() != ErrReason) {
				t.Errorf("Filter = %v, want %v", s, tt.want)
			}
		})
	}
}

func TestRemovedPodFreesPort(t *testing.T) {
	e := schedtest.MakePod().Name("e").HostPort(corev1.ProtocolTCP, "", 80).Obj()
	ni := framework.NewNodeInfo(framework.NewPodInfo(e))
	if !ni.UsedPorts.CheckConflict("0.0.0.0", "TCP", 80) {
		t.Fatal("port not recorded")
	}
	if err := ni.RemovePod(e); err != nil {
		t.Fatal(err)
	}
	if ni.UsedPorts.CheckConflict("0.0.0.0", "TCP", 80) {
		t.Fatal("port still in use after the pod left")
	}
}
