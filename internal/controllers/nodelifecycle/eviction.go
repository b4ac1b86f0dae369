package nodelifecycle

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// syncPod evicts a pod that has outstayed its welcome on a node with
// NoExecute taints, or schedules a later look when it has not yet.
func (c *Controller) syncPod(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if err != nil || pod.DeletionTimestamp != nil || pod.Spec.NodeName == "" {
		c.cancel(key, pod)
		return controller.Result{}, nil
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if err != nil {
		c.cancel(key, pod)
		return controller.Result{}, nil
	}
	taints := noExecuteTaints(node.Spec.Taints)
	delay, evict := evictionDelay(pod.Spec.Tolerations, taints)
	if len(taints) == 0 || !evict {
		c.cancel(key, pod)
		return controller.Result{}, nil
	}
	now := c.now()
	at := taintedSince(pod, taints, c.seen(key, now)).Add(delay)
	if now.Before(at) {
		c.mu.Lock()
		c.scheduled[key] = at
		c.mu.Unlock()
		return controller.Result{RequeueAfter: at.Sub(now)}, nil
	}
	return controller.Result{}, c.evictPod(ctx, key, pod)
}

// seen returns when key was first seen needing eviction (for taints that
// carry no TimeAdded).
func (c *Controller) seen(key string, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.firstSeen[key]; ok {
		return t
	}
	c.firstSeen[key] = now
	return now
}

// cancel forgets a scheduled eviction, telling the pod's owner why it
// stays when one was pending.
func (c *Controller) cancel(key string, pod *corev1.Pod) {
	c.mu.Lock()
	_, was := c.scheduled[key]
	delete(c.scheduled, key)
	delete(c.firstSeen, key)
	c.mu.Unlock()
	if was && pod != nil && pod.DeletionTimestamp == nil {
		c.recorder.Eventf(pod, corev1.EventTypeNormal, "TaintManagerEviction", "Cancelling deletion of Pod %s", key)
	}
}

// evictPod records why the pod goes, then deletes it with its own grace
// period so that its controller replaces it elsewhere.
func (c *Controller) evictPod(ctx context.Context, key string, pod *corev1.Pod) error {
	c.mu.Lock()
	delete(c.scheduled, key)
	delete(c.firstSeen, key)
	c.mu.Unlock()
	c.recorder.Eventf(pod, corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s", key)
	upd := pod.DeepCopy()
	cond := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "DeletionByTaintManager", Message: "Taint manager: deleting due to NoExecute taint",
		LastTransitionTime: metav1.NewTime(c.now())}
	upd.Status.Conditions = slices.DeleteFunc(upd.Status.Conditions, func(pc corev1.PodCondition) bool { return pc.Type == cond.Type })
	upd.Status.Conditions = append(upd.Status.Conditions, cond)
	if _, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) {
			c.log.Debug("cannot add DisruptionTarget before eviction", "pod", key, "err", err)
		}
	}
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if err == nil || apierrors.IsNotFound(err) {
		c.log.Info("pod evicted from tainted node", "pod", key, "node", pod.Spec.NodeName)
		return nil
	}
	return fmt.Errorf("evict pod %s: %w", key, err)
}
