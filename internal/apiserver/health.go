package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// HealthCheck is one named probe of /healthz, /livez and /readyz.
type HealthCheck struct {
	Name string
	// Check returns nil when healthy. It must return promptly.
	Check func(ctx context.Context) error
	// ReadyOnly limits the check to /readyz (e.g. informer sync).
	ReadyOnly bool
}

const healthTimeout = 2 * time.Second

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	s.runChecks(w, r, false)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.runChecks(w, r, true)
}

// runChecks answers like upstream: "ok", or with ?verbose one line per
// check; a failing check makes the answer 500 and names itself.
func (s *Server) runChecks(w http.ResponseWriter, r *http.Request, ready bool) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	checks := append([]HealthCheck{{Name: "ping", Check: func(context.Context) error { return nil }}}, s.cfg.HealthChecks...)
	if ready {
		checks = append(checks, HealthCheck{Name: "informer-sync", Check: func(context.Context) error {
			if !s.ready.Load() {
				return fmt.Errorf("caches not synced")
			}
			return nil
		}})
	}
	var b strings.Builder
	failed := false
	for _, c := range checks {
		if c.ReadyOnly && !ready {
			continue
		}
		if err := c.Check(ctx); err != nil {
			failed = true
			fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.Name)
			loggerFrom(r.Context()).Debug("health check failed", "check", c.Name, "err", err)
			continue
		}
		fmt.Fprintf(&b, "[+]%s ok\n", c.Name)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	name := strings.TrimPrefix(r.URL.Path, "/")
	if failed {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(&b, "%s check failed\n", name)
		_, _ = w.Write([]byte(b.String()))
		return
	}
	if _, verbose := r.URL.Query()["verbose"]; verbose {
		fmt.Fprintf(&b, "%s check passed\n", name)
		_, _ = w.Write([]byte(b.String()))
		return
	}
	_, _ = w.Write([]byte("ok"))
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	b, _ := json.MarshalIndent(s.cfg.Version, "", "  ")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	gr := schema.GroupResource{Group: ri.group, Resource: ri.resource}
	writeError(w, r, apierrors.NewMethodNotSupported(gr, r.Method))
}
