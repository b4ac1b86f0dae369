package server

import (
	"context"

	"github.com/navarch/navarch/internal/scheduler"
	"github.com/navarch/navarch/internal/scheduler/config"
)

// startScheduler runs the scheduler in the background unless disabled. A
// bad profiles file fails start-up, so the mistake is seen at once.
func (s *Server) startScheduler(ctx context.Context) error {
	if s.opts.DisableScheduler {
		return nil
	}
	conf, err := config.Load(s.opts.SchedulerConfig)
	if err != nil {
		return err
	}
	cfg, err := s.inProcessConfig("scheduler")
	if err != nil {
		return err
	}
	// Binding is the scheduler's hot path: client-side throttling would
	// cap throughput below what the API serves.
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	id, err := s.identity()
	if err != nil {
		return err
	}
	s.runComponent(ctx, "scheduler", func(ctx context.Context) error {
		return scheduler.Run(ctx, scheduler.Config{RestConfig: cfg, Configuration: conf,
			LeaderElect: s.opts.LeaderElect, Identity: id, Logger: s.log.With("component", "scheduler")})
	})
	return nil
}
