package controller

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the expectations TTL.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestExpectations(t *testing.T) {
	type step struct {
		op        string // expect, add, del, forget, tick
		adds      int
		dels      int
		d         time.Duration
		satisfied bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"nothing recorded", []step{{op: "check", satisfied: true}}},
		{"creations pending until all observed", []step{
			{op: "expect", adds: 2, satisfied: false},
			{op: "add", satisfied: false},
			{op: "add", satisfied: true},
		}},
		{"deletions pending until all observed", []step{
			{op: "expect", dels: 1, satisfied: false},
			{op: "add", satisfied: false},
			{op: "del", satisfied: true},
		}},
		{"both kinds", []step{
			{op: "expect", adds: 1, dels: 1, satisfied: false},
			{op: "del", satisfied: false},
			{op: "add", satisfied: true},
		}},
		{"extra observations do not go negative into a block", []step{
			{op: "expect", adds: 1, satisfied: false},
			{op: "add", satisfied: true},
			{op: "add", satisfied: true},
		}},
		{"a new expectation replaces the old one", []step{
			{op: "expect", adds: 5, satisfied: false},
			{op: "expect", adds: 1, satisfied: false},
			{op: "add", satisfied: true},
		}},
		{"forget", []step{
			{op: "expect", adds: 3, satisfied: false},
			{op: "forget", satisfied: true},
		}},
		{"expired after the TTL", []step{
			{op: "expect", adds: 1, satisfied: false},
			{op: "tick", d: ExpectationsTTL - time.Second, satisfied: false},
			{op: "tick", d: 2 * time.Second, satisfied: true},
		}},
		{"a renewed expectation restarts the TTL", []step{
			{op: "expect", adds: 1, satisfied: false},
			{op: "tick", d: ExpectationsTTL - time.Second, satisfied: false},
			{op: "expect", adds: 1, satisfied: false},
			{op: "tick", d: 2 * time.Second, satisfied: false},
		}},
		{"observations for an unknown key are ignored", []step{
			{op: "add", satisfied: true},
			{op: "del", satisfied: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1000, 0)}
			e := NewExpectations()
			e.now = clk.now
			const key = "ns/rs"
			for i, s := range tc.steps {
				switch s.op {
				case "expect":
					e.Expect(key, s.adds, s.dels)
				case "add":
					e.CreationObserved(key)
				case "del":
					e.DeletionObserved(key)
				case "forget":
					e.Forget(key)
				case "tick":
					clk.step(s.d)
				}
				if got := e.Satisfied(key); got != s.satisfied {
					t.Fatalf("step %d (%s): Satisfied = %v, want %v", i, s.op, got, s.satisfied)
				}
			}
			if !e.Satisfied("other/key") {
				t.Error("an unrelated key is blocked")
			}
		})
	}
}

func TestExpectationsConcurrent(t *testing.T) {
	e := NewExpectations()
	const n = 200
	e.Expect("k", n, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(2)
		go func() { defer wg.Done(); e.CreationObserved("k") }()
		go func() { defer wg.Done(); e.DeletionObserved("k") }()
	}
	wg.Wait()
	if !e.Satisfied("k") {
		t.Fatal("not satisfied after every expected observation")
	}
}
