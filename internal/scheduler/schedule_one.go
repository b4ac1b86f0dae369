package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/queue"
)

// ErrNoNodesAvailable is upstream's error for an empty cluster.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Upstream's bounds on the share of nodes to find feasible before scoring.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// scheduleOne runs one scheduling cycle; false means the queue closed.
func (s *Scheduler) scheduleOne(ctx context.Context) bool {
	qp, err := s.queue.Pop(ctx)
	if err != nil {
		return !errors.Is(err, queue.ErrClosed) && ctx.Err() == nil
	}
	pod := qp.Pod
	fwk := s.profiles[pod.Spec.SchedulerName]
	if fwk == nil || pod.DeletionTimestamp != nil || s.cache.IsAssumedPod(pod) {
		return true
	}
	state := framework.NewCycleState()
	framework.WritePodInfo(state, qp.PodInfo)
	cycle := s.queue.SchedulingCycle()
	host, err := s.schedulePod(ctx, fwk, state, qp.PodInfo)
	if err != nil {
		nominated := ""
		var fitErr *framework.FitError
		if errors.As(err, &fitErr) && fwk.HasPostFilterPlugins() {
			r, st := fwk.RunPostFilterPlugins(ctx, state, pod, fitErr.Diagnosis.NodeToStatus)
			if st.Code() == framework.Error {
				s.log.Error("preemption failed", "pod", pod.Namespace+"/"+pod.Name, "err", st.AsError())
			} else if st.Message() != "" {
				fitErr.Diagnosis.PostFilterMsg = st.Message()
			}
			if r != nil {
				nominated = r.NominatedNodeName
			}
		}
		s.handleFailure(ctx, fwk, qp, err, nominated, cycle)
		return true
	}
	s.assume(ctx, fwk, state, qp, host, cycle)
	return true
}

// assume counts the pod on host at once, so the next cycle sees it, and
// binds in the background.
func (s *Scheduler) assume(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, qp *framework.QueuedPodInfo, host string, cycle int64) {
	// A shallow copy: the spec's slices stay shared and read-only.
	assumedPod := *qp.Pod
	assumedPod.Spec.NodeName = host
	assumed := *qp.PodInfo
	assumed.Pod = &assumedPod
	if err := s.cache.AssumePod(&assumed); err != nil {
		s.handleFailure(ctx, fwk, qp, err, "", cycle)
		return
	}
	s.queue.Nominator().Delete(assumedPod.UID)
	if st := fwk.RunReservePluginsReserve(ctx, state, &assumedPod, host); !st.IsSuccess() {
		fwk.RunReservePluginsUnreserve(ctx, state, &assumedPod, host)
		_ = s.cache.ForgetPod(&assumedPod)
		s.handleFailure(ctx, fwk, qp, st.AsError(), "", cycle)
		return
	}
	s.binding.Add(1)
	s.binders.Go(func() {
		defer s.binding.Done()
		s.bind(ctx, fwk, state, qp, &assumedPod, host, cycle)
	})
}

func (s *Scheduler) bind(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, qp *framework.QueuedPodInfo, assumed *corev1.Pod, host string, cycle int64) {
	if st := fwk.RunBindPlugins(ctx, state, assumed, host); !st.IsSuccess() {
		fwk.RunReservePluginsUnreserve(ctx, state, assumed, host)
		if err := s.cache.ForgetPod(assumed); err != nil {
			s.log.Debug("forget assumed pod", "pod", assumed.Namespace+"/"+assumed.Name, "err", err)
		}
		// The room it held is free again.
		s.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodDelete, nil)
		s.handleFailure(ctx, fwk, qp, fmt.Errorf("binding rejected: %w", st.AsError()), "", cycle)
		return
	}
	s.cache.FinishBinding(assumed)
	s.recorders[fwk.ProfileName()].Eventf(assumed, nil, corev1.EventTypeNormal, "Scheduled", "Binding",
		"Successfully assigned %v/%v to %v", assumed.Namespace, assumed.Name, host)
}

// schedulePod picks a node: filter, then score the feasible nodes found.
func (s *Scheduler) schedulePod(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, pi *framework.PodInfo) (string, error) {
	s.cache.UpdateSnapshot(s.snapshot)
	if s.snapshot.NumNodes() == 0 {
		return "", ErrNoNodesAvailable
	}
	feasible, diag, err := s.findNodesThatFit(ctx, fwk, state, pi.Pod)
	if err != nil {
		return "", err
	}
	if len(feasible) == 0 {
		return "", &framework.FitError{Pod: pi.Pod, NumAllNodes: s.snapshot.NumNodes(), Diagnosis: diag}
	}
	if len(feasible) == 1 {
		return feasible[0].Node().Name, nil
	}
	if st := fwk.RunPreScorePlugins(ctx, state, pi.Pod, feasible); !st.IsSuccess() {
		return "", st.AsError()
	}
	totals, st := fwk.RunScorePlugins(ctx, state, pi.Pod, feasible)
	if !st.IsSuccess() {
		return "", st.AsError()
	}
	return selectHost(feasible, totals), nil
}

// selectHost takes the best total, breaking ties uniformly at random. In
// a uniform cluster most nodes tie, so it counts them and draws once
// rather than once per tie.
func selectHost(nodes []*framework.NodeInfo, totals []int64) string {
	best, ties := totals[0], 0
	for _, t := range totals {
		switch {
		case t > best:
			best, ties = t, 1
		case t == best:
			ties++
		}
	}
	k := rand.IntN(ties)
	for i, t := range totals {
		if t == best {
			if k == 0 {
				return nodes[i].Node().Name
			}
			k--
		}
	}
	return nodes[0].Node().Name // unreachable: ties counts the matches
}

// findNodesThatFit runs PreFilter, then Filter over nodes until enough
// feasible ones are found; when none is, the diagnosis says why per node.
func (s *Scheduler) findNodesThatFit(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, pod *corev1.Pod) ([]*framework.NodeInfo, framework.Diagnosis, error) {
	diag := framework.Diagnosis{NodeToStatus: framework.NodeToStatus{Map: map[string]*framework.Status{}}, UnschedulablePlugins: sets.New[string]()}
	pfr, st, rejected := fwk.RunPreFilterPlugins(ctx, state, pod)
	if !st.IsSuccess() {
		if !st.IsRejected() {
			return nil, diag, st.AsError()
		}
		diag.NodeToStatus.Absent, diag.PreFilterMsg, diag.UnschedulablePlugins = st, st.Message(), rejected
		return nil, diag, nil
	}
	if nom := pod.Status.NominatedNodeName; nom != "" {
		if ni, err := s.snapshot.Get(nom); err == nil && fwk.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni).IsSuccess() {
			return []*framework.NodeInfo{ni}, diag, nil
		}
	}
	nodes := s.snapshot.List()
	if !pfr.AllNodes() {
		narrowed := make([]*framework.NodeInfo, 0, pfr.NodeNames.Len())
		for name := range pfr.NodeNames {
			if ni, err := s.snapshot.Get(name); err == nil {
				narrowed = append(narrowed, ni)
			}
		}
		diag.NodeToStatus.Absent = framework.NewStatus(framework.UnschedulableAndUnresolvable,
			fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", pfr.NarrowedBy))
		diag.UnschedulablePlugins.Insert(pfr.NarrowedBy...)
		nodes = narrowed
	}
	feasible, err := s.filter(ctx, fwk, state, pod, nodes, &diag)
	return feasible, diag, err
}

// filterChunk is how many nodes a filter worker takes at a time. Workers
// share counters once per chunk, not once per node: per-node atomics and
// adjacent writes from two cores made parallel filtering cost more CPU
// than filtering serially. Small chunks keep the overshoot past
// numFeasibleNodesToFind small.
const filterChunk = 32

// filter runs the Filter plugins from a rotating start, in parallel,
// stopping once numFeasibleNodesToFind nodes passed.
func (s *Scheduler) filter(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo, diag *framework.Diagnosis) ([]*framework.NodeInfo, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	want := s.numFeasibleNodesToFind(fwk, len(nodes))
	// Only the scheduling goroutine filters: the buffers are reused across
	// cycles instead of becoming garbage each time.
	if cap(s.statusBuf) < len(nodes) {
		s.statusBuf = make([]*framework.Status, len(nodes))
	}
	statuses := s.statusBuf[:len(nodes)]
	defer clear(statuses)
	feasible := make([]*framework.NodeInfo, 0, want+filterChunk)
	var (
		mu        sync.Mutex
		found     atomic.Int32
		processed atomic.Int32
		failure   atomic.Pointer[framework.Status]
	)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := s.nextStart % len(nodes)
	chunk := func(lo, hi int) {
		var local [filterChunk]*framework.NodeInfo
		n, done := 0, 0
		// Stop early at exactly want when filtering serially; parallel
		// workers may overshoot by part of a chunk, trimmed below.
		need := want - int(found.Load())
		for i := lo; i < hi && n < need && fctx.Err() == nil; i++ {
			ni := nodes[(start+i)%len(nodes)]
			st := fwk.RunFilterPluginsWithNominatedPods(fctx, state, pod, ni)
			done++
			switch {
			case st.IsSuccess():
				local[n] = ni
				n++
			case st.IsRejected():
				statuses[i] = st
			default:
				failure.Store(st)
				cancel()
			}
		}
		processed.Add(int32(done))
		mu.Lock()
		feasible = append(feasible, local[:n]...)
		found.Store(int32(len(feasible)))
		full := len(feasible) >= want
		mu.Unlock()
		if full {
			cancel()
		}
	}
	// The work is the ~want nodes to find, not all the nodes: splitting
	// 500 nodes' worth costs more than it saves (see MinPiecesPerWorker).
	par := fwk.Parallelizer()
	if s.parallelism <= 1 || want < 2*framework.MinPiecesPerWorker {
		par = framework.NewParallelizer(1)
	}
	par.UntilChunks(fctx, len(nodes), filterChunk, chunk)
	if st := failure.Load(); st != nil {
		return nil, st.AsError()
	}
	s.nextStart = (start + int(processed.Load())) % len(nodes)
	if len(feasible) > 0 {
		return feasible[:min(len(feasible), want)], nil
	}
	for i, st := range statuses {
		if st != nil {
			diag.NodeToStatus.Map[nodes[(start+i)%len(nodes)].Node().Name] = st
			diag.UnschedulablePlugins.Insert(st.Plugin())
		}
	}
	return nil, nil
}

// numFeasibleNodesToFind is upstream's adaptive share: all nodes below
// 100, else percentageOfNodesToScore, which when unset falls from 50% by
// one point per 125 nodes to at least 5%, and never fewer than 100 nodes.
func (s *Scheduler) numFeasibleNodesToFind(fwk *framework.Framework, n int) int {
	pct := s.percentage
	if p := fwk.PercentageOfNodesToScore(); p != nil {
		pct = *p
	}
	if n < minFeasibleNodesToFind || pct >= 100 {
		return n
	}
	if pct <= 0 {
		pct = max(50-int32(n/125), minFeasibleNodesPercentageToFind)
	}
	return max(n*int(pct)/100, minFeasibleNodesToFind)
}
