package pods

import (
	"testing"
	"time"
)

func TestCrashBackoff(t *testing.T) {
	table := map[string]*crashBackoff{}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		finished, now time.Duration // since t0
		wait          time.Duration
	}{
		{0, 0, 0}, // first crash: restart at once
		{1 * time.Second, 1 * time.Second, 10 * time.Second},   // second: wait 10s
		{1 * time.Second, 11 * time.Second, 0},                 // after 10s: restart (delay becomes 20s)
		{12 * time.Second, 12 * time.Second, 20 * time.Second}, // third crash: 20s
		{12 * time.Second, 40 * time.Second, 0},                // (delay 40s)
		{41 * time.Second, 50 * time.Second, 31 * time.Second},
		// Ran for over 10 minutes: back to a fresh start.
		{41*time.Second + 11*time.Minute, 41*time.Second + 11*time.Minute, 0},
	}
	for i, s := range steps {
		wait, _ := crashBackoffAt(table, "c", t0.Add(s.finished), t0.Add(s.now))
		if wait != s.wait {
			t.Errorf("step %d: wait = %v, want %v", i, wait, s.wait)
		}
	}
	for d := 0; d < 20; d++ {
		crashBackoffAt(table, "c", t0, t0.Add(time.Hour))
	}
	if table["c"].delay > crashMax {
		t.Errorf("delay %v above the 5 minute cap", table["c"].delay)
	}
}
