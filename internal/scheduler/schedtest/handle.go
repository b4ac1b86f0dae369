package schedtest

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"

	"github.com/navarch/navarch/internal/scheduler/cache"
	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Handle is a framework.Handle over a fixed snapshot and a fake
// clientset, for plugin unit tests.
type Handle struct {
	Snapshot  *cache.Snapshot
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Nominated map[string][]*framework.PodInfo
	// Filters, when set, are what RunFilterPluginsWithNominatedPods runs.
	Filters []framework.FilterPlugin
	// PreFilters get AddPod/RemovePod.
	PreFilters []framework.PreFilterPlugin
}

var _ framework.Handle = (*Handle)(nil)

// NewHandle builds a handle whose snapshot holds pods and nodes; objs seed
// the fake clientset (Services, ReplicaSets, Namespaces...).
func NewHandle(pods []*corev1.Pod, nodes []*corev1.Node, objs ...runtime.Object) *Handle {
	c := fake.NewClientset(objs...)
	return &Handle{Snapshot: cache.NewSnapshot(pods, nodes), Client: c, Informers: informers.NewSharedInformerFactory(c, 0)}
}

func (h *Handle) SnapshotSharedLister() framework.SharedLister           { return h.Snapshot }
func (h *Handle) ClientSet() kubernetes.Interface                        { return h.Client }
func (h *Handle) SharedInformerFactory() informers.SharedInformerFactory { return h.Informers }
func (h *Handle) EventRecorder() events.EventRecorder                    { return events.NewFakeRecorder(100) }
func (h *Handle) Parallelizer() framework.Parallelizer                   { return framework.NewParallelizer(1) }
func (h *Handle) ProfileName() string                                    { return "default-scheduler" }

// NominatedPodsForNode implements framework.PodNominator.
func (h *Handle) NominatedPodsForNode(node string) []*framework.PodInfo { return h.Nominated[node] }

// HasNominatedPods implements framework.PodNominator.
func (h *Handle) HasNominatedPods() bool { return len(h.Nominated) > 0 }

// RunFilterPluginsWithNominatedPods runs h.Filters.
func (h *Handle) RunFilterPluginsWithNominatedPods(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, info *framework.NodeInfo) *framework.Status {
	for _, f := range h.Filters {
		if state.SkipFilterPlugins.Has(f.Name()) {
			continue
		}
		if s := f.Filter(ctx, state, pod, info); !s.IsSuccess() {
			return s.WithPlugin(f.Name())
		}
	}
	return nil
}

// RunPreFilterExtensionAddPod runs h.PreFilters' AddPod.
func (h *Handle) RunPreFilterExtensionAddPod(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, add *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	for _, p := range h.PreFilters {
		if e := p.PreFilterExtensions(); e != nil && !state.SkipFilterPlugins.Has(p.Name()) {
			if s := e.AddPod(ctx, state, pod, add, ni); !s.IsSuccess() {
				return s
			}
		}
	}
	return nil
}

// RunPreFilterExtensionRemovePod runs h.PreFilters' RemovePod.
func (h *Handle) RunPreFilterExtensionRemovePod(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, rm *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	for _, p := range h.PreFilters {
		if e := p.PreFilterExtensions(); e != nil && !state.SkipFilterPlugins.Has(p.Name()) {
			if s := e.RemovePod(ctx, state, pod, rm, ni); !s.IsSuccess() {
				return s
			}
		}
	}
	return nil
}
