package store_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/navarch/navarch/internal/registry/store"
)

func event(ns, name string, last time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "p"},
		Reason:         "Test", Message: "m", Type: corev1.EventTypeNormal,
		FirstTimestamp: metav1.NewTime(last), LastTimestamp: metav1.NewTime(last), Count: 1,
	}
}

// TestEventExpiry: an event last written two hours ago expires under a 1 h
// TTL; a fresh one stays, and so does one created just now that reports
// old timestamps, since the TTL counts from the write (upstream attaches a
// fresh etcd lease on every write).
func TestEventExpiry(t *testing.T) {
	e := shared(t)
	ns := e.namespace(t)
	st := e.st("events")
	old := time.Now().Add(-2 * time.Hour)

	// The store stamps creationTimestamp now, so the expired event is
	// written around it, as an earlier server run would have left it.
	stale := event(ns, "stale", old)
	stale.CreationTimestamp = metav1.NewTime(old)
	stale.UID = types.UID("stale-uid")
	b, err := st.Encode(stale)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Create(ctx(t), st.Key(ns, "stale"), b); err != nil {
		t.Fatalf("write stale event: %v", err)
	}
	if _, err := st.Create(ctx(t), ns, event(ns, "fresh", time.Now()), store.WriteOptions{}); err != nil {
		t.Fatalf("create fresh event: %v", err)
	}
	if _, err := st.Create(ctx(t), ns, event(ns, "rewritten", old), store.WriteOptions{}); err != nil {
		t.Fatalf("create rewritten event: %v", err)
	}
	if _, err := st.Get(ctx(t), ns, "stale", store.GetOptions{}); err != nil {
		t.Fatalf("stale event before expiry: %v", err)
	}

	runCtx, stop := context.WithCancel(ctx(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.RunExpiry(runCtx, time.Hour)
	}()
	defer func() { stop(); <-done }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := st.Get(ctx(t), ns, "stale", store.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if err != nil {
			t.Fatalf("get stale event: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("stale event still there 20s after RunExpiry started")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, name := range []string{"fresh", "rewritten"} {
		if _, err := st.Get(ctx(t), ns, name, store.GetOptions{}); err != nil {
			t.Errorf("%s event: %v", name, err)
		}
	}

	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunExpiry did not return after its context ended")
	}
}

// TestExpiryNoop: RunExpiry returns at once without a TTL or for resources
// that do not expire.
func TestExpiryNoop(t *testing.T) {
	e := shared(t)
	for _, c := range []struct {
		resource string
		ttl      time.Duration
	}{{"events", 0}, {"configmaps", time.Hour}} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.st(c.resource).RunExpiry(context.Background(), c.ttl)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("RunExpiry(%s, %v) did not return", c.resource, c.ttl)
		}
	}
}
