package storage

import (
	"context"
	"log/slog"
	"time"
)

// RunCompactor compacts s every interval until ctx ends. Each tick compacts
// to the revision observed one tick earlier, so at least one interval of
// history always survives for watchers that are catching up.
func RunCompactor(ctx context.Context, s Interface, interval time.Duration, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	prev := observe(ctx, s, logger)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		cur := observe(ctx, s, logger)
		if prev > 0 {
			compactTo(ctx, s, prev, logger)
		}
		prev = cur
	}
}

// observe returns the current revision, or 0 when it cannot be read; a zero
// makes the next tick skip compaction rather than guess.
func observe(ctx context.Context, s Interface, logger *slog.Logger) int64 {
	rev, err := s.CurrentRevision(ctx)
	if err != nil {
		if ctx.Err() == nil {
			logger.Warn("compactor: reading current revision failed", "err", err)
		}
		return 0
	}
	return rev
}

func compactTo(ctx context.Context, s Interface, rev int64, logger *slog.Logger) {
	start := time.Now()
	if err := s.Compact(ctx, rev); err != nil {
		if ctx.Err() == nil {
			logger.Warn("compactor: compaction failed", "revision", rev, "err", err)
		}
		return
	}
	logger.Debug("compactor: compacted", "revision", rev, "took", time.Since(start))
}
