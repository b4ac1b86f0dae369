package pods

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/probes"
)

// minGrace is the shortest stop timeout, as the kubelet's: a process
// always gets a moment to handle SIGTERM.
const minGrace = 2

// killOne stops one container: preStop hook, then the stop signal, then
// SIGKILL once grace seconds have passed in all. msg explains why (the
// Killing event).
func (w *worker) killOne(ctx context.Context, pod *corev1.Pod, rc *runtimeapi.Container, grace int64, msg string) {
	name := rc.Metadata.GetName()
	if msg == "" {
		msg = "Stopping container " + name
	}
	if pod != nil {
		w.m.event(pod, name, corev1.EventTypeNormal, "Killing", "%s", msg)
	}
	deadline := time.Now().Add(time.Duration(grace) * time.Second)
	if spec := specOf(pod, name); spec != nil && spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil && rc.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
		hctx, cancel := context.WithDeadline(ctx, deadline)
		host := w.podIP()
		if err := w.runHook(hctx, spec.Lifecycle.PreStop, rc.Id, host, spec, grace); err != nil && pod != nil {
			w.m.event(pod, name, corev1.EventTypeWarning, "FailedPreStopHook", "%s", hookMessage(spec.Lifecycle.PreStop, spec, pod, err))
		}
		cancel()
	}
	timeout := max(int64(time.Until(deadline).Round(time.Second)/time.Second), minGrace)
	if grace <= 0 {
		timeout = 0
	}
	_, err := w.m.cfg.Runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: rc.Id, Timeout: timeout})
	if err != nil && !cri.IsNotFound(err) && ctx.Err() == nil {
		w.m.log.Warn("stop container", "id", rc.Id, "err", err)
	}
}

// hurry kills a pod's containers at once, beside a graceful stop still in
// progress: the deletion became forced or its grace period shorter.
func (m *Manager) hurry(ctx context.Context, uid types.UID) {
	state, err := m.podState(ctx, uid)
	if err != nil {
		return
	}
	for _, c := range state.Containers {
		if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			_, _ = m.cfg.Runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.Id, Timeout: 0})
		}
	}
}

func specOf(pod *corev1.Pod, name string) *corev1.Container {
	if pod == nil {
		return nil
	}
	for _, c := range allContainers(pod) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (w *worker) podIP() string {
	if w.sent != nil {
		return w.sent.PodIP
	}
	return ""
}

// killContainers stops every running container of the pod in parallel:
// app containers first, then sidecars, as upstream orders them.
func (w *worker) killContainers(ctx context.Context, pod *corev1.Pod, state *cri.PodState, grace int64, msg string) {
	var apps, sidecars []*runtimeapi.Container
	for _, c := range state.Containers {
		if c.State != runtimeapi.ContainerState_CONTAINER_RUNNING && c.State != runtimeapi.ContainerState_CONTAINER_CREATED {
			continue
		}
		if c.Annotations[cri.AnnotationInit] == "true" {
			sidecars = append(sidecars, c)
		} else {
			apps = append(apps, c)
		}
	}
	start := time.Now()
	for _, group := range [][]*runtimeapi.Container{apps, sidecars} {
		left := grace - int64(time.Since(start)/time.Second)
		if grace > 0 {
			left = max(left, 1)
		}
		var wg sync.WaitGroup
		for _, c := range group {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.killOne(ctx, pod, c, left, msg)
			}()
		}
		wg.Wait()
	}
}

// runHook runs a lifecycle handler (exec, httpGet, tcpSocket or sleep).
func (w *worker) runHook(ctx context.Context, h *corev1.LifecycleHandler, containerID, host string, c *corev1.Container, grace int64) error {
	switch {
	case h.Exec != nil:
		resp, err := w.m.cfg.Runtime.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: containerID, Cmd: h.Exec.Command, Timeout: grace})
		if err != nil {
			return err
		}
		if resp.ExitCode != 0 {
			return fmt.Errorf("command '%s' exited with %d: %s", strings.Join(h.Exec.Command, " "), resp.ExitCode, strings.TrimSpace(string(resp.Stdout)+string(resp.Stderr)))
		}
		return nil
	case h.HTTPGet != nil:
		return httpHook(ctx, h.HTTPGet, host, c)
	case h.TCPSocket != nil:
		port, err := probes.ResolvePort(h.TCPSocket.Port, c)
		if err != nil {
			return err
		}
		d := net.Dialer{}
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	case h.Sleep != nil:
		t := time.NewTimer(time.Duration(h.Sleep.Seconds) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return nil
	}
	return fmt.Errorf("lifecycle handler has no action")
}

func httpHook(ctx context.Context, g *corev1.HTTPGetAction, host string, c *corev1.Container) error {
	port, err := probes.ResolvePort(g.Port, c)
	if err != nil {
		return err
	}
	if g.Host != "" {
		host = g.Host
	}
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := g.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, strconv.Itoa(port))+path, nil)
	if err != nil {
		return err
	}
	for _, h := range g.HTTPHeaders {
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP lifecycle hook (%s) for Container %q returned status %d", path, c.Name, resp.StatusCode)
	}
	return nil
}

// hookMessage is the kubelet's text for a failed hook.
func hookMessage(h *corev1.LifecycleHandler, c *corev1.Container, pod *corev1.Pod, err error) string {
	if h.Exec != nil {
		return fmt.Sprintf("Exec lifecycle hook (%s) for Container %q in Pod %q failed - error: %v", h.Exec.Command, c.Name, podDesc(pod), err)
	}
	return fmt.Sprintf("Lifecycle hook for Container %q in Pod %q failed - error: %v", c.Name, podDesc(pod), err)
}

// deletionGrace is the grace period the deletion asked for.
func deletionGrace(pod *corev1.Pod) int64 {
	if pod.DeletionGracePeriodSeconds != nil {
		return *pod.DeletionGracePeriodSeconds
	}
	return podGrace(pod)
}

// remove stops everything of a pod and cleans up after it. When the API
// object still exists (graceful deletion) it reports the final status and
// then deletes the object with grace 0: that is the confirmation the API
// server waits for, sent only once the containers are gone.
func (w *worker) remove(ctx context.Context, pod *corev1.Pod, state *cri.PodState, graceful bool) (time.Duration, bool) {
	grace := int64(1)
	if graceful {
		grace = deletionGrace(pod)
	}
	w.killContainers(ctx, pod, state, grace, "")
	for _, sb := range state.Sandboxes {
		if _, err := w.m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil && !cri.IsNotFound(err) {
			return runtimeRetry, false
		}
	}
	if graceful {
		if st, err := w.m.podState(ctx, w.uid); err == nil {
			w.send(ctx, pod, w.finalStatus(ctx, pod, st))
		}
	}
	if err := w.m.removeRuntimeObjects(ctx, w.uid); err != nil {
		w.m.log.Warn("remove pod from runtime", "pod", podKey(pod), "err", err)
		return runtimeRetry, false
	}
	w.m.probes.Remove(w.uid)
	w.m.puller.Forget(string(w.uid))
	if err := w.m.volumes.Teardown(w.uid); err != nil {
		w.m.log.Warn("tear down volumes", "pod", podKey(pod), "err", err)
		return 2 * time.Second, false
	}
	if pod != nil {
		w.m.removeCgroups(pod)
		w.m.removeLogs(pod)
	}
	if !graceful {
		return 0, true
	}
	err := w.m.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		w.m.log.Warn("confirm pod deletion", "pod", podKey(pod), "err", err)
		return time.Second, false
	}
	w.m.log.Debug("pod removed", "pod", podKey(pod))
	return 0, true
}

// stayTerminated keeps a pod that reached Succeeded or Failed stopped:
// nothing runs and its sandbox is released, but its containers stay for
// their logs until the pod is deleted.
func (w *worker) stayTerminated(ctx context.Context, pod *corev1.Pod, state *cri.PodState) (time.Duration, bool) {
	w.terminated = true
	w.killContainers(ctx, pod, state, podGrace(pod), "")
	for _, sb := range state.Sandboxes {
		if sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			if _, err := w.m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil && !cri.IsNotFound(err) {
				return runtimeRetry, false
			}
		}
	}
	if st, err := w.m.podState(ctx, w.uid); err == nil {
		w.send(ctx, pod, w.finalStatus(ctx, pod, st))
	}
	w.m.probes.Remove(w.uid)
	return 0, false
}

// deadlineExceeded fails a pod that ran past activeDeadlineSeconds.
func (w *worker) deadlineExceeded(ctx context.Context, pod *corev1.Pod, state *cri.PodState) (time.Duration, bool) {
	if !w.terminated {
		w.m.event(pod, "", corev1.EventTypeNormal, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
	}
	w.terminated = true
	w.terminalReason = waitReason{"DeadlineExceeded", "Pod was active on the node longer than the specified deadline"}
	return w.stayTerminated(ctx, pod, state)
}
