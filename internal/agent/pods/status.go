package pods

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/probes"
)

// view is what status computation needs beyond the pod and the runtime.
type view struct {
	sandboxID    string
	podIPs       []string
	sandboxReady bool
	initDone     bool
	initFailed   bool
	initPending  []string
	// final: the pod is stopped for good; exited containers are terminal.
	final bool
}

// status computes the pod status after a pass over a live pod.
func (w *worker) status(ctx context.Context, pod *corev1.Pod, r *round) *corev1.PodStatus {
	state := r.state
	if r.changed {
		if st, err := w.m.podState(ctx, w.uid); err == nil {
			state = st
			w.lastState = st
		}
	}
	v := view{podIPs: r.podIPs, sandboxReady: r.sandboxReady, initDone: r.initDone, initFailed: r.initFailed, initPending: r.initPending}
	if r.sandbox != nil {
		v.sandboxID = r.sandbox.Id
	}
	if !r.initDone && len(v.initPending) == 0 {
		for _, c := range pod.Spec.InitContainers {
			v.initPending = append(v.initPending, c.Name)
		}
	}
	return w.compute(ctx, pod, state, v)
}

// finalStatus is the status of a pod whose containers were all stopped.
func (w *worker) finalStatus(ctx context.Context, pod *corev1.Pod, state *cri.PodState) *corev1.PodStatus {
	v := view{final: true, initDone: true}
	if sb := state.Latest(); sb != nil {
		v.sandboxID = sb.Id
	}
	if w.sent != nil {
		for _, ip := range w.sent.PodIPs {
			v.podIPs = append(v.podIPs, ip.IP)
		}
	}
	return w.compute(ctx, pod, state, v)
}

// compute assembles the PodStatus.
func (w *worker) compute(ctx context.Context, pod *corev1.Pod, state *cri.PodState, v view) *corev1.PodStatus {
	m := w.m
	hostIP := m.cfg.NodeIP.String()
	st := &corev1.PodStatus{
		HostIP:   hostIP,
		HostIPs:  []corev1.HostIP{{IP: hostIP}},
		QOSClass: qosClass(pod),
	}
	start := metav1.NewTime(w.startTime)
	if pod.Status.StartTime != nil {
		start = *pod.Status.StartTime
	}
	if !w.startTime.IsZero() || pod.Status.StartTime != nil {
		st.StartTime = &start
	}
	if len(v.podIPs) > 0 {
		st.PodIP = v.podIPs[0]
		for _, ip := range v.podIPs {
			st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: ip})
		}
	}
	pending := map[string]bool{}
	for _, n := range v.initPending {
		pending[n] = true
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		st.InitContainerStatuses = append(st.InitContainerStatuses, w.containerStatus(ctx, pod, c, state, v, true, pending[c.Name]))
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		st.ContainerStatuses = append(st.ContainerStatuses, w.containerStatus(ctx, pod, c, state, v, false, false))
	}
	st.Phase = phase(pod, st, v)
	if w.terminalReason.reason != "" {
		st.Phase, st.Reason, st.Message = corev1.PodFailed, w.terminalReason.reason, w.terminalReason.message
	}
	if v.final && !isTerminal(st.Phase) {
		st.Phase = finalPhase(st)
	}
	st.Conditions = w.conditions(pod, st, v)
	return st
}

// containerStatus reports one container: its latest instance (waiting
// with the reason the worker recorded when it is about to be restarted)
// and the one before as lastState.
func (w *worker) containerStatus(ctx context.Context, pod *corev1.Pod, c *corev1.Container, state *cri.PodState, v view, init, pending bool) corev1.ContainerStatus {
	out := corev1.ContainerStatus{Name: c.Name, Image: c.Image}
	all := state.Instances(c.Name, "")
	var cur, prev *runtimeapi.ContainerStatus
	if len(all) > 0 {
		out.RestartCount = cri.RestartCount(all[0])
		if s, err := w.m.containerStatus(ctx, all[0]); err == nil {
			if all[0].PodSandboxId == v.sandboxID || v.final {
				cur = s
			} else {
				prev = s
			}
		}
		if cur != nil && len(all) > 1 {
			if s, err := w.m.containerStatus(ctx, all[1]); err == nil {
				prev = s
			}
		}
	}
	if prev != nil && prev.State == runtimeapi.ContainerState_CONTAINER_EXITED {
		out.LastTerminationState = corev1.ContainerState{Terminated: w.terminatedState(prev)}
	}
	wr, hasReason := w.waiting[c.Name]
	switch {
	case cur == nil:
		out.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: defaultWaiting(init, v)}}
		if hasReason {
			out.State.Waiting = &corev1.ContainerStateWaiting{Reason: wr.reason, Message: wr.message}
		}
	case cur.State == runtimeapi.ContainerState_CONTAINER_RUNNING:
		w.describe(&out, cur)
		// What the container runs with: limits in its cgroup, requests as
		// its shares (upstream reports them once resizing is on).
		if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
			res := c.Resources.DeepCopy()
			out.Resources = res
			out.AllocatedResources = res.Requests
		}
		out.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(time.Unix(0, cur.StartedAt))}}
		started := w.m.probes.Get(pod.UID, c.Name, probes.Startup) == probes.Success
		out.Started = &started
		out.Ready = started && w.m.probes.Get(pod.UID, c.Name, probes.Readiness) == probes.Success
		if init && !isSidecar(c) {
			out.Ready = false
		}
	case cur.State == runtimeapi.ContainerState_CONTAINER_CREATED:
		w.describe(&out, cur)
		out.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	default:
		w.describe(&out, cur)
		term := w.terminatedState(cur)
		out.State = corev1.ContainerState{Terminated: term}
		if init && term.ExitCode == 0 {
			out.Ready = true
		}
		if hasReason && !v.final {
			out.LastTerminationState = out.State
			out.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: wr.reason, Message: wr.message}}
		}
	}
	f := false
	if out.Started == nil {
		out.Started = &f
	}
	_ = pending
	return out
}

func defaultWaiting(init bool, v view) string {
	if !v.initDone && (!init || !v.sandboxReady) {
		return "PodInitializing"
	}
	if init {
		return "PodInitializing"
	}
	return "ContainerCreating"
}

// describe fills the instance-specific fields.
func (w *worker) describe(out *corev1.ContainerStatus, s *runtimeapi.ContainerStatus) {
	out.ContainerID = w.m.cfg.RuntimeName + "://" + s.Id
	out.ImageID = s.ImageRef
	if img := s.GetImage().GetImage(); img != "" && !strings.HasPrefix(img, "sha256:") {
		out.Image = img
	}
}

// terminated converts an exited instance, with its termination message.
func (w *worker) terminatedState(s *runtimeapi.ContainerStatus) *corev1.ContainerStateTerminated {
	t := &corev1.ContainerStateTerminated{
		ExitCode:    s.ExitCode,
		Reason:      s.Reason,
		Message:     s.Message,
		StartedAt:   metav1.NewTime(time.Unix(0, s.StartedAt)),
		FinishedAt:  metav1.NewTime(time.Unix(0, s.FinishedAt)),
		ContainerID: w.m.cfg.RuntimeName + "://" + s.Id,
	}
	if t.Reason == "" {
		t.Reason = "Error"
		if s.ExitCode == 0 {
			t.Reason = "Completed"
		}
	}
	if s.StartedAt == 0 {
		t.StartedAt = metav1.Time{}
	}
	if msg := terminationMessage(s); msg != "" {
		t.Message = msg
	}
	return t
}

// maxTerminationMessage is the kubelet's limit per container.
const maxTerminationMessage = 4096

// terminationMessage reads the file the container wrote, or, with
// FallbackToLogsOnError and a failure, the tail of its log.
func terminationMessage(s *runtimeapi.ContainerStatus) string {
	path := s.Annotations[cri.AnnotationTerminationPath]
	if path != "" {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			if len(b) > maxTerminationMessage {
				b = b[:maxTerminationMessage]
			}
			return string(b)
		}
	}
	if s.Annotations[cri.AnnotationTerminationPol] != string(corev1.TerminationMessageFallbackToLogsOnError) || s.ExitCode == 0 || s.LogPath == "" {
		return ""
	}
	return logTail(s.LogPath, 80, 2048)
}

// logTail returns the last lines of a CRI log file, without the
// timestamp/stream/tag prefix of each line.
func logTail(path string, lines, maxBytes int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	var out strings.Builder
	for _, l := range all {
		parts := strings.SplitN(l, " ", 4)
		if len(parts) == 4 {
			out.WriteString(parts[3])
			if parts[2] == "F" {
				out.WriteByte('\n')
			}
		}
	}
	s := out.String()
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
	}
	return s
}

// phase follows upstream's rules: Pending while init containers run or a
// container waits to start for the first time; Running while any runs or
// will be restarted; Succeeded or Failed once all stopped for good.
func phase(pod *corev1.Pod, st *corev1.PodStatus, v view) corev1.PodPhase {
	if v.initFailed {
		return corev1.PodFailed
	}
	if !v.initDone && !v.final {
		return corev1.PodPending
	}
	var running, waiting, stopped, succeeded int
	for _, cs := range st.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways {
			return corev1.PodRunning
		}
		if stopped == succeeded {
			return corev1.PodSucceeded
		}
		if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			return corev1.PodFailed
		}
		return corev1.PodRunning
	}
	return corev1.PodPending
}

// finalPhase is the terminal phase of a pod whose containers were all
// stopped by a deletion: Succeeded only if every one exited 0.
func finalPhase(st *corev1.PodStatus) corev1.PodPhase {
	for _, cs := range st.ContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
			return corev1.PodFailed
		}
	}
	return corev1.PodSucceeded
}

// conditions computes the conditions the node owns and keeps the others
// (PodScheduled, DisruptionTarget, readiness gates) as they are.
func (w *worker) conditions(pod *corev1.Pod, st *corev1.PodStatus, v view) []corev1.PodCondition {
	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) corev1.PodCondition {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg}
		if ok {
			c = corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
		}
		return c
	}
	var notReady []string
	for _, cs := range st.ContainerStatuses {
		if !cs.Ready {
			notReady = append(notReady, cs.Name)
		}
	}
	for _, cs := range st.InitContainerStatuses {
		if !cs.Ready && v.initDone && isSidecarName(pod, cs.Name) {
			notReady = append(notReady, cs.Name)
		}
	}
	readyReason, readyMsg := "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
	if isTerminal(st.Phase) {
		readyReason, readyMsg = "PodCompleted", ""
		notReady = append(notReady, "")
	}
	var initMsg string
	if len(v.initPending) > 0 {
		initMsg = fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(v.initPending, " "))
	}
	initOK := len(v.initPending) == 0 && !v.initFailed
	initReason := "ContainersNotInitialized"
	if isTerminal(st.Phase) && initOK {
		initReason = ""
	}
	gates := readinessGatesOK(pod)
	ready := len(notReady) == 0
	readyCond := cond(corev1.PodReady, ready && gates, readyReason, readyMsg)
	if ready && !gates {
		readyCond.Reason, readyCond.Message = "ReadinessGatesNotReady", "corresponding condition of pod readiness gate is not true"
	}
	own := []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, v.sandboxReady && !v.final, "", ""),
		cond(corev1.PodInitialized, initOK, initReason, initMsg),
		readyCond,
		cond(corev1.ContainersReady, ready, readyReason, readyMsg),
	}
	owned := map[corev1.PodConditionType]bool{}
	for _, c := range own {
		owned[c.Type] = true
	}
	var out []corev1.PodCondition
	scheduled := false
	for _, c := range pod.Status.Conditions {
		if !owned[c.Type] {
			out = append(out, c)
		}
		if c.Type == corev1.PodScheduled {
			scheduled = true
		}
	}
	now := metav1.NewTime(time.Now())
	if !scheduled {
		// Bound by setting spec.nodeName directly, without a scheduler.
		out = append(out, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, c := range own {
		c.LastTransitionTime = now
		for _, old := range pod.Status.Conditions {
			if old.Type == c.Type && old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return condOrder(out[i].Type) < condOrder(out[j].Type) })
	return out
}

func isSidecarName(pod *corev1.Pod, name string) bool {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return isSidecar(&pod.Spec.InitContainers[i])
		}
	}
	return false
}

// condOrder is the order kubectl describe shows.
func condOrder(t corev1.PodConditionType) int {
	switch t {
	case corev1.PodReadyToStartContainers:
		return 0
	case corev1.PodInitialized:
		return 1
	case corev1.PodReady:
		return 2
	case corev1.ContainersReady:
		return 3
	case corev1.PodScheduled:
		return 4
	}
	return 5
}

func readinessGatesOK(pod *corev1.Pod) bool {
	for _, g := range pod.Spec.ReadinessGates {
		ok := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// waitAll records the same waiting reason for every container without an
// instance (the sandbox could not be created).
func (w *worker) waitAll(pod *corev1.Pod, reason, msg string) {
	for _, c := range allContainers(pod) {
		if _, ok := w.waiting[c.Name]; !ok {
			w.waiting[c.Name] = waitReason{reason, msg}
		}
	}
}

// send patches the status when it differs from what was last sent.
func (w *worker) send(ctx context.Context, pod *corev1.Pod, st *corev1.PodStatus) error {
	if pod == nil {
		return nil
	}
	w.statusMu.Lock()
	prev := w.sent
	w.statusMu.Unlock()
	// The node lifecycle controller marks pods of a node it lost touch
	// with not Ready: what was sent no longer stands once the API shows
	// another Ready condition.
	if prev == nil && sameStatus(&pod.Status, st) || prev != nil && sameStatus(prev, st) && podReady(&pod.Status) == podReady(st) {
		w.setSent(st)
		return nil
	}
	patch := map[string]any{"metadata": map[string]any{"uid": pod.UID}, "status": statusPatch(st)}
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	if _, err := w.m.cfg.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, b, metav1.PatchOptions{}, "status"); err != nil {
		if ctx.Err() == nil {
			w.m.log.Warn("update pod status", "pod", podKey(pod), "err", err)
		}
		return err
	}
	w.setSent(st)
	return nil
}

func podReady(st *corev1.PodStatus) corev1.ConditionStatus {
	for _, c := range st.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status
		}
	}
	return ""
}

func (w *worker) setSent(st *corev1.PodStatus) {
	w.statusMu.Lock()
	w.sent = st
	w.statusMu.Unlock()
}

// lastSent is the last status the worker reported (for lookups).
func (w *worker) lastSent() *corev1.PodStatus {
	w.statusMu.Lock()
	defer w.statusMu.Unlock()
	return w.sent
}

// statusPatch is the merge patch body: the whole status, with the
// optional scalar fields the node may clear set to null explicitly.
func statusPatch(st *corev1.PodStatus) map[string]any {
	b, _ := json.Marshal(st)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"reason", "message", "podIP", "podIPs", "initContainerStatuses"} {
		if _, ok := m[k]; !ok {
			m[k] = nil
		}
	}
	return m
}

// sameStatus compares statuses ignoring condition probe and transition
// times.
func sameStatus(a, b *corev1.PodStatus) bool {
	strip := func(s *corev1.PodStatus) *corev1.PodStatus {
		c := s.DeepCopy()
		for i := range c.Conditions {
			c.Conditions[i].LastProbeTime = metav1.Time{}
			c.Conditions[i].LastTransitionTime = metav1.Time{}
		}
		if c.StartTime != nil {
			t := metav1.NewTime(c.StartTime.Truncate(time.Second))
			c.StartTime = &t
		}
		return c
	}
	return reflect.DeepEqual(strip(a), strip(b))
}
