package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/apiserver"
	"github.com/navarch/navarch/internal/apiserver/discovery"
	"github.com/navarch/navarch/internal/apiserver/openapi"
	"github.com/navarch/navarch/internal/auth"
	"github.com/navarch/navarch/internal/pki"
	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/all"
	"github.com/navarch/navarch/internal/registry/core"
	"github.com/navarch/navarch/internal/registry/store"
	"github.com/navarch/navarch/internal/storage"
	"github.com/navarch/navarch/internal/version"
)

// publicPaths are served without credentials, as upstream allows.
var publicPaths = []string{"/healthz", "/livez", "/readyz", "/version", joinCAPath}

// Server is a running `navarch server`.
type Server struct {
	opts    Options
	log     *slog.Logger
	etcd    *storage.Embedded
	storage storage.Interface
	stores  map[schema.GroupVersionResource]store.Interface
	backing []*store.Store
	api     *apiserver.Server
	http    *http.Server
	// handler is the whole HTTP handler chain, also used in memory by
	// in-process components (see inProcessConfig). Only connections'
	// requests need withGrownStack: in-process ones run on reused
	// goroutines whose stacks have grown already.
	handler  http.Handler
	listener net.Listener
	authn    auth.Authenticator
	// consistentFromEtcd: see store.Config.ConsistentFromEtcd.
	consistentFromEtcd bool
	// Kubeconfig is the admin kubeconfig path; URL the API address.
	Kubeconfig string
	URL        string
	// JoinToken authenticates node agents.
	JoinToken string

	componentsCtx context.Context
	components    sync.WaitGroup
	apiCancel     context.CancelFunc
	stopOnce      sync.Once
}

// Start brings the server up and returns once it serves HTTPS. The server
// runs until ctx ends; Wait blocks until it has shut down.
func Start(ctx context.Context, opts Options, log *slog.Logger) (*Server, error) {
	start := time.Now()
	s := &Server{opts: opts, log: log}
	// The API (storage, caches, requests) lives in its own context, ended
	// by Stop only after the in-process components have stopped, so that
	// they can still release their Leases through it.
	apiCtx, apiCancel := context.WithCancel(context.WithoutCancel(ctx))
	s.apiCancel = apiCancel
	s.componentsCtx = ctx
	if err := s.start(apiCtx); err != nil {
		apiCancel()
		return nil, err
	}
	log.Info("navarch server ready", "url", s.URL, "kubeconfig", s.Kubeconfig, "startup", time.Since(start).Round(time.Millisecond))
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	opts := s.opts
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	tlsCfg, err := s.setupPKI()
	if err != nil {
		return err
	}
	if err := s.setupStorage(ctx); err != nil {
		return err
	}
	if err := s.setupAPI(); err != nil {
		s.closeStorage()
		return err
	}
	if err := s.serve(ctx, tlsCfg); err != nil {
		s.closeStorage()
		return err
	}
	s.runBackground(ctx)
	if err := s.finishStart(ctx); err != nil {
		// Stop releases etcd's data dir so that a retry can open it.
		s.Stop()
		return err
	}
	return nil
}

// finishStart waits for the watch caches, writes the bootstrap objects and
// starts the in-process components.
func (s *Server) finishStart(ctx context.Context) error {
	if err := s.waitCaches(ctx); err != nil {
		return err
	}
	if err := s.bootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	s.api.SetReady(true)
	return s.startComponents(s.componentsCtx)
}

func (s *Server) setupPKI() (*tls.Config, error) {
	dir := filepath.Join(s.opts.DataDir, "pki")
	ca, err := pki.EnsureCA(dir)
	if err != nil {
		return nil, err
	}
	cidr, err := s.opts.serviceCIDR()
	if err != nil {
		return nil, err
	}
	serving, err := ca.EnsureServing(dir, []string{core.FirstServiceIP(cidr).String()})
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := ca.EnsureClient(dir, "admin", "admin", []string{"system:masters"})
	if err != nil {
		return nil, err
	}
	if s.JoinToken, err = pki.EnsureToken(dir); err != nil {
		return nil, err
	}
	host := s.opts.BindAddress
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	s.URL = "https://" + net.JoinHostPort(host, strconv.Itoa(s.opts.Port))
	s.Kubeconfig = filepath.Join(s.opts.DataDir, "kubeconfig.yaml")
	if err := pki.WriteKubeconfig(s.Kubeconfig, s.URL, ca.CertPEM, certPEM, keyPEM); err != nil {
		return nil, err
	}
	for name, user := range map[string]string{"controller-manager": "system:kube-controller-manager", "scheduler": "system:kube-scheduler"} {
		if err := s.writeComponentKubeconfig(ca, dir, name, user); err != nil {
			return nil, err
		}
	}
	cfg := pki.ServerTLSConfig(serving, ca.Pool())
	s.authn = auth.Union(auth.NewClientCert(ca.Pool()), auth.NewToken(map[string]auth.User{
		s.JoinToken: {Name: "system:node-bootstrap", Groups: []string{"system:nodes", "system:authenticated"}},
	}))
	return cfg, nil
}

func (s *Server) setupStorage(ctx context.Context) error {
	if len(s.opts.EtcdServers) > 0 {
		cli, err := storage.Dial(ctx, storage.ClientConfig{Endpoints: s.opts.EtcdServers, CAFile: s.opts.EtcdCAFile,
			CertFile: s.opts.EtcdCertFile, KeyFile: s.opts.EtcdKeyFile, DialTimeout: 10 * time.Second, Logger: s.log})
		if err != nil {
			return fmt.Errorf("connect to etcd %v: %w", s.opts.EtcdServers, err)
		}
		etcd := storage.NewEtcd(cli)
		s.storage = etcd
		safe, err := etcd.ProgressNotifySafe(ctx)
		if err != nil {
			return fmt.Errorf("etcd status: %w", err)
		}
		if !safe {
			s.log.Warn("etcd is older than 3.4.24/3.5.8: consistent reads will bypass the watch cache")
		}
		s.consistentFromEtcd = !safe
		return nil
	}
	emb, err := storage.StartEmbedded(ctx, storage.EmbeddedConfig{DataDir: filepath.Join(s.opts.DataDir, "etcd"), Logger: s.log})
	if err != nil {
		return err
	}
	s.log.Debug("embedded etcd started", "took", emb.StartDuration)
	s.etcd = emb
	s.storage = emb.Storage()
	return nil
}

// setupAPI builds one store per stored resource, converting stores for
// versions kept as another version, and the HTTP API over them.
func (s *Server) setupAPI() error {
	cidr, err := s.opts.serviceCIDR()
	if err != nil {
		return err
	}
	lo, hi, err := s.opts.nodePorts()
	if err != nil {
		return err
	}
	resources := all.Resources(core.Options{ServiceCIDR: cidr, NodePortMin: lo, NodePortMax: hi})
	s.stores = map[schema.GroupVersionResource]store.Interface{}
	cfg := store.Config{Storage: s.storage, Namespaces: s.checkNamespace, Logger: s.log, ConsistentFromEtcd: s.consistentFromEtcd}
	byGVR := map[schema.GroupVersionResource]*store.Store{}
	for _, r := range resources {
		if r.Conversion == nil {
			st := store.New(r, cfg)
			byGVR[r.GVR()] = st
			s.backing = append(s.backing, st)
			s.stores[r.GVR()] = st
		}
	}
	for _, r := range resources {
		if r.Conversion != nil {
			backing, ok := byGVR[r.Conversion.Storage]
			if !ok {
				return fmt.Errorf("%s is stored as %s, which is not served", r.GVR(), r.Conversion.Storage)
			}
			s.stores[r.GVR()] = store.NewConverting(r, backing)
		}
	}
	s.api = apiserver.New(apiserver.Config{
		Stores: s.stores, Discovery: discovery.New(resources), OpenAPI: openapi.New(resources, version.Kubernetes),
		Version: version.Info(), Logger: s.log, Profiling: s.opts.Profiling,
		HealthChecks: []apiserver.HealthCheck{{Name: "etcd", Check: s.etcdHealthy}},
		Kubelet:      s.kubeletClient(),
	})
	return nil
}

func (s *Server) serve(ctx context.Context, tlsCfg *tls.Config) error {
	addr := net.JoinHostPort(s.opts.BindAddress, strconv.Itoa(s.opts.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.listener = ln
	s.handler = auth.Middleware(s.authn, publicPaths, s.routes())
	s.http = &http.Server{Handler: withGrownStack(s.handler), TLSConfig: tlsCfg, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		// Requests live in the server's context so that SIGTERM ends
		// long-running watches instead of waiting them out.
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := s.http.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("https server stopped", "err", err)
		}
	}()
	return nil
}

func (s *Server) runBackground(ctx context.Context) {
	for _, st := range s.backing {
		go func() {
			if err := st.Run(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("watch cache stopped", "resource", st.Resource().GVR(), "err", err)
			}
		}()
		if st.Resource().LastWritten != nil {
			go st.RunExpiry(ctx, s.opts.EventTTL)
		}
	}
	go storage.RunCompactor(ctx, s.storage, s.opts.CompactionInterval, s.log)
}

func (s *Server) waitCaches(ctx context.Context) error {
	for _, st := range s.backing {
		select {
		case <-st.Cache().Ready():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Stop waits for the in-process components (which end with the context
// given to Start) while the API still serves, then shuts the HTTP server
// down and closes etcd. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(s.stop)
}

func (s *Server) stop() {
	s.waitComponents(componentStopTimeout)
	s.apiCancel()
	s.api.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.http.Shutdown(shutdownCtx)
	s.closeStorage()
}

func (s *Server) closeStorage() {
	if s.storage != nil {
		_ = s.storage.Close()
	}
	if s.etcd != nil {
		_ = s.etcd.Close()
	}
}

// Resources lists what the server serves (for tests and tools).
func (s *Server) Resources() []*registry.Resource {
	out := make([]*registry.Resource, 0, len(s.stores))
	for _, st := range s.stores {
		out = append(out, st.Resource())
	}
	return out
}

// etcdHealthy reports whether etcd answers a cheap read.
func (s *Server) etcdHealthy(ctx context.Context) error {
	_, err := s.storage.CurrentRevision(ctx)
	return err
}
