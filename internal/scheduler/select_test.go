package scheduler

import (
	"strconv"
	"testing"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func TestSelectHost(t *testing.T) {
	tests := []struct {
		name   string
		totals []int64
		want   map[string]bool // every acceptable pick
	}{
		{"single best", []int64{10, 30, 20}, map[string]bool{"n1": true}},
		{"best first", []int64{50, 30, 20}, map[string]bool{"n0": true}},
		{"best last", []int64{0, 0, 1}, map[string]bool{"n2": true}},
		{"ties among the best only", []int64{5, 9, 9, 1, 9}, map[string]bool{"n1": true, "n2": true, "n4": true}},
		{"all tie", []int64{7, 7, 7, 7}, map[string]bool{"n0": true, "n1": true, "n2": true, "n3": true}},
		{"negative totals", []int64{-3, -1, -2}, map[string]bool{"n1": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := make([]*framework.NodeInfo, len(tt.totals))
			for i := range nodes {
				nodes[i] = framework.NewNodeInfo()
				nodes[i].SetNode(schedtest.MakeNode().Name("n" + strconv.Itoa(i)).Obj())
			}
			seen := map[string]int{}
			const draws = 4000
			for range draws {
				seen[selectHost(nodes, tt.totals)]++
			}
			for name, n := range seen {
				if !tt.want[name] {
					t.Fatalf("picked %s (%d times), want one of %v", name, n, tt.want)
				}
			}
			// Ties are broken uniformly: each of k tied nodes gets about
			// draws/k; a quarter below that is far outside chance.
			for name := range tt.want {
				if floor := draws / len(tt.want) * 3 / 4; seen[name] < floor {
					t.Errorf("%s picked %d of %d times, want at least %d", name, seen[name], draws, floor)
				}
			}
		})
	}
}
