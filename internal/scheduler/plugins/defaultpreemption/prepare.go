package defaultpreemption

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// prepare evicts the victims -- marking each with a DisruptionTarget
// condition first, as upstream does, so its controller knows why -- and
// takes the node's nomination from lower-priority pods, which must look
// elsewhere now.
func (p *DefaultPreemption) prepare(ctx context.Context, pod *corev1.Pod, c candidate) error {
	client := p.h.ClientSet()
	errs := make(chan error, len(c.victims))
	var wg sync.WaitGroup
	for _, v := range c.victims {
		wg.Add(1)
		go func(v *corev1.Pod) {
			defer wg.Done()
			errs <- p.evict(ctx, pod, v, c.node)
		}(v.Pod)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	prio := framework.PodPriority(pod)
	for _, n := range p.h.NominatedPodsForNode(c.node) {
		if n.Pod.UID == pod.UID || framework.PodPriority(n.Pod) >= prio {
			continue
		}
		patch := []byte(`{"status":{"nominatedNodeName":null}}`)
		_, err := client.CoreV1().Pods(n.Pod.Namespace).Patch(ctx, n.Pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("clearing nomination of %s/%s: %w", n.Pod.Namespace, n.Pod.Name, err)
		}
	}
	return nil
}

func (p *DefaultPreemption) evict(ctx context.Context, preemptor, victim *corev1.Pod, node string) error {
	pods := p.h.ClientSet().CoreV1().Pods(victim.Namespace)
	cond := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "PreemptionByScheduler",
		Message: fmt.Sprintf("%s: preempting to accommodate a higher priority pod", preemptor.Spec.SchedulerName), LastTransitionTime: metav1.Now()}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{cond}}})
	if err != nil {
		return err
	}
	if _, err := pods.Patch(ctx, victim.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("marking victim %s/%s: %w", victim.Namespace, victim.Name, err)
	}
	uid := victim.UID
	err = pods.Delete(ctx, victim.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("preempting %s/%s: %w", victim.Namespace, victim.Name, err)
	}
	if r := p.h.EventRecorder(); r != nil {
		r.Eventf(victim, preemptor, corev1.EventTypeNormal, "Preempted", "Preempting", "Preempted by pod %v on node %v", preemptor.UID, node)
	}
	return nil
}
