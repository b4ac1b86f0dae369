package server

import "net/http"

// routes is the HTTPS handler behind authentication: the Kubernetes API,
// plus navarch's own endpoints for joining nodes.
func (s *Server) routes() http.Handler {
	return s.api.Handler()
}
