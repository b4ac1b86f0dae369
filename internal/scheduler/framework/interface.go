package framework

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
)

// Score bounds: every Score plugin's normalized scores lie in [0, 100].
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Plugin is implemented by every plugin.
type Plugin interface {
	Name() string
}

// QueueSortPlugin orders the scheduling queue.
type QueueSortPlugin interface {
	Plugin
	Less(a, b *QueuedPodInfo) bool
}

// PreFilterPlugin runs once per scheduling attempt before Filter. It may
// return Skip to have its Filter skipped for this pod, and a result that
// narrows the nodes to consider.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *corev1.Pod) (*PreFilterResult, *Status)
	// PreFilterExtensions may be nil.
	PreFilterExtensions() PreFilterExtensions
}

// PreFilterExtensions update a plugin's PreFilter state when the
// scheduler evaluates "what if this pod were (not) on the node", for
// nominated pods and preemption.
type PreFilterExtensions interface {
	AddPod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RemovePod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
}

// PreFilterResult narrows the candidate nodes; nil NodeNames means all.
type PreFilterResult struct {
	NodeNames sets.Set[string]
	// NarrowedBy names the plugins that narrowed the set (set by the
	// framework).
	NarrowedBy []string
}

// AllNodes reports that the result does not narrow anything.
func (r *PreFilterResult) AllNodes() bool { return r == nil || r.NodeNames == nil }

// Merge intersects two results.
func (r *PreFilterResult) Merge(o *PreFilterResult) *PreFilterResult {
	if r.AllNodes() {
		return o
	}
	if o.AllNodes() {
		return r
	}
	return &PreFilterResult{NodeNames: r.NodeNames.Intersection(o.NodeNames), NarrowedBy: r.NarrowedBy}
}

// FilterPlugin decides whether the pod may run on one node. It must not
// modify the state or the NodeInfo: Filter runs in parallel over nodes.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeInfo *NodeInfo) *Status
}

// PostFilterPlugin runs when no node fits (preemption).
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *corev1.Pod, statuses NodeToStatus) (*PostFilterResult, *Status)
}

// PostFilterResult nominates a node for the pod.
type PostFilterResult struct {
	NominatedNodeName string
}

// PreScorePlugin runs once before Score with the feasible nodes.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) *Status
}

// ScorePlugin ranks feasible nodes.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeInfo *NodeInfo) (int64, *Status)
	// ScoreExtensions may be nil.
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions normalize a plugin's scores into [0, MaxNodeScore].
type ScoreExtensions interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *corev1.Pod, scores NodeScoreList) *Status
}

// NodeScore is one node's score.
type NodeScore struct {
	Name  string
	Score int64
}

// NodeScoreList holds one plugin's scores for the feasible nodes.
type NodeScoreList []NodeScore

// ReservePlugin is told when a node is chosen, and when the choice is
// undone (Unreserve, in reverse order).
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) *Status
	Unreserve(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string)
}

// BindPlugin binds the pod. Skip passes to the next Bind plugin.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) *Status
}

// EnqueueExtensions lists the cluster events after which a pod this
// plugin rejected may fit, so that the queue retries it then.
type EnqueueExtensions interface {
	Plugin
	EventsToRegister() []ClusterEvent
}

// Handle is what plugins get from the scheduler.
type Handle interface {
	// SnapshotSharedLister reads the snapshot of the current cycle.
	SnapshotSharedLister() SharedLister
	ClientSet() kubernetes.Interface
	SharedInformerFactory() informers.SharedInformerFactory
	EventRecorder() events.EventRecorder
	Parallelizer() Parallelizer
	// ProfileName is the profile's schedulerName.
	ProfileName() string
	PodNominator
	// RunFilterPluginsWithNominatedPods runs the filters as the
	// scheduling cycle does, counting pods nominated to the node.
	RunFilterPluginsWithNominatedPods(ctx context.Context, state *CycleState, pod *corev1.Pod, info *NodeInfo) *Status
	RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
}

// PodNominator knows the pods nominated to nodes by preemption.
type PodNominator interface {
	NominatedPodsForNode(nodeName string) []*PodInfo
	// HasNominatedPods is false when no pod is nominated anywhere, so
	// that the filter loop need not ask per node.
	HasNominatedPods() bool
}

// SharedLister reads a snapshot.
type SharedLister interface {
	NodeInfos() NodeInfoLister
}

// NodeInfoLister lists the NodeInfos of a snapshot.
type NodeInfoLister interface {
	List() []*NodeInfo
	// HavePodsWithAffinityList lists nodes with pods with any affinity.
	HavePodsWithAffinityList() []*NodeInfo
	// HavePodsWithRequiredAntiAffinityList lists nodes with pods with
	// required anti-affinity.
	HavePodsWithRequiredAntiAffinityList() []*NodeInfo
	Get(nodeName string) (*NodeInfo, error)
	// HavePodsWithScoringAffinityList lists nodes with pods whose terms
	// score other pods: required affinity or any preferred term.
	HavePodsWithScoringAffinityList() []*NodeInfo
	// PodsMatching counts, per value of term.TopologyKey over the nodes
	// that have it, the pods the term selects (its namespace selector, if
	// any, must already be resolved into Namespaces). With
	// skipTerminating, pods being deleted do not count. The counts are
	// shared and kept up to date across cycles: read-only.
	PodsMatching(term *AffinityTerm, skipTerminating bool) *TermCounts
	// RequiredAntiAffinityGroups groups the required anti-affinity terms
	// of the pods placed, with the number of pods carrying each term per
	// domain of its topology key. Read-only.
	RequiredAntiAffinityGroups() []*TermGroup
	// Domains maps each value of a node label to the number of nodes
	// carrying it. Read-only.
	Domains(key string) map[string]int
}

// TermCounts are pod counts per topology domain.
type TermCounts struct {
	Counts map[string]int64
	Total  int64
}

// TermGroup is one distinct term and its counts.
type TermGroup struct {
	Term AffinityTerm
	TermCounts
}

// Parallelizer runs work pieces over a bounded number of goroutines.
type Parallelizer interface {
	Until(ctx context.Context, pieces int, do func(i int))
	// UntilChunks calls do(lo, hi) over consecutive chunks of at most
	// chunk pieces covering [0, pieces), for work that keeps per-chunk
	// state instead of sharing counters piece by piece.
	UntilChunks(ctx context.Context, pieces, chunk int, do func(lo, hi int))
}

// NodeToStatus holds the status of each node that was evaluated; nodes
// not in it (left out by a PreFilterResult) have Absent.
type NodeToStatus struct {
	Map    map[string]*Status
	Absent *Status
}

// Get returns a node's status.
func (m NodeToStatus) Get(name string) *Status {
	if s, ok := m.Map[name]; ok {
		return s
	}
	return m.Absent
}
