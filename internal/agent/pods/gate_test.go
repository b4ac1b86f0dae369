package pods

import (
	"context"
	"testing"
	"time"
)

func TestStartGateServesOldestFirst(t *testing.T) {
	g := newStartGate(1)
	rel, err := g.acquire(context.Background(), time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 3)
	for _, age := range []int{30, 10, 20} {
		go func() {
			r, err := g.acquire(context.Background(), time.Unix(int64(age), 0))
			if err != nil {
				t.Error(err)
				return
			}
			order <- age
			r()
		}()
	}
	for len(g.waitingCount()) < 3 {
		time.Sleep(time.Millisecond)
	}
	rel()
	for _, want := range []int{10, 20, 30} {
		if got := <-order; got != want {
			t.Fatalf("served %d, want %d", got, want)
		}
	}
	// A waiter that gives up leaves no slot behind.
	hold, _ := g.acquire(context.Background(), time.Unix(1, 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.acquire(ctx, time.Unix(2, 0)); err == nil {
		t.Fatal("acquire with a cancelled context succeeded")
	}
	hold()
	if g.free != 1 || len(g.waiting) != 0 {
		t.Fatalf("free %d, waiting %d after all released", g.free, len(g.waiting))
	}
}

func (g *startGate) waitingCount() []*waiter {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*waiter(nil), g.waiting...)
}
