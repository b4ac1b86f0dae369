package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"

	"github.com/navarch/navarch/internal/scheduler/config"
)

// Factory builds a plugin from its arguments (nil when the profile gives
// none, in which case the plugin uses its defaults).
type Factory func(args json.RawMessage, h Handle) (Plugin, error)

// Registry maps plugin names to factories.
type Registry map[string]Factory

// Options are what the scheduler gives every profile's framework.
type Options struct {
	Client      kubernetes.Interface
	Informers   informers.SharedInformerFactory
	Recorder    events.EventRecorder
	Snapshot    SharedLister
	Nominator   PodNominator
	Parallelism int
}

// Framework runs one profile's plugins.
type Framework struct {
	opts         Options
	profileName  string
	percentage   *int32
	parallelizer Parallelizer

	queueSort  QueueSortPlugin
	preFilter  []PreFilterPlugin
	filter     []FilterPlugin
	postFilter []PostFilterPlugin
	preScore   []PreScorePlugin
	score      []ScorePlugin
	weights    []int64
	reserve    []ReservePlugin
	bind       []BindPlugin
	// events lists, per plugin, the cluster events that may make a pod
	// it rejected schedulable.
	events map[string][]ClusterEvent
}

var _ Handle = (*Framework)(nil)

// New builds a profile's framework.
func New(r Registry, prof config.Resolved, opts Options) (*Framework, error) {
	f := &Framework{opts: opts, profileName: prof.SchedulerName, percentage: prof.PercentageOfNodesToScore,
		parallelizer: NewParallelizer(opts.Parallelism), events: map[string][]ClusterEvent{}}
	plugins := map[string]Plugin{}
	instantiate := func(name string) (Plugin, error) {
		if p, ok := plugins[name]; ok {
			return p, nil
		}
		factory, ok := r[name]
		if !ok {
			if config.UpstreamOnlyPlugins[name] {
				return nil, fmt.Errorf("plugin %q is not available in navarch", name)
			}
			return nil, fmt.Errorf("plugin %q does not exist", name)
		}
		p, err := factory(prof.Args[name], f)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: %w", name, err)
		}
		plugins[name] = p
		if ee, ok := p.(EnqueueExtensions); ok {
			f.events[name] = ee.EventsToRegister()
		}
		return p, nil
	}
	for _, pl := range prof.MultiPoint {
		if _, err := instantiate(pl.Name); err != nil {
			return nil, err
		}
	}
	for name := range prof.Args {
		if _, ok := r[name]; !ok && !config.UpstreamOnlyPlugins[name] {
			return nil, fmt.Errorf("pluginConfig: plugin %q does not exist", name)
		}
	}
	if err := f.expand(prof, plugins, instantiate); err != nil {
		return nil, err
	}
	if f.queueSort == nil {
		return nil, fmt.Errorf("profile %q: no queueSort plugin is enabled", f.profileName)
	}
	if len(f.bind) == 0 {
		return nil, fmt.Errorf("profile %q: at least one bind plugin is needed", f.profileName)
	}
	return f, nil
}

// point describes how to collect one extension point's plugins.
type point struct {
	name string
	is   func(Plugin) bool
	add  func(Plugin, int32)
}

func (f *Framework) points() []point {
	return []point{
		{config.QueueSort, is[QueueSortPlugin], func(p Plugin, _ int32) { f.queueSort = p.(QueueSortPlugin) }},
		{config.PreFilter, is[PreFilterPlugin], func(p Plugin, _ int32) { f.preFilter = append(f.preFilter, p.(PreFilterPlugin)) }},
		{config.Filter, is[FilterPlugin], func(p Plugin, _ int32) { f.filter = append(f.filter, p.(FilterPlugin)) }},
		{config.PostFilter, is[PostFilterPlugin], func(p Plugin, _ int32) { f.postFilter = append(f.postFilter, p.(PostFilterPlugin)) }},
		{config.PreScore, is[PreScorePlugin], func(p Plugin, _ int32) { f.preScore = append(f.preScore, p.(PreScorePlugin)) }},
		{config.Score, is[ScorePlugin], func(p Plugin, w int32) {
			f.score = append(f.score, p.(ScorePlugin))
			f.weights = append(f.weights, int64(max(w, 1)))
		}},
		{config.Reserve, is[ReservePlugin], func(p Plugin, _ int32) { f.reserve = append(f.reserve, p.(ReservePlugin)) }},
		{config.Bind, is[BindPlugin], func(p Plugin, _ int32) { f.bind = append(f.bind, p.(BindPlugin)) }},
		{config.PreEnqueue, never, nil}, {config.Permit, never, nil}, {config.PreBind, never, nil}, {config.PostBind, never, nil},
	}
}

func is[T any](p Plugin) bool { _, ok := p.(T); return ok }
func never(Plugin) bool       { return false }

// expand fills each extension point: the multiPoint plugins that
// implement it, then that point's own set on top (upstream's precedence).
func (f *Framework) expand(prof config.Resolved, plugins map[string]Plugin, instantiate func(string) (Plugin, error)) error {
	for _, pt := range f.points() {
		var list []config.Plugin
		for _, pl := range prof.MultiPoint {
			if pt.is(plugins[pl.Name]) {
				list = append(list, pl)
			}
		}
		set := prof.Points[pt.name]
		for _, e := range set.Enabled {
			p, err := instantiate(e.Name)
			if err != nil {
				return err
			}
			if !pt.is(p) {
				return fmt.Errorf("plugin %q does not extend %s plugin", e.Name, pt.name)
			}
		}
		list = config.Merge(list, set)
		if pt.name == config.QueueSort && len(list) > 1 {
			return fmt.Errorf("profile %q: only one queueSort plugin may be enabled, got %d", f.profileName, len(list))
		}
		for _, pl := range list {
			pt.add(plugins[pl.Name], pl.Weight)
		}
	}
	return nil
}

// ProfileName is the schedulerName of the profile.
func (f *Framework) ProfileName() string { return f.profileName }

// PercentageOfNodesToScore is the profile's setting, nil when unset.
func (f *Framework) PercentageOfNodesToScore() *int32 { return f.percentage }

// QueueSortLess orders the queue.
func (f *Framework) QueueSortLess(a, b *QueuedPodInfo) bool { return f.queueSort.Less(a, b) }

// QueueSortName names the queue sort plugin.
func (f *Framework) QueueSortName() string { return f.queueSort.Name() }

// EnqueueEvents lists each plugin's registered events.
func (f *Framework) EnqueueEvents() map[string][]ClusterEvent { return f.events }

// HasPostFilterPlugins reports any PostFilter plugin.
func (f *Framework) HasPostFilterPlugins() bool { return len(f.postFilter) > 0 }

// HasScorePlugins reports any Score plugin.
func (f *Framework) HasScorePlugins() bool { return len(f.score) > 0 }

// ListPlugins names the plugins of each extension point, for logs/tests.
func (f *Framework) ListPlugins() map[string][]string {
	names := func(n int, at func(int) Plugin) []string {
		out := make([]string, n)
		for i := range n {
			out[i] = at(i).Name()
		}
		return out
	}
	return map[string][]string{
		config.QueueSort:  {f.queueSort.Name()},
		config.PreFilter:  names(len(f.preFilter), func(i int) Plugin { return f.preFilter[i] }),
		config.Filter:     names(len(f.filter), func(i int) Plugin { return f.filter[i] }),
		config.PostFilter: names(len(f.postFilter), func(i int) Plugin { return f.postFilter[i] }),
		config.PreScore:   names(len(f.preScore), func(i int) Plugin { return f.preScore[i] }),
		config.Score:      names(len(f.score), func(i int) Plugin { return f.score[i] }),
		config.Reserve:    names(len(f.reserve), func(i int) Plugin { return f.reserve[i] }),
		config.Bind:       names(len(f.bind), func(i int) Plugin { return f.bind[i] }),
	}
}

// ScoreWeights maps Score plugins to their weights.
func (f *Framework) ScoreWeights() map[string]int64 {
	out := map[string]int64{}
	for i, p := range f.score {
		out[p.Name()] = f.weights[i]
	}
	return out
}

// Handle.

// SnapshotSharedLister implements Handle.
func (f *Framework) SnapshotSharedLister() SharedLister { return f.opts.Snapshot }

// ClientSet implements Handle.
func (f *Framework) ClientSet() kubernetes.Interface { return f.opts.Client }

// SharedInformerFactory implements Handle.
func (f *Framework) SharedInformerFactory() informers.SharedInformerFactory { return f.opts.Informers }

// EventRecorder implements Handle.
func (f *Framework) EventRecorder() events.EventRecorder { return f.opts.Recorder }

// Parallelizer implements Handle.
func (f *Framework) Parallelizer() Parallelizer { return f.parallelizer }

// NominatedPodsForNode implements PodNominator.
func (f *Framework) NominatedPodsForNode(node string) []*PodInfo {
	if f.opts.Nominator == nil {
		return nil
	}
	return f.opts.Nominator.NominatedPodsForNode(node)
}

// RunPreFilterPlugins runs PreFilter; plugins returning Skip are recorded
// in the state. A rejection names the plugin; unschedulable lists the
// plugins that rejected the pod.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *corev1.Pod) (*PreFilterResult, *Status, sets.Set[string]) {
	var result *PreFilterResult
	var narrowedBy []string
	for _, pl := range f.preFilter {
		r, s := pl.PreFilter(ctx, state, pod)
		if s.IsSkip() {
			state.SkipFilterPlugins.Insert(pl.Name())
			continue
		}
		if !s.IsSuccess() {
			s.WithPlugin(pl.Name())
			if s.IsRejected() {
				return nil, s, sets.New(pl.Name())
			}
			return nil, NewStatus(Error, fmt.Sprintf("running PreFilter plugin %q: %v", pl.Name(), s.AsError())).WithPlugin(pl.Name()), nil
		}
		if !r.AllNodes() {
			narrowedBy = append(narrowedBy, pl.Name())
			result = result.Merge(r)
			if result.NodeNames.Len() == 0 {
				msg := fmt.Sprintf("node(s) didn't satisfy plugin(s) %v simultaneously", narrowedBy)
				if len(narrowedBy) == 1 {
					msg = fmt.Sprintf("node(s) didn't satisfy plugin %v", narrowedBy[0])
				}
				return nil, NewStatus(UnschedulableAndUnresolvable, msg), sets.New(narrowedBy...)
			}
		}
	}
	if result != nil {
		result.NarrowedBy = narrowedBy
	}
	// Fixed here, before Filter runs in parallel.
	state.filters = nil
	f.activeFilters(state)
	return result, nil, nil
}

// RunPreFilterExtensionAddPod implements Handle.
func (f *Framework) RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, pod *corev1.Pod, add *PodInfo, ni *NodeInfo) *Status {
	for _, pl := range f.preFilter {
		if ext := pl.PreFilterExtensions(); ext != nil && !state.SkipFilterPlugins.Has(pl.Name()) {
			if s := ext.AddPod(ctx, state, pod, add, ni); !s.IsSuccess() {
				return AsStatus(fmt.Errorf("running AddPod on PreFilter plugin %q: %w", pl.Name(), s.AsError()))
			}
		}
	}
	return nil
}

// RunPreFilterExtensionRemovePod implements Handle.
func (f *Framework) RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, pod *corev1.Pod, rm *PodInfo, ni *NodeInfo) *Status {
	for _, pl := range f.preFilter {
		if ext := pl.PreFilterExtensions(); ext != nil && !state.SkipFilterPlugins.Has(pl.Name()) {
			if s := ext.RemovePod(ctx, state, pod, rm, ni); !s.IsSuccess() {
				return AsStatus(fmt.Errorf("running RemovePod on PreFilter plugin %q: %w", pl.Name(), s.AsError()))
			}
		}
	}
	return nil
}

// activeFilters are the filters not skipped at PreFilter, computed once
// per cycle rather than once per node.
func (f *Framework) activeFilters(state *CycleState) []FilterPlugin {
	if state.filters == nil {
		state.filters = make([]FilterPlugin, 0, len(f.filter))
		for _, pl := range f.filter {
			if !state.SkipFilterPlugins.Has(pl.Name()) {
				state.filters = append(state.filters, pl)
			}
		}
	}
	return state.filters
}

// RunFilterPlugins returns the first failing filter's status. The set of
// filters is fixed by RunPreFilterPlugins (or by the first call, for
// states that skipped PreFilter, which must then not call in parallel).
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, ni *NodeInfo) *Status {
	for _, pl := range f.activeFilters(state) {
		if s := pl.Filter(ctx, state, pod, ni); !s.IsSuccess() {
			if !s.IsRejected() {
				s = AsStatus(fmt.Errorf("running %q filter plugin: %w", pl.Name(), s.AsError()))
			}
			return s.WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunFilterPluginsWithNominatedPods runs the filters twice when pods of
// equal or higher priority are nominated to the node: once counting them
// (they will take their room) and once without (pod affinity to them
// must not be assumed). The pod must pass both.
func (f *Framework) RunFilterPluginsWithNominatedPods(ctx context.Context, state *CycleState, pod *corev1.Pod, ni *NodeInfo) *Status {
	nominated := f.nominatedAbove(pod, ni)
	if len(nominated) == 0 {
		return f.RunFilterPlugins(ctx, state, pod, ni)
	}
	stateWith, niWith := state.Clone(), ni.Clone()
	for _, p := range nominated {
		niWith.AddPodInfo(p)
		if s := f.RunPreFilterExtensionAddPod(ctx, stateWith, pod, p, niWith); !s.IsSuccess() {
			return s
		}
	}
	if s := f.RunFilterPlugins(ctx, stateWith, pod, niWith); !s.IsSuccess() {
		return s
	}
	return f.RunFilterPlugins(ctx, state, pod, ni)
}

// HasNominatedPods implements PodNominator.
func (f *Framework) HasNominatedPods() bool {
	return f.opts.Nominator != nil && f.opts.Nominator.HasNominatedPods()
}

func (f *Framework) nominatedAbove(pod *corev1.Pod, ni *NodeInfo) []*PodInfo {
	if !f.HasNominatedPods() || ni.Node() == nil {
		return nil
	}
	var out []*PodInfo
	prio := PodPriority(pod)
	for _, p := range f.NominatedPodsForNode(ni.Node().Name) {
		if p.Pod.UID != pod.UID && PodPriority(p.Pod) >= prio {
			out = append(out, p)
		}
	}
	return out
}

// RunPostFilterPlugins runs PostFilter until one succeeds. The returned
// status carries every plugin's message when none does.
func (f *Framework) RunPostFilterPlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, m NodeToStatus) (*PostFilterResult, *Status) {
	var reasons []string
	var rejecter string
	for _, pl := range f.postFilter {
		r, s := pl.PostFilter(ctx, state, pod, m)
		if s.IsSuccess() {
			return r, s
		}
		if !s.IsRejected() {
			return nil, s.WithPlugin(pl.Name())
		}
		reasons = append(reasons, s.Reasons()...)
		if rejecter == "" {
			rejecter = pl.Name()
		}
	}
	return nil, NewStatus(Unschedulable, reasons...).WithPlugin(rejecter)
}

// RunPreScorePlugins runs PreScore, recording Skips.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) *Status {
	for _, pl := range f.preScore {
		s := pl.PreScore(ctx, state, pod, nodes)
		if s.IsSkip() {
			state.SkipScorePlugins.Insert(pl.Name())
			continue
		}
		if !s.IsSuccess() {
			return AsStatus(fmt.Errorf("running PreScore plugin %q: %w", pl.Name(), s.AsError()))
		}
	}
	return nil
}

// scoreBufs recycles the per-cycle score matrix, which at hundreds of
// nodes would otherwise be garbage every cycle.
var scoreBufs = sync.Pool{New: func() any { return new([]NodeScore) }}

// RunScorePlugins returns each node's weighted total. Nodes are spread
// over the workers once, each scoring its nodes with every plugin.
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) ([]int64, *Status) {
	var active []int
	for i, pl := range f.score {
		if !state.SkipScorePlugins.Has(pl.Name()) {
			active = append(active, i)
		}
	}
	totals := make([]int64, len(nodes))
	if len(active) == 0 {
		return totals, nil
	}
	buf := scoreBufs.Get().(*[]NodeScore)
	if cap(*buf) < len(active)*len(nodes) {
		*buf = make([]NodeScore, len(active)*len(nodes))
	}
	defer scoreBufs.Put(buf)
	scores := make([]NodeScoreList, len(active))
	for k := range scores {
		scores[k] = (*buf)[k*len(nodes) : (k+1)*len(nodes) : (k+1)*len(nodes)]
	}
	var failed atomic.Pointer[Status]
	f.parallelizer.Until(ctx, len(nodes), func(j int) {
		name := nodes[j].Name()
		for k, i := range active {
			s, st := f.score[i].Score(ctx, state, pod, nodes[j])
			if !st.IsSuccess() {
				failed.Store(AsStatus(fmt.Errorf("running Score plugin %q: %w", f.score[i].Name(), st.AsError())))
			}
			scores[k][j] = NodeScore{Name: name, Score: s}
		}
	})
	if st := failed.Load(); st != nil {
		return nil, st
	}
	for k, i := range active {
		pl := f.score[i]
		if ext := pl.ScoreExtensions(); ext != nil {
			if st := ext.NormalizeScore(ctx, state, pod, scores[k]); !st.IsSuccess() {
				return nil, AsStatus(fmt.Errorf("running Normalize on Score plugin %q: %w", pl.Name(), st.AsError()))
			}
		}
		for j, sc := range scores[k] {
			if sc.Score > MaxNodeScore || sc.Score < MinNodeScore {
				return nil, AsStatus(fmt.Errorf("plugin %q returned score %d for node %q, outside [%d, %d]", pl.Name(), sc.Score, sc.Name, MinNodeScore, MaxNodeScore))
			}
			totals[j] += sc.Score * f.weights[i]
		}
	}
	return totals, nil
}

// RunReservePluginsReserve runs Reserve; on failure the caller runs
// Unreserve.
func (f *Framework) RunReservePluginsReserve(ctx context.Context, state *CycleState, pod *corev1.Pod, node string) *Status {
	for _, pl := range f.reserve {
		if s := pl.Reserve(ctx, state, pod, node); !s.IsSuccess() {
			if s.IsRejected() {
				return s.WithPlugin(pl.Name())
			}
			return AsStatus(fmt.Errorf("running Reserve plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunReservePluginsUnreserve runs Unreserve in reverse order.
func (f *Framework) RunReservePluginsUnreserve(ctx context.Context, state *CycleState, pod *corev1.Pod, node string) {
	for _, pl := range slices.Backward(f.reserve) {
		pl.Unreserve(ctx, state, pod, node)
	}
}

// RunBindPlugins binds through the first plugin that does not Skip.
func (f *Framework) RunBindPlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, node string) *Status {
	for _, pl := range f.bind {
		s := pl.Bind(ctx, state, pod, node)
		if s.IsSkip() {
			continue
		}
		if !s.IsSuccess() {
			return AsStatus(fmt.Errorf("running Bind plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
		}
		return nil
	}
	return NewStatus(Skip, "all bind plugins skipped")
}
