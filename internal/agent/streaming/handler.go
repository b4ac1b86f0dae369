package streaming

import (
	"log/slog"
	"net/http"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Pods resolves pods and containers to their CRI identifiers. The agent
// implements it from its own view of the pods it runs.
//
// Errors are shown to the kubectl user as they are, with 400 Bad Request,
// which is how the kubelet reports them; so they should read like the
// kubelet's (e.g. `previous terminated container "app" in pod "web" not
// found`, `container "app" in pod "web" is waiting to start:
// ContainerCreating`). An error wrapping ErrPodNotFound gives 404.
type Pods interface {
	// ContainerID: CRI container ID of container in pod namespace/name; previous=true asks for the last terminated instance.
	ContainerID(namespace, name, container string, previous bool) (string, error)
	// SandboxID: CRI pod sandbox ID of pod namespace/name.
	SandboxID(namespace, name string) (string, error)
}

// Config configures the streaming handler.
type Config struct {
	// Runtime is the CRI runtime service (containerd's).
	Runtime runtimeapi.RuntimeServiceClient // k8s.io/cri-api/pkg/apis/runtime/v1
	// Pods resolves pod and container names to CRI IDs.
	Pods Pods
	// Logger receives stream errors; slog.Default() when nil.
	Logger *slog.Logger
}

// NewHandler returns the handler of the kubelet streaming paths:
//
//	GET      /containerLogs/{namespace}/{pod}/{container}
//	GET/POST /exec/{namespace}/{pod}/{container}
//	GET/POST /attach/{namespace}/{pod}/{container}
//	GET/POST /portForward/{namespace}/{pod}
//
// The exec and attach paths also accept a pod UID before the container, as
// the kubelet does.
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &handler{cfg: cfg, log: cfg.Logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", h.logs)
	for _, p := range []string{"/exec/{namespace}/{pod}/{container}", "/exec/{namespace}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(p, h.exec)
	}
	for _, p := range []string{"/attach/{namespace}/{pod}/{container}", "/attach/{namespace}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(p, h.attach)
	}
	mux.HandleFunc("/portForward/{namespace}/{pod}", h.portForward)
	mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", h.portForward)
	return mux
}

type handler struct {
	cfg Config
	log *slog.Logger
}
