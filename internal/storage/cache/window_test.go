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

func TestIndex(t *testing.T) {
	tests := []struct {
		name   string
		ops    []string // "+key" puts, "-key" removes
		prefix string
		want   []string
	}{
		{"empty", nil, "/a/", []string{}},
		{"insert out of order", []string{"+/a/c", "+/a/a", "+/b/x", "+/a/b"}, "/a/", []string{"/a/a", "/a/b", "/a/c"}},
		{"prefix is not a namespace of longer names", []string{"+/a/x", "+/ab/y", "+/a0"}, "/a/", []string{"/a/x"}},
		{"update keeps one copy", []string{"+/a/a", "+/a/a", "+/a/b"}, "/a/", []string{"/a/a", "/a/b"}},
		{"remove", []string{"+/a/a", "+/a/b", "+/a/c", "-/a/b", "-/a/zz"}, "/a/", []string{"/a/a", "/a/c"}},
		{"all", []string{"+/b", "+/a"}, "", []string{"/a", "/b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix := newIndex(map[string]*Entry{"/z/seed": {Key: "/z/seed"}})
			for _, op := range tc.ops {
				if op[0] == '+' {
					ix.put(&Entry{Key: op[1:]})
				} else {
					ix.remove(op[1:])
				}
			}
			got := keys(ix.withPrefix(tc.prefix))
			if tc.prefix == "" {
				got = got[:len(got)-1] // drop the seed
			}
			if !equal(got, tc.want) {
				t.Errorf("withPrefix(%q) = %v, want %v", tc.prefix, got, tc.want)
			}
			if len(ix.byKey) != ix.len() {
				t.Errorf("map has %d keys, order %d", len(ix.byKey), ix.len())
			}
		})
	}
}
