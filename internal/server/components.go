package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/manager"
	"github.com/navarch/navarch/internal/pki"
)

// writeComponentKubeconfig gives an in-process component its own client
// certificate, so that it reaches the API exactly as an external one would.
func (s *Server) writeComponentKubeconfig(ca *pki.CA, dir, name, user string) error {
	cert, key, err := ca.EnsureClient(dir, name, user, nil)
	if err != nil {
		return err
	}
	return pki.WriteKubeconfig(s.componentKubeconfig(name), s.URL, ca.CertPEM, cert, key)
}

func (s *Server) componentKubeconfig(name string) string {
	return filepath.Join(s.opts.DataDir, name+".kubeconfig")
}

// startComponents starts what runs beside the API in this process, each
// talking to it through client-go like any other client.
func (s *Server) startComponents(ctx context.Context) error {
	if err := s.startControllers(ctx); err != nil {
		return fmt.Errorf("controller manager: %w", err)
	}
	if err := s.startScheduler(ctx); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	if err := s.startAgent(ctx); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}

// startControllers runs the controller manager in the background.
func (s *Server) startControllers(ctx context.Context) error {
	if slices.Contains(s.opts.DisableControllers, "*") {
		return nil
	}
	cfg, err := s.inProcessConfig("controller-manager")
	if err != nil {
		return err
	}
	// In-process and on loopback: the API server, not a client-side limiter,
	// is what should push back (a 3,000-pod scale-up is ~10,000 writes).
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	opts := controller.DefaultOptions()
	opts.ClusterCIDR = s.opts.ClusterCIDR
	opts.LoadBalancerAddressPool = s.opts.LoadBalancerAddressPool
	if s.opts.NodeMonitorGracePeriod > 0 {
		opts.NodeMonitorGracePeriod = s.opts.NodeMonitorGracePeriod
	}
	id, err := s.identity()
	if err != nil {
		return err
	}
	s.runComponent(ctx, "controller-manager", func(ctx context.Context) error {
		return manager.Run(ctx, manager.Config{RestConfig: cfg, Options: opts, Disabled: s.opts.DisableControllers,
			LeaderElect: s.opts.LeaderElect, Identity: id, Logger: s.log.With("component", "controller-manager")})
	})
	return nil
}

// componentStopTimeout bounds how long Stop waits for components to wind
// down (release Leases, drain queues) before it closes the API anyway.
const componentStopTimeout = 5 * time.Second

// runComponent runs an in-process component until ctx ends; Stop waits for it.
func (s *Server) runComponent(ctx context.Context, name string, run func(context.Context) error) {
	s.components.Add(1)
	go func() {
		defer s.components.Done()
		if err := run(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("component stopped", "component", name, "err", err)
		}
	}()
}

func (s *Server) waitComponents(timeout time.Duration) {
	done := make(chan struct{})
	go func() {
		s.components.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		s.log.Warn("components did not stop in time", "timeout", timeout)
	}
}

// identity names this server in Leases. It is stable across restarts on
// the same data dir, so a restarted server takes its Leases back at once
// instead of waiting for them to expire, and distinct between servers.
func (s *Server) identity() (string, error) {
	path := filepath.Join(s.opts.DataDir, "server-id")
	b, err := os.ReadFile(path)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s_%s", host, uuid.NewUUID())
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", err
	}
	return id, nil
}
