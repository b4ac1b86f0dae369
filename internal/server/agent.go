package server

import "context"

// AgentOptions configure the node agent that `navarch server` runs for the
// local machine.
type AgentOptions struct{}

// startAgent runs the local node agent in the background unless disabled.
func (s *Server) startAgent(ctx context.Context) error {
	if s.opts.DisableAgent {
		return nil
	}
	return nil
}
