package pods

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
)

// relistLoop lists the runtime every RelistInterval (or when asked),
// wakes the workers of pods whose containers changed state, and cleans up
// what belongs to no pod.
func (m *Manager) relistLoop(ctx context.Context) {
	tick := time.NewTicker(m.cfg.RelistInterval)
	defer tick.Stop()
	for {
		if err := m.relistOnce(ctx); err != nil && ctx.Err() == nil {
			m.log.Debug("relist", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-m.relist:
		}
	}
}

func (m *Manager) relistOnce(ctx context.Context) error {
	sbs, err := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return err
	}
	cs, err := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return err
	}
	groups := cri.Group(sbs.Items, cs.Containers)
	known := m.knownPods()
	m.mu.Lock()
	for uid := range m.prints {
		if groups[uid] == nil {
			delete(m.prints, uid)
		}
	}
	var orphans []string
	for uid, st := range groups {
		fp := st.Fingerprint()
		changed := m.prints[uid] != fp
		m.prints[uid] = fp
		w := m.workers[types.UID(uid)]
		switch {
		case w != nil && changed:
			w.poke()
		case w == nil && !known[types.UID(uid)] && !m.cleaning[uid]:
			m.cleaning[uid] = true
			orphans = append(orphans, uid)
		}
	}
	m.mu.Unlock()
	for _, uid := range orphans {
		go m.cleanupOrphan(ctx, uid, groups[uid])
	}
	m.cleanupDirs(groups, known)
	return nil
}

// knownPods are the UIDs of the pods bound to this node.
func (m *Manager) knownPods() map[types.UID]bool {
	pods, _ := m.podLister.List(labels.Everything())
	out := make(map[types.UID]bool, len(pods))
	for _, p := range pods {
		out[p.UID] = true
	}
	return out
}

// cleanupOrphan stops and removes what the runtime holds for a pod that no
// longer exists (deleted while the agent was down, or forcibly). Only
// objects navarch created are touched.
func (m *Manager) cleanupOrphan(ctx context.Context, uid string, st *cri.PodState) {
	defer func() {
		m.mu.Lock()
		delete(m.cleaning, uid)
		m.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for _, c := range st.Containers {
		if c.Labels[cri.LabelManagedBy] != cri.ManagedByValue || c.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
			continue
		}
		grace, err := strconv.ParseInt(c.Annotations[cri.AnnotationGracePeriod], 10, 64)
		if err != nil {
			grace = minGrace
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = m.cfg.Runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.Id, Timeout: max(grace, minGrace)})
		}()
	}
	wg.Wait()
	var pod *corev1.Pod
	for _, sb := range st.Sandboxes {
		if sb.Labels[cri.LabelManagedBy] != cri.ManagedByValue {
			continue
		}
		pod = &corev1.Pod{}
		pod.Name, pod.Namespace, pod.UID = sb.Metadata.GetName(), sb.Metadata.GetNamespace(), types.UID(uid)
		_, _ = m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id})
		_, _ = m.cfg.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id})
	}
	for _, c := range st.Containers {
		if c.Labels[cri.LabelManagedBy] == cri.ManagedByValue {
			_, _ = m.cfg.Runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id})
			m.statuses.forget(c.Id)
		}
	}
	if pod == nil {
		return
	}
	m.log.Info("removed orphaned pod", "pod", pod.Namespace+"/"+pod.Name, "uid", uid)
	_ = m.volumes.Teardown(pod.UID)
	m.removeLogs(pod)
	for _, qos := range []string{"", "/burstable", "/besteffort"} {
		hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
		for _, h := range hierarchies {
			_ = os.Remove(filepath.Join(h, m.cfg.CgroupRoot+qos, "pod"+uid))
		}
	}
}

// cleanupDirs removes pod directories of pods that are gone and have
// nothing left in the runtime.
func (m *Manager) cleanupDirs(groups map[string]*cri.PodState, known map[types.UID]bool) {
	for _, uid := range m.volumes.PodUIDs() {
		if known[uid] || groups[string(uid)] != nil || m.hasWorker(uid) {
			continue
		}
		m.mu.Lock()
		busy := m.cleaning[string(uid)]
		m.mu.Unlock()
		if !busy {
			_ = m.volumes.Teardown(uid)
		}
	}
}

// removeRuntimeObjects removes every sandbox and container of a pod.
func (m *Manager) removeRuntimeObjects(ctx context.Context, uid types.UID) error {
	st, err := m.podState(ctx, uid)
	if err != nil {
		return err
	}
	for _, sb := range st.Sandboxes {
		if _, err := m.cfg.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil && !cri.IsNotFound(err) {
			return err
		}
	}
	for _, c := range st.Containers {
		if _, err := m.cfg.Runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id}); err != nil && !cri.IsNotFound(err) {
			return err
		}
		m.statuses.forget(c.Id)
	}
	return nil
}

// removeLogs deletes the pod's log directory.
func (m *Manager) removeLogs(pod *corev1.Pod) {
	_ = os.RemoveAll(filepath.Join(m.logsDir(), pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)))
}
