package framework

import (
	"context"
	"runtime"
	"sync"
)

// NewParallelizer runs pieces over at most n goroutines (n <= 1 runs them
// in the caller).
func NewParallelizer(n int) Parallelizer { return parallelizer(max(n, 1)) }

type parallelizer int

// minPiecesPerWorker: below this, a goroutine costs more than it saves.
const minPiecesPerWorker = 32

// Until calls do(i) for every i in [0, pieces) unless ctx ends first. It
// uses no more goroutines than there are CPUs: the work is CPU-bound, so
// more would only add scheduling.
func (p parallelizer) Until(ctx context.Context, pieces int, do func(i int)) {
	workers := min(int(p), runtime.GOMAXPROCS(0), pieces/minPiecesPerWorker)
	if workers <= 1 {
		for i := 0; i < pieces && ctx.Err() == nil; i++ {
			do(i)
		}
		return
	}
	// Chunks amortize the channel cost while keeping workers balanced.
	chunk := max(1, pieces/(workers*4))
	next := make(chan int, pieces/chunk+1)
	for i := 0; i < pieces; i += chunk {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range next {
				for i := start; i < min(start+chunk, pieces); i++ {
					if ctx.Err() != nil {
						return
					}
					do(i)
				}
			}
		}()
	}
	wg.Wait()
}
