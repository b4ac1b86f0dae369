package gopool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGoRunsEveryFunction(t *testing.T) {
	tests := []struct {
		name       string
		concurrent int // functions running at once
		total      int
	}{
		{"sequential reuse", 1, 100},
		{"all at once", 50, 50},
		{"bursts", 8, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(time.Second)
			var ran atomic.Int64
			var wg sync.WaitGroup
			sem := make(chan struct{}, tt.concurrent)
			for range tt.total {
				sem <- struct{}{}
				wg.Add(1)
				p.Go(func() {
					defer wg.Done()
					defer func() { <-sem }()
					ran.Add(1)
				})
			}
			wg.Wait()
			if got := ran.Load(); got != int64(tt.total) {
				t.Fatalf("ran %d functions, want %d", got, tt.total)
			}
		})
	}
}

// A busy pool must not make a caller wait for a worker.
func TestGoNeverBlocksOnBusyWorkers(t *testing.T) {
	p := New(time.Second)
	release := make(chan struct{})
	var started sync.WaitGroup
	const n = 20
	started.Add(n)
	for range n {
		p.Go(func() { started.Done(); <-release })
	}
	done := make(chan struct{})
	go func() { started.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("blocked functions were not all started concurrently")
	}
	close(release)
}

func TestIdleWorkersExit(t *testing.T) {
	p := New(20 * time.Millisecond)
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		p.Go(func() { defer wg.Done(); time.Sleep(10 * time.Millisecond) })
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Reuse is the point: a worker that finished must take the next function.
func TestWorkersAreReused(t *testing.T) {
	p := New(time.Minute)
	ids := map[int64]bool{}
	var mu sync.Mutex
	for range 50 {
		done := make(chan struct{})
		p.Go(func() {
			mu.Lock()
			ids[goid()] = true
			mu.Unlock()
			close(done)
		})
		<-done
		time.Sleep(time.Millisecond) // let the worker go idle again
	}
	if len(ids) > 2 {
		t.Fatalf("50 sequential functions ran on %d goroutines, want reuse", len(ids))
	}
}

// goid reads the goroutine id from the stack header, for the test only.
func goid() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id int64
	for _, c := range buf[len("goroutine "):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}
