package pods

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/probes"
)

// probesTarget is where a running container's probes connect.
type probesTarget = probes.Target

// isSidecar reports a restartable init container (a native sidecar).
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// syncInit runs init containers one at a time, in order. ok is true once
// all have completed (sidecars: started).
func (r *round) syncInit(ctx context.Context) (time.Duration, bool) {
	pod := r.pod
	var requeue time.Duration
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		inst := r.state.Instances(c.Name, r.sandbox.Id)
		if isSidecar(c) {
			wait, running := r.syncContainer(ctx, c, inst, corev1.RestartPolicyAlways)
			requeue = minPositive(requeue, wait)
			if !running || r.w.m.probes.Get(pod.UID, c.Name, probes.Startup) != probes.Success {
				r.pendingFrom(i)
				return requeue, false
			}
			continue
		}
		if len(inst) > 0 {
			latest := inst[0]
			if latest.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
				r.pendingFrom(i)
				return requeue, false
			}
			if latest.State == runtimeapi.ContainerState_CONTAINER_EXITED {
				st, err := r.w.m.containerStatus(ctx, latest)
				if err != nil {
					return runtimeRetry, false
				}
				if st.ExitCode == 0 {
					continue
				}
				if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
					r.initFailed = true
					r.pendingFrom(i)
					return requeue, false
				}
			}
		}
		wait, _ := r.syncContainer(ctx, c, inst, corev1.RestartPolicyOnFailure)
		r.pendingFrom(i)
		return minPositive(requeue, wait), false
	}
	return requeue, true
}

// pendingFrom records init containers i.. as not yet complete.
func (r *round) pendingFrom(i int) {
	for _, c := range r.pod.Spec.InitContainers[i:] {
		r.initPending = append(r.initPending, c.Name)
	}
}

// syncApps keeps every app container as its restart policy wants.
func (r *round) syncApps(ctx context.Context) time.Duration {
	var requeue time.Duration
	for i := range r.pod.Spec.Containers {
		c := &r.pod.Spec.Containers[i]
		wait, _ := r.syncContainer(ctx, c, r.state.Instances(c.Name, r.sandbox.Id), r.pod.Spec.RestartPolicy)
		requeue = minPositive(requeue, wait)
	}
	r.w.collectGarbage(ctx, r.pod, r.state)
	return requeue
}

// syncContainer brings one container to its wanted state and reports
// whether it is running.
func (r *round) syncContainer(ctx context.Context, c *corev1.Container, inst []*runtimeapi.Container, policy corev1.RestartPolicy) (time.Duration, bool) {
	w := r.w
	if len(inst) > 0 {
		latest := inst[0]
		switch latest.State {
		case runtimeapi.ContainerState_CONTAINER_RUNNING:
			r.addTarget(c, latest)
			if msg, grace := w.needsKill(r.pod, c, latest); msg != "" {
				w.killOne(ctx, r.pod, latest, grace, msg)
				r.w.m.relistSoon()
				return runtimeRetry, false
			}
			return 0, true
		case runtimeapi.ContainerState_CONTAINER_CREATED:
			// Created but never started: the agent stopped in between.
			return r.startCreated(ctx, c, latest), false
		}
		st, err := w.m.containerStatus(ctx, latest)
		if err != nil {
			return runtimeRetry, false
		}
		if !shouldRestart(policy, st.ExitCode) {
			return 0, false
		}
		if wait, delay := w.crashBackoff(c.Name, time.Unix(0, st.FinishedAt)); wait > 0 {
			msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", delay, c.Name, podDesc(r.pod))
			w.waiting[c.Name] = waitReason{"CrashLoopBackOff", msg}
			w.eventOnce(r.pod, c.Name, corev1.EventTypeWarning, "BackOff",
				fmt.Sprintf("Back-off restarting failed container %s in pod %s", c.Name, podDesc(r.pod)))
			return wait, false
		}
	}
	return r.start(ctx, c, nextRestartCount(r.state, c.Name)), false
}

// podDesc is the kubelet's name_namespace(uid) form.
func podDesc(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

func shouldRestart(policy corev1.RestartPolicy, exit int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return exit != 0
	}
	return true
}

// nextRestartCount continues the count across sandboxes and agent
// restarts: it is stored on every container instance.
func nextRestartCount(state *cri.PodState, name string) int32 {
	inst := state.Instances(name, "")
	if len(inst) == 0 {
		return 0
	}
	return cri.RestartCount(inst[0]) + 1
}

func (r *round) addTarget(c *corev1.Container, rc *runtimeapi.Container) {
	if r.targets == nil {
		r.targets = map[string]probesTarget{}
	}
	host := ""
	if len(r.podIPs) > 0 {
		host = r.podIPs[0]
	}
	r.targets[c.Name] = probesTarget{ContainerID: rc.Id, Host: host, Container: c}
}

// needsKill says why a running container must be stopped now, if at all,
// with the grace period to use.
func (w *worker) needsKill(pod *corev1.Pod, c *corev1.Container, rc *runtimeapi.Container) (string, int64) {
	grace := podGrace(pod)
	probeGrace := func(p *corev1.Probe) int64 {
		if p != nil && p.TerminationGracePeriodSeconds != nil {
			return *p.TerminationGracePeriodSeconds
		}
		return grace
	}
	switch {
	case w.m.probes.Get(pod.UID, c.Name, probes.Liveness) == probes.Failure:
		return fmt.Sprintf("Container %s failed liveness probe, will be restarted", c.Name), probeGrace(c.LivenessProbe)
	case w.m.probes.Get(pod.UID, c.Name, probes.Startup) == probes.Failure:
		return fmt.Sprintf("Container %s failed startup probe, will be restarted", c.Name), probeGrace(c.StartupProbe)
	case rc.Annotations[cri.AnnotationImage] != "" && rc.Annotations[cri.AnnotationImage] != c.Image:
		return fmt.Sprintf("Container %s definition changed, will be restarted", c.Name), grace
	}
	return "", 0
}

// podGrace is terminationGracePeriodSeconds (30 s by default).
func podGrace(pod *corev1.Pod) int64 {
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return corev1.DefaultTerminationGracePeriodSeconds
}

// probedContainers are the containers whose probes run: app containers
// and sidecars.
func probedContainers(pod *corev1.Pod) []*corev1.Container {
	var out []*corev1.Container
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			out = append(out, &pod.Spec.InitContainers[i])
		}
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// collectGarbage keeps the two newest instances of each container (the
// current one and the previous, for lastState and `logs --previous`) and
// removes older ones, and removes old sandboxes left empty.
func (w *worker) collectGarbage(ctx context.Context, pod *corev1.Pod, state *cri.PodState) {
	seen := map[string]int{}
	used := map[string]bool{}
	for _, c := range state.Containers {
		name := c.Metadata.GetName()
		seen[name]++
		if seen[name] <= 2 || c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			used[c.PodSandboxId] = true
			continue
		}
		if _, err := w.m.cfg.Runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id}); err == nil {
			w.m.statuses.forget(c.Id)
		}
	}
	for i, sb := range state.Sandboxes {
		if i == 0 || used[sb.Id] {
			continue
		}
		_, _ = w.m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id})
		if _, err := w.m.cfg.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err == nil {
			delete(w.sandboxIPs, sb.Id)
		}
	}
}
