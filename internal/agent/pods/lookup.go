package pods

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/streaming"
)

// Lookups for the streaming server (logs, exec, attach, port-forward),
// answering as the kubelet does from the pod's status.

func (m *Manager) findPod(namespace, name string) (*corev1.Pod, *corev1.PodStatus, error) {
	pod, err := m.podLister.Pods(namespace).Get(name)
	if err != nil {
		return nil, nil, fmt.Errorf("pod %q in namespace %q: %w", name, namespace, streaming.ErrPodNotFound)
	}
	st := &pod.Status
	m.mu.Lock()
	w := m.workers[pod.UID]
	m.mu.Unlock()
	if w != nil {
		if s := w.lastSent(); s != nil {
			st = s
		}
	}
	return pod, st, nil
}

// SandboxID returns the pod's ready sandbox.
func (m *Manager) SandboxID(namespace, name string) (string, error) {
	pod, _, err := m.findPod(namespace, name)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := m.podState(ctx, pod.UID)
	if err != nil {
		return "", err
	}
	if sb := st.Latest(); sb != nil && sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
		return sb.Id, nil
	}
	return "", fmt.Errorf("pod %q is not running: no ready sandbox", name)
}

// ContainerID returns the runtime ID of a container: the running (or last
// exited) instance, or with previous the one before it.
func (m *Manager) ContainerID(namespace, name, container string, previous bool) (string, error) {
	pod, st, err := m.findPod(namespace, name)
	if err != nil {
		return "", err
	}
	var cs *corev1.ContainerStatus
	for _, list := range [][]corev1.ContainerStatus{st.ContainerStatuses, st.InitContainerStatuses, st.EphemeralContainerStatuses} {
		for i := range list {
			if list[i].Name == container {
				cs = &list[i]
			}
		}
	}
	if cs == nil {
		if specOf(pod, container) == nil {
			return "", fmt.Errorf("container %s is not valid for pod %s", container, name)
		}
		return "", fmt.Errorf("container %q in pod %q is waiting to start: ContainerCreating", container, name)
	}
	last := cs.LastTerminationState.Terminated
	switch {
	case previous:
		if last == nil || last.ContainerID == "" {
			return "", fmt.Errorf("previous terminated container %q in pod %q not found", container, name)
		}
		return stripRuntime(last.ContainerID), nil
	case cs.State.Running != nil:
		return stripRuntime(cs.ContainerID), nil
	case cs.State.Terminated != nil:
		if cs.State.Terminated.ContainerID == "" {
			return "", fmt.Errorf("container %q in pod %q is terminated", container, name)
		}
		return stripRuntime(cs.State.Terminated.ContainerID), nil
	case cs.State.Waiting != nil:
		if last != nil && last.ContainerID != "" {
			return stripRuntime(last.ContainerID), nil
		}
		return "", fmt.Errorf("container %q in pod %q is waiting to start: %s", container, name, cs.State.Waiting.Reason)
	}
	return "", fmt.Errorf("container %q in pod %q is not available", container, name)
}

func stripRuntime(id string) string {
	if _, rest, ok := strings.Cut(id, "://"); ok {
		return rest
	}
	return id
}

var _ streaming.Pods = (*Manager)(nil)
