package framework

import (
	"context"
	"sync"
	"testing"
)

func TestUntilChunksCoversEveryPieceOnce(t *testing.T) {
	tests := []struct {
		name                    string
		parallelism, pieces, ch int
	}{
		{"serial", 1, 100, 7},
		{"serial, chunk larger than pieces", 1, 5, 32},
		{"parallel", 16, 5000, 32},
		{"parallel, uneven last chunk", 4, 4099, 100},
		{"too few pieces to split", 16, 10, 3},
		{"no pieces", 16, 0, 8},
		{"chunk 0 means 1", 2, 2048, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make([]int, tt.pieces)
			var mu sync.Mutex
			NewParallelizer(tt.parallelism).UntilChunks(context.Background(), tt.pieces, tt.ch, func(lo, hi int) {
				if hi <= lo || (tt.ch > 0 && hi-lo > tt.ch) {
					t.Errorf("chunk [%d, %d) with chunk size %d", lo, hi, tt.ch)
				}
				mu.Lock()
				defer mu.Unlock()
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, n := range seen {
				if n != 1 {
					t.Fatalf("piece %d ran %d times", i, n)
				}
			}
		})
	}
}

func TestUntilStopsWhenContextEnds(t *testing.T) {
	for _, parallelism := range []int{1, 2} {
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		ran := 0
		NewParallelizer(parallelism).Until(ctx, 10000, func(int) {
			mu.Lock()
			defer mu.Unlock()
			if ran++; ran == 10 {
				cancel()
			}
		})
		// Pieces already started may finish; nothing new starts.
		if ran > 10+parallelism {
			t.Errorf("parallelism %d: %d pieces ran after cancelling at 10", parallelism, ran)
		}
		cancel()
	}
}
