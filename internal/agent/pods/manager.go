package pods

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/images"
	"github.com/navarch/navarch/internal/agent/probes"
	"github.com/navarch/navarch/internal/agent/volumes"
)

// Config configures the pod manager.
type Config struct {
	Client   kubernetes.Interface
	Runtime  runtimeapi.RuntimeServiceClient
	Images   runtimeapi.ImageServiceClient
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// NodeName is this node; only pods bound to it are run.
	NodeName string
	// NodeIP is the pods' hostIP.
	NodeIP net.IP
	// DataDir holds pod directories (volumes) and container logs.
	DataDir string
	// CgroupRoot is the cgroupfs parent of pod cgroups ("/kubepods").
	CgroupRoot string
	// ClusterDNS and ClusterDomain configure dnsPolicy ClusterFirst.
	ClusterDNS    []string
	ClusterDomain string
	// Allocatable is the node's, for resourceFieldRef defaults and QoS.
	Allocatable corev1.ResourceList
	// NetworkReady says whether pod networking is configured; pods that
	// need it wait until it is.
	NetworkReady func() bool
	// RuntimeName prefixes container IDs in status ("containerd").
	RuntimeName string
	// RelistInterval is how often the runtime is listed to notice
	// containers that changed state (1 s, as the kubelet's PLEG).
	RelistInterval time.Duration
	// StartConcurrency is how many pods may be creating their sandbox or
	// containers at once, oldest first (default: twice the CPUs).
	StartConcurrency int
	// ServiceEnv returns the Service environment variables of a pod's
	// containers (nil: none).
	ServiceEnv func(namespace string, enableServiceLinks bool) []corev1.EnvVar
}

// Manager runs a worker per pod bound to the node.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	puller  *images.Puller
	volumes *volumes.Manager
	probes  *probes.Manager

	factory      informers.SharedInformerFactory
	otherFactory informers.SharedInformerFactory
	podLister    corelisters.PodLister
	podsSynced   cache.InformerSynced
	cms          corelisters.ConfigMapLister
	secrets      corelisters.SecretLister
	synced       []cache.InformerSynced

	mu       sync.Mutex
	workers  map[types.UID]*worker
	statuses *statusCache
	prints   map[string]string
	cleaning map[string]bool
	relist   chan struct{}
	ctx      context.Context
	gate     *startGate
}

// New builds the manager; Run starts it.
func New(cfg Config) *Manager {
	if cfg.RelistInterval == 0 {
		cfg.RelistInterval = time.Second
	}
	if cfg.StartConcurrency <= 0 {
		// Pod starts wait on disk and process creation as well as CPU:
		// twice the cores keeps them busy (measured with bench pods).
		cfg.StartConcurrency = 2 * runtime.NumCPU()
	}
	if cfg.CgroupRoot == "" {
		cfg.CgroupRoot = "/kubepods"
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	if cfg.RuntimeName == "" {
		cfg.RuntimeName = "containerd"
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, workers: map[types.UID]*worker{}, statuses: newStatusCache(),
		prints: map[string]string{}, cleaning: map[string]bool{}, relist: make(chan struct{}, 1),
		gate: newStartGate(cfg.StartConcurrency)}
	m.puller = images.NewPuller(cfg.Images, cfg.Logger)
	m.probes = probes.NewManager(probes.NewRunner(cfg.Runtime))
	m.probes.OnChange = m.wake
	m.probes.OnFailure = m.probeFailed
	m.setupInformers()
	m.volumes = &volumes.Manager{Root: m.podsDir(), Get: getter{m}, Allocatable: cfg.Allocatable}
	return m
}

// stripManagedFields keeps the informer caches small: the agent never
// reads managedFields, and they are often the largest part of an object.
func stripManagedFields(obj any) (any, error) {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		a.GetObjectMeta().SetManagedFields(nil)
	}
	return obj, nil
}

func (m *Manager) setupInformers() {
	client := m.cfg.Client
	onNode := informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", m.cfg.NodeName).String()
	})
	pf := informers.NewSharedInformerFactoryWithOptions(client, 0, onNode, informers.WithTransform(stripManagedFields))
	pods := pf.Core().V1().Pods()
	m.podLister, m.podsSynced = pods.Lister(), pods.Informer().HasSynced
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { m.podChanged(obj) },
		UpdateFunc: func(_, obj any) { m.podChanged(obj) },
		DeleteFunc: m.podDeleted,
	})
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(stripManagedFields))
	cms, secrets := f.Core().V1().ConfigMaps(), f.Core().V1().Secrets()
	m.cms, m.secrets = cms.Lister(), secrets.Lister()
	refresh := cache.ResourceEventHandlerFuncs{
		AddFunc:    m.objectChanged,
		UpdateFunc: func(_, obj any) { m.objectChanged(obj) },
		DeleteFunc: m.objectChanged,
	}
	_, _ = cms.Informer().AddEventHandler(refresh)
	_, _ = secrets.Informer().AddEventHandler(refresh)
	m.synced = []cache.InformerSynced{m.podsSynced, cms.Informer().HasSynced, secrets.Informer().HasSynced}
	m.factory = pf
	m.otherFactory = f
}

// Run runs the manager until ctx ends. Running containers are left alone
// when it returns: a restarted agent adopts them.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	m.factory.Start(ctx.Done())
	m.otherFactory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), m.synced...) {
		return ctx.Err()
	}
	m.log.Info("pod manager started")
	// Workers exist for every pod already; now that the caches are
	// complete, anything else in the runtime is an orphan.
	m.relistLoop(ctx)
	m.probes.Stop()
	m.factory.Shutdown()
	m.otherFactory.Shutdown()
	m.stopWorkers()
	return nil
}

func (m *Manager) podsDir() string { return m.cfg.DataDir + "/pods" }
func (m *Manager) logsDir() string { return m.cfg.DataDir + "/logs" }

// Resync wakes every worker and relists at once (containerd came back).
func (m *Manager) Resync() {
	m.mu.Lock()
	for _, w := range m.workers {
		w.poke()
	}
	m.mu.Unlock()
	m.relistSoon()
}

func (m *Manager) relistSoon() {
	select {
	case m.relist <- struct{}{}:
	default:
	}
}

func (m *Manager) podChanged(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[pod.UID]
	if w == nil {
		if m.ctx == nil {
			return
		}
		w = newWorker(m, pod.UID)
		m.workers[pod.UID] = w
		go w.run(m.ctx)
	}
	w.update(pod, false)
}

func (m *Manager) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.workers[pod.UID]; w != nil {
		w.update(pod, true)
	}
}

// objectChanged wakes the workers of pods in the object's namespace that
// use it, so that volumes and env follow configMaps and secrets.
func (m *Manager) objectChanged(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	acc, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	_, isSecret := obj.(*corev1.Secret)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workers {
		if pod := w.current(); pod != nil && pod.Namespace == acc.GetNamespace() && references(pod, acc.GetName(), isSecret) {
			w.poke()
		}
	}
}

func (m *Manager) wake(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.workers[uid]; w != nil {
		w.poke()
	}
}

func (m *Manager) workerDone(uid types.UID, w *worker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.workers[uid] == w {
		delete(m.workers, uid)
	}
}

func (m *Manager) stopWorkers() {
	m.mu.Lock()
	ws := make([]*worker, 0, len(m.workers))
	for _, w := range m.workers {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	for _, w := range ws {
		<-w.done
	}
}

func (m *Manager) hasWorker(uid types.UID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.workers[uid]
	return ok
}

// podState lists the runtime's sandboxes and containers of one pod, with
// the status of each container.
func (m *Manager) podState(ctx context.Context, uid types.UID) (*cri.PodState, error) {
	filter := map[string]string{cri.LabelPodUID: string(uid)}
	sbs, err := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: filter}})
	if err != nil {
		return nil, fmt.Errorf("list pod sandboxes: %w", err)
	}
	cs, err := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: filter}})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	st := cri.Group(sbs.Items, cs.Containers)[string(uid)]
	if st == nil {
		st = &cri.PodState{}
	}
	return st, nil
}

// containerStatus returns CRI's status of a container, cached while its
// state stays the same (an exited container never changes again).
func (m *Manager) containerStatus(ctx context.Context, c *runtimeapi.Container) (*runtimeapi.ContainerStatus, error) {
	if st := m.statuses.get(c.Id, c.State); st != nil {
		return st, nil
	}
	resp, err := m.cfg.Runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: c.Id})
	if err != nil {
		return nil, err
	}
	st := resp.Status
	// containerd can learn of an OOM kill after the exit it caused (its
	// OOM and exit events race): it then says "Error", or nothing yet,
	// and only later "OOMKilled". A fresh SIGKILL exit gets up to two
	// seconds for that reason to arrive, and is not cached for good until
	// it is too old to change.
	for wait := 0; wait < 8 && maybeOOMKilled(st, time.Now()); wait++ {
		select {
		case <-ctx.Done():
			return st, nil
		case <-time.After(250 * time.Millisecond):
		}
		if r, err := m.cfg.Runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: c.Id}); err == nil {
			st = r.Status
		}
	}
	if st.State == c.State && !maybeOOMKilled(st, time.Now()) {
		m.statuses.put(c.Id, st)
	}
	return st, nil
}

// oomWindow is how long after a SIGKILL exit containerd may still turn its
// reason into OOMKilled.
const oomWindow = 3 * time.Second

// maybeOOMKilled tells a SIGKILL exit in the last oomWindow whose reason
// may still become OOMKilled.
func maybeOOMKilled(s *runtimeapi.ContainerStatus, now time.Time) bool {
	return s.State == runtimeapi.ContainerState_CONTAINER_EXITED && s.ExitCode == 137 &&
		(s.Reason == "" || s.Reason == "Error") && now.Sub(time.Unix(0, s.FinishedAt)) < oomWindow
}

// statusCache holds container statuses by ID.
type statusCache struct {
	mu sync.Mutex
	m  map[string]*runtimeapi.ContainerStatus
}

func newStatusCache() *statusCache { return &statusCache{m: map[string]*runtimeapi.ContainerStatus{}} }

func (s *statusCache) get(id string, state runtimeapi.ContainerState) *runtimeapi.ContainerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.m[id]; st != nil && st.State == state {
		return st
	}
	return nil
}

func (s *statusCache) put(id string, st *runtimeapi.ContainerStatus) {
	s.mu.Lock()
	s.m[id] = st
	s.mu.Unlock()
}

func (s *statusCache) forget(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}
