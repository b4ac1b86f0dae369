package storage

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeRevisions serves an ever-growing revision and records compactions.
type fakeRevisions struct {
	Interface // unused methods panic, which would flag an unexpected call

	mu        sync.Mutex
	rev       int64
	failReads int // CurrentRevision calls that fail before succeeding
	compacted []int64
}

func (f *fakeRevisions) CurrentRevision(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failReads > 0 {
		f.failReads--
		return 0, ErrUnavailable
	}
	f.rev += 10
	return f.rev, nil
}

func (f *fakeRevisions) Compact(_ context.Context, rev int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compacted = append(f.compacted, rev)
	return nil
}

func (f *fakeRevisions) compactions() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.compacted)
}

func TestRunCompactorKeepsOneInterval(t *testing.T) {
	cases := []struct {
		name      string
		failReads int
		// want is a prefix of the compactions: each tick compacts to the
		// revision read one tick earlier (reads return 10, 20, 30, ...).
		want []int64
	}{
		{name: "healthy", want: []int64{10, 20, 30}},
		// The first read fails, so the first tick has nothing to compact to
		// and only records revision 10.
		{name: "first read fails", failReads: 1, want: []int64{10, 20, 30}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRevisions{failReads: tc.failReads}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				RunCompactor(ctx, f, time.Millisecond, nil)
				close(done)
			}()
			deadline := time.Now().Add(10 * time.Second)
			for len(f.compactions()) < len(tc.want) {
				if time.Now().After(deadline) {
					t.Fatalf("only %v compactions within 10s", f.compactions())
				}
				time.Sleep(time.Millisecond) // pacing the poll
			}
			cancel()
			<-done
			if got := f.compactions()[:len(tc.want)]; !slices.Equal(got, tc.want) {
				t.Fatalf("compactions = %v, want prefix %v", got, tc.want)
			}
		})
	}
}

func TestRunCompactorStopsWithContext(t *testing.T) {
	f := &fakeRevisions{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() {
		RunCompactor(ctx, f, time.Hour, nil)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunCompactor did not return after its context ended")
	}
	if c := f.compactions(); len(c) != 0 {
		t.Fatalf("compacted %v with a dead context", c)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"deadline", context.DeadlineExceeded, ErrUnavailable},
		{"other", errors.New("boom"), nil},
		{"canceled", context.Canceled, nil},
		{"compacted", rpctypes.ErrCompacted, ErrCompacted},
		{"future", rpctypes.ErrFutureRev, ErrFutureRevision},
		{"no leader", rpctypes.ErrNoLeader, ErrUnavailable},
		{"timeout", rpctypes.ErrTimeout, ErrUnavailable},
		{"grpc unavailable", status.Error(codes.Unavailable, "connection refused"), ErrUnavailable},
		{"grpc invalid", status.Error(codes.InvalidArgument, "bad"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Fatalf("classify(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
