package storage

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkCreate measures parallel creates of 1 KiB values against an
// embedded etcd: the ceiling on object writes per second.
func BenchmarkCreate(b *testing.B) {
	_, s := startEtcd(b, "")
	value := make([]byte, 1024)
	var n atomic.Int64
	b.SetParallelism(16) // many in-flight requests, as from many API clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			key := fmt.Sprintf("/bench/%d", n.Add(1))
			if _, err := s.Create(ctx, key, value); err != nil {
				b.Errorf("Create(%s): %v", key, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}
