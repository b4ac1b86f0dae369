package server

import "context"

// startScheduler runs the scheduler in the background unless disabled.
func (s *Server) startScheduler(ctx context.Context) error {
	if s.opts.DisableScheduler {
		return nil
	}
	return nil
}
