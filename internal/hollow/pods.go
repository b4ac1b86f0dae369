package hollow

import (
	"context"
	"fmt"
	"hash/fnv"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

const byNode = "node"

// podRunner "runs" the pods bound to the Cluster's nodes. One informer
// watches every bound pod; pods of other nodes are ignored.
type podRunner struct {
	c        *Cluster
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
}

func (c *Cluster) startPods(ctx context.Context) error {
	f := informers.NewSharedInformerFactoryWithOptions(c.cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "spec.nodeName!=" }))
	inf := f.Core().V1().Pods().Informer()
	if err := inf.AddIndexers(cache.Indexers{byNode: func(obj any) ([]string, error) {
		return []string{obj.(*corev1.Pod).Spec.NodeName}, nil
	}}); err != nil {
		return err
	}
	r := &podRunner{c: c, factory: f, informer: inf}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    r.onChange,
		UpdateFunc: func(_, obj any) { r.onChange(obj) },
		DeleteFunc: r.onDelete,
	}); err != nil {
		return err
	}
	c.pods = r
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("hollow: pod informer did not sync: %w", context.Cause(ctx))
	}
	return nil
}

func (r *podRunner) onChange(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || r.c.nodes[pod.Spec.NodeName] == nil || !needsWork(pod) {
		return
	}
	if key, err := cache.MetaNamespaceKeyFunc(pod); err == nil {
		r.c.queue.Add(task{syncPod, key})
	}
}

func (r *podRunner) onDelete(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		if n := r.c.nodes[pod.Spec.NodeName]; n != nil {
			n.mu.Lock()
			n.ips.release(pod.UID)
			n.mu.Unlock()
		}
	}
}

// resync queues every pod of node, after its heartbeat resumed.
func (r *podRunner) resync(node string) {
	objs, _ := r.informer.GetIndexer().ByIndex(byNode, node)
	for _, obj := range objs {
		r.onChange(obj)
	}
}

// needsWork: a pod being deleted, or one not yet reported running.
func needsWork(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil {
		return true
	}
	switch pod.Status.Phase {
	case corev1.PodRunning:
		return pod.Status.PodIP == "" || !conditionTrue(pod.Status.Conditions, corev1.PodReady)
	case corev1.PodSucceeded, corev1.PodFailed:
		return false
	}
	return true
}

func conditionTrue(conds []corev1.PodCondition, t corev1.PodConditionType) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// sync brings one pod to where the kubelet would: running, or gone.
func (r *podRunner) sync(ctx context.Context, key string) error {
	obj, exists, err := r.informer.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	pod := obj.(*corev1.Pod)
	n := r.c.nodes[pod.Spec.NodeName]
	if n == nil || !n.heartbeating() || !needsWork(pod) {
		return nil
	}
	if err := r.c.write(ctx); err != nil {
		return err
	}
	pods := r.c.cfg.Client.CoreV1().Pods(pod.Namespace)
	if pod.DeletionTimestamp != nil {
		// The containers are "stopped": confirm the deletion as the
		// kubelet does, for exactly this pod.
		err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64),
			Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	upd := pod.DeepCopy()
	upd.Status = r.runningStatus(pod, n, time.Now())
	_, err = pods.UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	// A conflict means the informer will deliver a newer pod; the retry
	// then starts from it.
	return err
}

// runningStatus is the status of pod with all its containers started.
func (r *podRunner) runningStatus(pod *corev1.Pod, n *node, now time.Time) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	t := metav1.NewTime(now)
	st.Phase = corev1.PodRunning
	st.HostIP, st.HostIPs = n.ip, []corev1.HostIP{{IP: n.ip}}
	if st.PodIP == "" {
		ip := n.ip
		if !pod.Spec.HostNetwork {
			n.mu.Lock()
			ip = n.ips.assign(pod.UID, n.podCIDR, n.index)
			n.mu.Unlock()
		}
		st.PodIP, st.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	if st.StartTime == nil {
		st.StartTime = &t
	}
	for _, ct := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized,
		corev1.ContainersReady, corev1.PodReady, corev1.PodScheduled} {
		st.Conditions = setCondition(st.Conditions, ct, t)
	}
	st.InitContainerStatuses = containerStatuses(pod.UID, pod.Spec.InitContainers, true, t)
	st.ContainerStatuses = containerStatuses(pod.UID, pod.Spec.Containers, false, t)
	return st
}

func setCondition(conds []corev1.PodCondition, ct corev1.PodConditionType, t metav1.Time) []corev1.PodCondition {
	for i := range conds {
		if conds[i].Type == ct {
			if conds[i].Status != corev1.ConditionTrue {
				conds[i] = corev1.PodCondition{Type: ct, Status: corev1.ConditionTrue, LastTransitionTime: t}
			}
			return conds
		}
	}
	return append(conds, corev1.PodCondition{Type: ct, Status: corev1.ConditionTrue, LastTransitionTime: t})
}

// containerStatuses reports containers running; init containers have run
// to completion, except sidecars (restartPolicy Always), which keep running.
func containerStatuses(uid types.UID, cs []corev1.Container, init bool, t metav1.Time) []corev1.ContainerStatus {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, 0, len(cs))
	for _, c := range cs {
		s := corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "hollow://" + c.Image,
			ContainerID: fmt.Sprintf("hollow://%x", hash(string(uid)+"/"+c.Name)),
			Started:     new(bool), Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t}},
		}
		*s.Started = true
		if init && (c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
			*s.Started = false
			s.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: t, FinishedAt: t, ContainerID: s.ContainerID}}
		}
		out = append(out, s)
	}
	return out
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// ipPool hands out pod IPs from a node's /24: its spec.podCIDR when the
// IPAM controller set one, otherwise 10.128.0.0/9 carved by node index.
type ipPool struct {
	used  map[types.UID]byte
	taken [256]bool
	next  int
}

func (p *ipPool) assign(uid types.UID, cidr string, index int) string {
	if p.used == nil {
		p.used = map[types.UID]byte{}
	}
	base := poolBase(cidr, index)
	if off, ok := p.used[uid]; ok {
		return ipAt(base, off)
	}
	for range 253 {
		off := byte(2 + p.next%253) // skip the network and gateway addresses
		p.next++
		if !p.taken[off] {
			p.taken[off] = true
			p.used[uid] = off
			return ipAt(base, off)
		}
	}
	return ipAt(base, byte(2+p.next%253)) // full: share, as a simulator may
}

func (p *ipPool) release(uid types.UID) {
	if off, ok := p.used[uid]; ok {
		p.taken[off] = false
		delete(p.used, uid)
	}
}

func poolBase(cidr string, index int) net.IP {
	if _, n, err := net.ParseCIDR(cidr); err == nil && n.IP.To4() != nil {
		return n.IP.To4()
	}
	return net.IPv4(10, byte(128+(index>>8)&127), byte(index), 0).To4()
}

func ipAt(base net.IP, off byte) string {
	ip := append(net.IP(nil), base...)
	ip[3] = off
	return ip.String()
}
