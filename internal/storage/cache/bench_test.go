package cache

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/navarch/navarch/internal/storage"
)

// loadedCache returns a listed cache over n objects, half labelled app=x,
// without a running storage watch, so benchmarks can feed it directly.
func loadedCache(b *testing.B, n int, opts Options) *Cache {
	b.Helper()
	f := newFakeStore()
	for i := range n {
		k := fmt.Sprintf("/cm/ns/o%05d", i)
		l := ly
		if i%2 == 0 {
			l = lx
		}
		f.data[k] = storage.KeyValue{Key: k, Value: cm(k, l), ModRevision: 1}
	}
	c := New(f, "/cm/", decodeCM, opts)
	if err := c.relist(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkFanout1000 measures one event travelling from the storage watch
// to 1,000 watchers' result channels (ns/op is that latency).
func BenchmarkFanout1000(b *testing.B) {
	for _, mode := range []string{"all", "selector"} {
		b.Run(mode, func(b *testing.B) {
			c := loadedCache(b, 0, Options{})
			pred := Predicate{}
			if mode == "selector" {
				pred = sel(b, "app=x")
			}
			var wg sync.WaitGroup
			for range 1000 {
				w, err := c.Watch(context.Background(), "/cm/", pred, WatchOptions{})
				if err != nil {
					b.Fatal(err)
				}
				defer w.Stop()
				go func() {
					for range w.ResultChan() {
						wg.Done()
					}
				}()
			}
			value := cm("o", lx)
			rev := c.Revision()
			b.ResetTimer()
			for range b.N {
				rev++
				wg.Add(1000)
				c.apply(storage.Event{Type: storage.EventPut, Key: "/cm/ns/o", Value: value, Revision: rev})
				wg.Wait()
			}
		})
	}
}

// BenchmarkList5000 measures a List over 5,000 cached objects.
func BenchmarkList5000(b *testing.B) {
	c := loadedCache(b, 5000, Options{})
	for _, tc := range []struct {
		name string
		pred Predicate
		want int
	}{
		{"all", Predicate{}, 5000},
		{"label", sel(b, "app=x"), 2500},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				if got, _ := c.List("/cm/", tc.pred); len(got) != tc.want {
					b.Fatalf("List = %d entries, want %d", len(got), tc.want)
				}
			}
		})
	}
}
