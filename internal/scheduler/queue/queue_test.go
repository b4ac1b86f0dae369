package queue

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/plugins/queuesort"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newQueue(c *clock) *Queue {
	return New(Options{Less: (&queuesort.PrioritySort{}).Less, InitialBackoff: time.Second, MaxBackoff: 10 * time.Second, Now: c.now,
		Events: map[string][]framework.ClusterEvent{
			"Fit":      {{Resource: framework.PodResource, ActionType: framework.Delete}},
			"Affinity": {{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeLabel}},
		}})
}

func pi(name string, prio int32) *framework.PodInfo {
	return framework.NewPodInfo(schedtest.MakePod().Name(name).Priority(prio).Obj())
}

func pop(t *testing.T, q *Queue) *framework.QueuedPodInfo {
	t.Helper()
	if a, _, _, _ := q.Lengths(); a == 0 {
		t.Fatal("Pop on an empty active queue would block")
	}
	qp, err := q.Pop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return qp
}

func TestPriorityOrder(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	q := newQueue(c)
	q.Add(pi("low", 1))
	c.t = c.t.Add(time.Millisecond)
	q.Add(pi("high", 10))
	c.t = c.t.Add(time.Millisecond)
	q.Add(pi("low2", 1))
	var got []string
	for range 3 {
		got = append(got, pop(t, q).Pod.Name)
	}
	want := []string{"high", "low", "low2"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestBackoffAndEvents(t *testing.T) {
	tests := []struct {
		name       string
		plugins    sets.Set[string]
		event      framework.ClusterEvent
		moveDuring bool // a move request during the attempt
		wantActive bool // active right after the event (backoff over)
	}{
		{"registered event moves the pod", sets.New("Fit"), framework.EventAssignedPodDelete, false, true},
		{"unrelated event leaves it", sets.New("Fit"), framework.EventNodeAdd, false, false},
		{"pod rejected by several plugins", sets.New("Fit", "Affinity"), framework.EventNodeAdd, false, true},
		{"error failures back off without an event", nil, framework.ClusterEvent{}, false, true},
		{"cluster changed during the attempt", sets.New("Fit"), framework.ClusterEvent{}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{time.Unix(1000, 0)}
			q := newQueue(c)
			q.Add(pi("p", 0))
			qp := pop(t, q)
			cycle := q.SchedulingCycle()
			if tt.moveDuring {
				q.MoveAllToActiveOrBackoff(framework.EventNodeAdd, nil)
			}
			qp.UnschedulablePlugins = tt.plugins
			q.AddUnschedulableIfNotPresent(qp, cycle)
			c.t = c.t.Add(2 * time.Second) // past the first back-off (1s)
			if tt.event.Resource != "" {
				q.MoveAllToActiveOrBackoff(tt.event, nil)
			}
			q.FlushBackoffCompleted()
			if a, _, _, _ := q.Lengths(); (a == 1) != tt.wantActive {
				t.Fatalf("active = %d, want active %v", a, tt.wantActive)
			}
		})
	}
}

func TestBackoffDoubles(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	q := newQueue(c)
	q.Add(pi("p", 0))
	for attempt, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		qp := pop(t, q)
		q.AddUnschedulableIfNotPresent(qp, 0) // no plugins: straight to back-off
		c.t = c.t.Add(wait - time.Millisecond)
		q.FlushBackoffCompleted()
		if a, b, _, _ := q.Lengths(); a != 0 || b != 1 {
			t.Fatalf("attempt %d: left back-off before %v", attempt+1, wait)
		}
		c.t = c.t.Add(time.Millisecond)
		q.FlushBackoffCompleted()
		if a, _, _, _ := q.Lengths(); a != 1 {
			t.Fatalf("attempt %d: still backing off after %v", attempt+1, wait)
		}
	}
}

func TestUpdateOfUnschedulablePod(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	q := newQueue(c)
	old := pi("p", 0)
	q.Add(old)
	qp := pop(t, q)
	qp.UnschedulablePlugins = sets.New("Fit")
	q.AddUnschedulableIfNotPresent(qp, q.SchedulingCycle())
	c.t = c.t.Add(time.Minute)

	statusOnly := old.Pod.DeepCopy()
	statusOnly.Status.Message = "x"
	q.Update(old, framework.NewPodInfo(statusOnly))
	if _, _, u, _ := q.Lengths(); u != 1 {
		t.Fatal("a status-only update moved the pod")
	}
	labelled := old.Pod.DeepCopy()
	labelled.Labels = map[string]string{"a": "b"}
	q.Update(old, framework.NewPodInfo(labelled))
	if a, _, u, _ := q.Lengths(); a != 1 || u != 0 {
		t.Fatal("a label change did not retry the pod")
	}
}

func TestSchedulingGates(t *testing.T) {
	q := newQueue(&clock{time.Unix(1000, 0)})
	gated := framework.NewPodInfo(schedtest.MakePod().Name("g").SchedulingGates("wait").Obj())
	q.Add(gated)
	q.MoveAllToActiveOrBackoff(framework.EventForceActivate, nil)
	if a, _, _, g := q.Lengths(); a != 0 || g != 1 {
		t.Fatalf("gated pod active (a=%d g=%d)", a, g)
	}
	open := gated.Pod.DeepCopy()
	open.Spec.SchedulingGates = nil
	q.Update(gated, framework.NewPodInfo(open))
	if a, _, _, g := q.Lengths(); a != 1 || g != 0 {
		t.Fatalf("ungated pod not active (a=%d g=%d)", a, g)
	}
}

func TestDeleteAndClose(t *testing.T) {
	q := newQueue(&clock{time.Unix(1000, 0)})
	p := pi("p", 0)
	q.Add(p)
	q.Delete(p.Pod)
	if a, _, _, _ := q.Lengths(); a != 0 {
		t.Fatal("deleted pod still queued")
	}
	done := make(chan error)
	go func() { _, err := q.Pop(context.Background()); done <- err }()
	q.Close()
	if err := <-done; err != ErrClosed {
		t.Fatalf("Pop after Close = %v", err)
	}
}

func TestNominator(t *testing.T) {
	n := NewNominator()
	a := framework.NewPodInfo(schedtest.MakePod().Name("a").Obj())
	n.Add(a, "n1")
	if got := n.NominatedPodsForNode("n1"); len(got) != 1 || n.NominatedNode("a") != "n1" {
		t.Fatalf("nominated = %v", got)
	}
	// An update that does not carry the nomination keeps it.
	n.Update(a, framework.NewPodInfo(a.Pod.DeepCopy()))
	if n.NominatedNode("a") != "n1" {
		t.Fatal("nomination lost on update")
	}
	n.Delete("a")
	if len(n.NominatedPodsForNode("n1")) != 0 {
		t.Fatal("nomination not deleted")
	}
}
