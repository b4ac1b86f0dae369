package cache

import (
	"errors"
	"testing"
)

func TestWindow(t *testing.T) {
	tests := []struct {
		name       string
		start      int64
		revs       []int64
		size       int
		wantStart  int64
		since      int64
		wantSince  []int64
		wantCovers bool
	}{
		{"empty", 10, nil, 3, 10, 10, []int64{}, true},
		{"before start", 10, nil, 3, 10, 9, []int64{}, false},
		{"not full", 10, []int64{11, 12}, 3, 10, 10, []int64{11, 12}, true},
		{"middle", 10, []int64{11, 12}, 3, 10, 11, []int64{12}, true},
		{"evicted", 10, []int64{11, 12, 13, 15}, 3, 11, 11, []int64{12, 13, 15}, true},
		{"evicted too old", 10, []int64{11, 12, 13, 15}, 3, 11, 10, []int64{12, 13, 15}, false},
		{"same revision twice", 10, []int64{11, 12, 12, 13}, 3, 11, 12, []int64{13}, true},
		{"after newest", 10, []int64{11}, 3, 10, 20, []int64{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindow(tc.size)
			w.reset(tc.start)
			for _, r := range tc.revs {
				w.add(&change{rev: r})
			}
			if w.start != tc.wantStart {
				t.Errorf("start = %d, want %d", w.start, tc.wantStart)
			}
			if got := w.covers(tc.since); got != tc.wantCovers {
				t.Errorf("covers(%d) = %v, want %v", tc.since, got, tc.wantCovers)
			}
			got := w.since(tc.since)
			if len(got) != len(tc.wantSince) {
				t.Fatalf("since(%d) has %d changes, want %v", tc.since, len(got), tc.wantSince)
			}
			for i, ch := range got {
				if ch.rev != tc.wantSince[i] {
					t.Errorf("since(%d)[%d] = %d, want %d", tc.since, i, ch.rev, tc.wantSince[i])
				}
			}
		})
	}
}

func TestEntryMemo(t *testing.T) {
	e := &Entry{Key: "k"}
	calls := 0
	f := func() ([]byte, error) { calls++; return []byte("v"), nil }
	for range 3 {
		if b, err := e.Memo("json", f); err != nil || string(b) != "v" {
			t.Fatalf("Memo = %q, %v", b, err)
		}
	}
	if calls != 1 {
		t.Errorf("computed %d times, want once", calls)
	}
	boom := errors.New("boom")
	if _, err := e.Memo("yaml", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("Memo error = %v, want boom", err)
	}
}
