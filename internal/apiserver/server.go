// Package apiserver is navarch's Kubernetes-compatible HTTP API: it routes
// requests to the resource stores, negotiates media types, streams watches,
// renders server-side tables and serves discovery, OpenAPI, health and
// metrics. It must not reach into etcd: every object goes through a store.
package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"github.com/navarch/navarch/internal/registry/store"
)

// Config assembles a Server.
type Config struct {
	// Stores serves each group/version/resource.
	Stores map[schema.GroupVersionResource]store.Interface
	// Discovery serves /api, /apis and their children.
	Discovery http.Handler
	// OpenAPI serves /openapi/v2 and /openapi/v3.
	OpenAPI http.Handler
	// Version is what /version reports.
	Version version.Info
	// Logger is carried in every request context.
	Logger *slog.Logger
	// HealthChecks run for /healthz, /livez and /readyz.
	HealthChecks []HealthCheck
	// Profiling serves /debug/pprof (behind authentication), as upstream's
	// --profiling does.
	Profiling bool
	// MinWatchTimeout is the shortest server-chosen watch timeout; watches
	// last between it and twice it unless the client asks (default 30m).
	MinWatchTimeout time.Duration
	// Kubelet reaches node agents for pods/log, exec, attach and
	// portforward; without it those answer 503.
	Kubelet *KubeletClient
}

// Server handles the API.
type Server struct {
	cfg     Config
	codecs  *codecSet
	metrics *metrics
	ready   atomic.Bool
	mux     *http.ServeMux
}

// New builds a Server. It reports ready only after SetReady(true).
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MinWatchTimeout == 0 {
		cfg.MinWatchTimeout = 30 * time.Minute
	}
	s := &Server{cfg: cfg, codecs: newCodecs(), metrics: newMetrics()}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/healthz", s.health)
	s.mux.HandleFunc("/livez", s.health)
	s.mux.HandleFunc("/readyz", s.readyz)
	s.mux.HandleFunc("/version", s.version)
	s.mux.Handle("/metrics", s.metrics.handler())
	if cfg.Profiling {
		s.mux.HandleFunc("/debug/pprof/", pprof.Index)
		s.mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		s.mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		s.mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		s.mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	}
	if cfg.OpenAPI != nil {
		s.mux.Handle("/openapi/", cfg.OpenAPI)
	}
	s.mux.HandleFunc("/api", s.serveAPI)
	s.mux.HandleFunc("/api/", s.serveAPI)
	s.mux.HandleFunc("/apis", s.serveAPI)
	s.mux.HandleFunc("/apis/", s.serveAPI)
	s.mux.HandleFunc("/", notFoundPath)
	return s
}

// SetReady flips /readyz.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Handler returns the root handler (without authentication, which the
// caller wraps around it).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := withLogger(r.Context(), s.cfg.Logger)
		defer recoverPanic(w, r)
		s.mux.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	ri, ok := parseRequest(r)
	if !ok {
		if s.cfg.Discovery != nil && !strings.Contains(r.URL.Path, "/watch") {
			s.cfg.Discovery.ServeHTTP(w, r)
			return
		}
		notFoundPath(w, r)
		return
	}
	st, ok := s.cfg.Stores[schema.GroupVersionResource{Group: ri.group, Version: ri.version, Resource: ri.resource}]
	if !ok {
		notFoundPath(w, r)
		return
	}
	start := time.Now()
	rw := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	s.dispatch(rw, r, ri, st)
	if ri.verb != "watch" {
		s.metrics.observe(ri.verb, ri.resource, ri.sub, rw.code, time.Since(start))
	} else {
		s.metrics.observe(ri.verb, ri.resource, ri.sub, rw.code, 0)
	}
}

// dispatch routes a parsed request to the handler for its verb.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	res := st.Resource()
	if ri.namespace != "" && !res.Namespaced {
		notFoundPath(w, r)
		return
	}
	if ri.sub != "" {
		s.subresource(w, r, ri, st)
		return
	}
	switch ri.verb {
	case "get":
		s.get(w, r, ri, st)
	case "list":
		s.list(w, r, ri, st)
	case "watch":
		s.watch(w, r, ri, st)
	case "create":
		s.create(w, r, ri, st)
	case "update":
		s.update(w, r, ri, st, store.Main)
	case "patch":
		s.patch(w, r, ri, st, store.Main)
	case "delete":
		s.delete(w, r, ri, st)
	case "deletecollection":
		s.deleteCollection(w, r, ri, st)
	default:
		methodNotAllowed(w, r, ri)
	}
}

type loggerKey struct{}

func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// loggerFrom returns the request's logger.
func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush lets watches stream through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// recoverPanic turns a handler panic into a 500 Status, so that one bad
// request costs the client an error rather than the connection.
func recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil || v == http.ErrAbortHandler {
		if v != nil {
			panic(v)
		}
		return
	}
	loggerFrom(r.Context()).Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
	writeError(w, r, fmt.Errorf("internal error: %v", v))
}
