package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cni"
	"github.com/navarch/navarch/internal/agent/containerd"
	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/images"
	"github.com/navarch/navarch/internal/agent/join"
	"github.com/navarch/navarch/internal/agent/node"
	"github.com/navarch/navarch/internal/agent/pods"
	"github.com/navarch/navarch/internal/agent/server"
	"github.com/navarch/navarch/internal/agent/streaming"
	"github.com/navarch/navarch/internal/proxy"
)

// Options configure the node agent.
type Options struct {
	// NodeName is the Node's name (default: the host name).
	NodeName string
	// DataDir holds containerd's state, the CNI configuration, pod
	// volumes and container logs.
	DataDir string
	// RestConfig reaches the API server with the node's client
	// certificate; Credentials hold that identity, the serving
	// certificate and the cluster CA.
	RestConfig  *rest.Config
	Credentials *join.Credentials
	// ContainerRuntimeEndpoint is an existing CRI socket; empty starts a
	// private containerd (ContainerdBinary, default from PATH).
	ContainerRuntimeEndpoint string
	ContainerdBinary         string
	// PodCIDR overrides the node's spec.podCIDR (otherwise the agent
	// waits for the node IPAM controller to set it).
	PodCIDR string
	// NodeIP is the InternalIP (default: the default route's address).
	NodeIP net.IP
	// KubeletAddress and KubeletPort are where the HTTPS server listens
	// (port 0: kernel-chosen; the port is published in the Node status).
	KubeletAddress string
	KubeletPort    int
	// KubeletPortFallback takes a kernel-chosen port when KubeletPort is
	// in use, instead of failing (several agents on one machine).
	KubeletPortFallback bool
	// MaxPods is the pods capacity (110).
	MaxPods int
	// RegistryMirrors maps registry hosts to endpoints ("http://..." for
	// plain HTTP), written into containerd's configuration.
	RegistryMirrors map[string]string
	// SandboxImage replaces the built-in pause image; it must be present.
	SandboxImage string
	// CNIBinDir is where the CNI plugins are (/usr/lib/cni).
	CNIBinDir string
	// ClusterDNS and ClusterDomain configure pods' DNS (dnsPolicy
	// ClusterFirst); without ClusterDNS pods use the node's resolv.conf.
	ClusterDNS    []string
	ClusterDomain string
	// ClusterCIDR is the whole cluster's pod network, for the service
	// proxy and egress masquerading (default 10.244.0.0/16).
	ClusterCIDR string
	// Labels are added to the Node at registration.
	Labels map[string]string
	// CgroupRoot is the cgroupfs parent of pod cgroups (/kubepods).
	CgroupRoot string
	// StopPodsOnExit stops and removes every pod's containers when the
	// agent stops (the node goes down with it), instead of leaving them
	// running for the next agent to adopt. `navarch server` sets it for
	// its own node: the whole cluster stops with that process.
	StopPodsOnExit bool
	// Ready, when set, is closed once the agent serves and its node is
	// registered (for tests and the in-process agent).
	Ready  chan<- struct{}
	Logger *slog.Logger
}

// Agent is a running node agent, for callers that need its parts (tests,
// benchmarks); Run is the usual entry point.
type Agent struct {
	opts       Options
	log        *slog.Logger
	supervisor *containerd.Supervisor
	runtime    *cri.Client
	client     kubernetes.Interface
	recorder   record.EventRecorder
	broadcast  record.EventBroadcaster
	node       *node.Node
	pods       *pods.Manager
	server     *server.Server
	netReady   atomic.Bool
	version    *runtimeapi.VersionResponse
	cniConfig  cni.Config
	network    *proxy.NodeNetwork
}

// Run runs the agent until ctx ends, then stops containerd (if it started
// it). Pods keep running in their shims, so a restarted agent adopts them.
func Run(ctx context.Context, o Options) error {
	a, err := start(ctx, o)
	if err != nil {
		return err
	}
	a.run(ctx)
	return nil
}

func (o *Options) defaults() error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.NodeName == "" {
		h, err := node.Hostname()
		if err != nil {
			return err
		}
		o.NodeName = h
	}
	if o.DataDir == "" {
		return errors.New("agent: a data dir is required")
	}
	if o.RestConfig == nil || o.Credentials == nil {
		return errors.New("agent: node credentials are required")
	}
	if o.NodeIP == nil {
		o.NodeIP = node.DefaultNodeIP()
	}
	if o.MaxPods == 0 {
		o.MaxPods = 110
	}
	if o.CNIBinDir == "" {
		o.CNIBinDir = cni.DefaultBinDir
	}
	if o.ClusterDomain == "" {
		o.ClusterDomain = "cluster.local"
	}
	if o.CgroupRoot == "" {
		o.CgroupRoot = "/kubepods"
	}
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	o.DataDir = abs
	return os.MkdirAll(o.DataDir, 0o700)
}

func start(ctx context.Context, o Options) (_ *Agent, err error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	a := &Agent{opts: o, log: o.Logger.With("component", "agent", "node", o.NodeName)}
	defer func() {
		if err != nil {
			a.stop()
		}
	}()
	if err := cni.CheckPlugins(o.CNIBinDir); err != nil {
		return nil, err
	}
	if err := a.startRuntime(ctx); err != nil {
		return nil, err
	}
	if err := a.connectAPI(); err != nil {
		return nil, err
	}
	a.recorder.Eventf(nodeRef(o.NodeName), corev1.EventTypeNormal, "Starting", "Starting kubelet.")
	if err := a.startNetwork(ctx); err != nil {
		return nil, err
	}
	o.ClusterDNS = a.network.ClusterDNS()
	capacity := node.Capacity(o.DataDir, o.MaxPods)
	a.pods = pods.New(pods.Config{
		Client: a.client, Runtime: a.runtime.Runtime, Images: a.runtime.Images, Recorder: a.recorder, Logger: a.log,
		NodeName: o.NodeName, NodeIP: o.NodeIP, DataDir: o.DataDir, CgroupRoot: o.CgroupRoot,
		ClusterDNS: o.ClusterDNS, ClusterDomain: o.ClusterDomain, Allocatable: capacity,
		NetworkReady: a.netReady.Load, RuntimeName: a.version.RuntimeName, ServiceEnv: a.network.ServiceEnv,
	})
	if err := a.startServer(); err != nil {
		return nil, err
	}
	a.node = node.New(node.Config{
		Client: a.client, Recorder: a.recorder, Logger: a.log, Name: o.NodeName, Hostname: hostname(o.NodeName), IP: o.NodeIP,
		DataDir: o.DataDir, MaxPods: o.MaxPods, Labels: o.Labels,
		RuntimeVersion: a.version.RuntimeName + "://" + a.version.RuntimeVersion,
		Readiness:      a.readiness, Images: a.nodeImages,
	})
	a.node.SetKubeletPort(a.server.Port())
	if err := a.node.Register(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

func hostname(fallback string) string {
	if h, err := node.Hostname(); err == nil {
		return h
	}
	return fallback
}

func nodeRef(name string) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: name, UID: types.UID(name)}
}

// startRuntime starts (or connects to) containerd and makes sure the
// sandbox image is there.
func (a *Agent) startRuntime(ctx context.Context) error {
	o := a.opts
	socket := o.ContainerRuntimeEndpoint
	sandbox := o.SandboxImage
	if sandbox == "" {
		sandbox = images.PauseRef
	}
	if socket == "" {
		sup, err := containerd.Start(ctx, containerd.Config{
			Binary: o.ContainerdBinary, Dir: filepath.Join(o.DataDir, "containerd"), SandboxImage: sandbox,
			CNIBinDir: o.CNIBinDir, CNIConfDir: a.cniConfDir(), Mirrors: o.RegistryMirrors,
		}, a.log.With("component", "containerd"))
		if err != nil {
			return err
		}
		a.supervisor = sup
		socket = sup.Socket()
	}
	rt, err := cri.Dial(socket)
	if err != nil {
		return err
	}
	a.runtime = rt
	if a.version, err = rt.WaitReady(ctx, 30*time.Second); err != nil {
		return err
	}
	if o.SandboxImage == "" {
		if err := images.EnsurePause(ctx, rt.Images, socket, o.DataDir); err != nil {
			return fmt.Errorf("sandbox image: %w", err)
		}
	}
	return nil
}

func (a *Agent) cniConfDir() string { return filepath.Join(a.opts.DataDir, "cni", "net.d") }

func (a *Agent) connectAPI() error {
	cfg := rest.CopyConfig(a.opts.RestConfig)
	cfg.QPS, cfg.Burst = 50, 100
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.UserAgent = "navarch-agent/" + node.Version()
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	a.client = client
	a.broadcast = record.NewBroadcaster()
	a.broadcast.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	a.recorder = a.broadcast.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: a.opts.NodeName})
	return nil
}

func (a *Agent) startServer() error {
	o := a.opts
	cfg := server.Config{
		Address: o.KubeletAddress, Port: o.KubeletPort, Certificate: o.Credentials.Serving, ClientCAs: o.Credentials.ClientCAs(),
		Handler: streaming.NewHandler(streaming.Config{Runtime: a.runtime.Runtime, Pods: a.pods, Logger: a.log.With("component", "streaming")}),
		Healthy: a.healthy, Logger: a.log,
	}
	srv, err := server.Start(cfg)
	if err != nil && o.KubeletPortFallback && errors.Is(err, syscall.EADDRINUSE) {
		a.log.Warn("kubelet port in use; taking another", "port", o.KubeletPort)
		cfg.Port = 0
		srv, err = server.Start(cfg)
	}
	if err != nil {
		return err
	}
	a.server = srv
	return nil
}

func (a *Agent) healthy() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := a.runtime.Runtime.Version(ctx, &runtimeapi.VersionRequest{})
	return err
}

// run drives the agent until ctx ends.
func (a *Agent) run(ctx context.Context) {
	defer a.stop()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		a.node.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		a.setupNetwork(ctx)
	}()
	go func() {
		defer wg.Done()
		if err := a.pods.Run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("pod manager stopped", "err", err)
		}
	}()
	if a.opts.Ready != nil {
		close(a.opts.Ready)
	}
	a.log.Info("node agent running", "kubeletPort", a.server.Port(), "nodeIP", a.opts.NodeIP.String())
	// Once start-up is over, give back the binary's pages that only
	// package initialization (of the whole single binary) touched.
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(startupPages):
			releaseBinaryPages()
		}
	}()
	a.watchRuntime(ctx)
	wg.Wait()
	a.network.Wait()
	if a.opts.StopPodsOnExit {
		a.stopAllPods()
	}
}

// exitGrace is how long containers get to stop when the agent takes its
// pods down with it: none, since the server that stops must be gone
// within seconds (its own shutdown takes most of them).
const exitGrace = 0

// stopAllPods stops and removes every sandbox navarch made (their
// containers go with them), releasing their networks and mounts.
func (a *Agent) stopAllPods() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt := a.runtime.Runtime
	cs, err := rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	for _, c := range cs.Containers {
		if c.Labels[cri.LabelManagedBy] == cri.ManagedByValue && c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.Id, Timeout: exitGrace})
			}()
		}
	}
	wg.Wait()
	sbs, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return
	}
	for _, sb := range sbs.Items {
		if sb.Labels[cri.LabelManagedBy] == cri.ManagedByValue {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id})
				_, _ = rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id})
			}()
		}
	}
	wg.Wait()
	// Nothing is attached to the pod bridge any more; the bridge plugin
	// never deletes it.
	if a.cniConfig.Bridge != "" {
		_ = exec.CommandContext(ctx, "ip", "link", "delete", a.cniConfig.Bridge).Run()
	}
	a.log.Info("stopped the node's pods", "sandboxes", len(sbs.Items))
}

// watchRuntime reconciles every pod when containerd came back from a crash.
func (a *Agent) watchRuntime(ctx context.Context) {
	var restarted <-chan struct{}
	if a.supervisor != nil {
		restarted = a.supervisor.Restarted()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-restarted:
			a.log.Info("container runtime restarted; reconciling pods")
			a.pods.Resync()
			a.node.Trigger()
		}
	}
}

// setupNetwork waits for the pod CIDR, writes the CNI configuration and
// marks the network ready once containerd has loaded it.
func (a *Agent) setupNetwork(ctx context.Context) {
	cidr := a.opts.PodCIDR
	if cidr == "" {
		var err error
		if cidr, err = a.node.WaitPodCIDR(ctx); err != nil {
			return
		}
	}
	a.cniConfig = cni.Config{PodCIDR: cidr, Bridge: cni.BridgeName(a.opts.DataDir), BinDir: a.opts.CNIBinDir,
		ConfDir: a.cniConfDir(), IPAMDir: filepath.Join(a.opts.DataDir, "cni", "ipam")}
	if err := a.cniConfig.Write(); err != nil {
		a.log.Error("write CNI configuration", "err", err)
		return
	}
	a.log.Info("pod network configured", "podCIDR", cidr, "bridge", a.cniConfig.Bridge)
	if clash := cni.Clashes(cidr, a.cniConfig.Bridge); len(clash) > 0 {
		msg := fmt.Sprintf("pod CIDR %s overlaps the addresses of %v on this machine: pods may be unreachable from the host", cidr, clash)
		a.log.Warn(msg)
		a.recorder.Event(nodeRef(a.opts.NodeName), corev1.EventTypeWarning, "PodCIDRConflict", msg)
	}
	a.network.SetPodCIDR(cidr)
	for ctx.Err() == nil {
		if ok, _ := a.runtimeNetworkReady(ctx); ok {
			a.netReady.Store(true)
			a.node.Trigger()
			a.pods.Resync()
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runtimeNetworkReady asks the runtime whether it loaded the network.
func (a *Agent) runtimeNetworkReady(ctx context.Context) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := a.runtime.Runtime.Status(ctx, &runtimeapi.StatusRequest{})
	if err != nil {
		return false, "container runtime is down: " + err.Error()
	}
	for _, c := range st.GetStatus().GetConditions() {
		if !c.Status {
			return false, fmt.Sprintf("container runtime network not ready: %s=%v reason:%s message:%s", c.Type, c.Status, c.Reason, c.Message)
		}
	}
	return true, ""
}

// readiness is the node's Ready condition: runtime up, network set up.
func (a *Agent) readiness() node.Readiness {
	if !a.netReady.Load() {
		if a.cniConfig.PodCIDR == "" {
			return node.Readiness{Message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized (waiting for the node's pod CIDR)"}
		}
		return node.Readiness{Message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"}
	}
	if ok, msg := a.runtimeNetworkReady(context.Background()); !ok {
		return node.Readiness{Message: msg}
	}
	return node.Readiness{Ready: true}
}

// startupPages is when start-up is taken to be over, for
// releaseBinaryPages.
const startupPages = 10 * time.Second

// maxNodeImages is how many images the node reports, as the kubelet.
const maxNodeImages = 50

func (a *Agent) nodeImages(ctx context.Context) []corev1.ContainerImage {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := a.runtime.Images.ListImages(ctx, &runtimeapi.ListImagesRequest{})
	if err != nil {
		return nil
	}
	var out []corev1.ContainerImage
	for _, img := range resp.Images {
		names := append(append([]string(nil), img.RepoDigests...), img.RepoTags...)
		if len(names) == 0 {
			continue
		}
		out = append(out, corev1.ContainerImage{Names: names, SizeBytes: int64(img.Size)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SizeBytes > out[j].SizeBytes })
	if len(out) > maxNodeImages {
		out = out[:maxNodeImages]
	}
	return out
}

// stop releases what start acquired. containerd goes last.
func (a *Agent) stop() {
	if a.server != nil {
		a.server.Stop()
	}
	if a.broadcast != nil {
		a.broadcast.Shutdown()
	}
	if a.runtime != nil {
		_ = a.runtime.Close()
	}
	if a.supervisor != nil {
		a.supervisor.Stop()
	}
}
