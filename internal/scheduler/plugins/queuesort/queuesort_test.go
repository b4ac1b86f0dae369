package queuesort

import (
	"testing"
	"time"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func TestLess(t *testing.T) {
	now := time.Now()
	q := func(prio int32, at time.Time) *framework.QueuedPodInfo {
		return &framework.QueuedPodInfo{PodInfo: framework.NewPodInfo(schedtest.MakePod().Priority(prio).Obj()), Timestamp: at}
	}
	tests := []struct {
		name string
		a, b *framework.QueuedPodInfo
		want bool
	}{
		{"higher priority first", q(10, now), q(1, now.Add(-time.Hour)), true},
		{"lower priority later", q(1, now), q(10, now), false},
		{"equal priority, earlier first", q(5, now), q(5, now.Add(time.Second)), true},
		{"equal priority, later second", q(5, now.Add(time.Second)), q(5, now), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&PrioritySort{}).Less(tt.a, tt.b); got != tt.want {
				t.Errorf("Less = %v, want %v", got, tt.want)
			}
		})
	}
}
