package scheduler

import (
	"maps"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// addHandlers wires the informers to the cache and the queue.
func (s *Scheduler) addHandlers() error {
	s.pods = s.podFactory.Core().V1().Pods().Lister()
	s.priorities = s.informers.Scheduling().V1().PriorityClasses().Lister()
	if _, err := s.podInformer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: s.onPodAdd, UpdateFunc: s.onPodUpdate, DeleteFunc: s.onPodDelete,
	}); err != nil {
		return err
	}
	if _, err := s.informers.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: s.onNodeAdd, UpdateFunc: s.onNodeUpdate, DeleteFunc: s.onNodeDelete,
	}); err != nil {
		return err
	}
	_, err := s.informers.Core().V1().Namespaces().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) {
			s.queue.MoveAllToActiveOrBackoff(framework.ClusterEvent{Resource: framework.NamespaceResource, ActionType: framework.Add, Label: "NamespaceAdd"}, nil)
		},
		UpdateFunc: func(old, cur any) {
			if !maps.Equal(old.(*corev1.Namespace).Labels, cur.(*corev1.Namespace).Labels) {
				s.queue.MoveAllToActiveOrBackoff(framework.ClusterEvent{Resource: framework.NamespaceResource, ActionType: framework.Update, Label: "NamespaceUpdate"}, nil)
			}
		},
	})
	return err
}

func (s *Scheduler) responsible(pod *corev1.Pod) bool {
	return s.profiles[pod.Spec.SchedulerName] != nil
}

func (s *Scheduler) onPodAdd(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	pod = s.withPriority(pod)
	if pod.Spec.NodeName != "" {
		s.addAssigned(pod)
		return
	}
	if s.responsible(pod) && pod.DeletionTimestamp == nil {
		s.queue.Add(framework.NewPodInfo(pod))
	}
}

func (s *Scheduler) addAssigned(pod *corev1.Pod) {
	if err := s.cache.AddPod(framework.NewPodInfo(pod)); err != nil {
		s.log.Error("scheduler cache: add pod", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
	s.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodAdd, nil)
}

func (s *Scheduler) onPodUpdate(oldObj, curObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := curObj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return
	}
	cur = s.withPriority(cur)
	switch {
	case cur.Spec.NodeName != "" && old.Spec.NodeName == "":
		s.queue.Delete(cur)
		s.addAssigned(cur)
	case cur.Spec.NodeName != "":
		if err := s.cache.UpdatePod(framework.NewPodInfo(cur)); err != nil {
			s.log.Error("scheduler cache: update pod", "pod", cur.Namespace+"/"+cur.Name, "err", err)
		}
		if ev, ok := assignedPodUpdate(old, cur); ok {
			s.queue.MoveAllToActiveOrBackoff(ev, nil)
		}
	case !s.responsible(cur) || cur.DeletionTimestamp != nil:
		s.queue.Delete(cur)
	case s.cache.IsAssumedPod(cur):
		// Being bound right now; the binding's update will follow.
	default:
		s.queue.Update(&framework.PodInfo{Pod: s.withPriority(old)}, framework.NewPodInfo(cur))
	}
}

// assignedPodUpdate classifies a change of a bound pod: its labels (pod
// affinity and spreading) or fewer requests (fit).
func assignedPodUpdate(old, cur *corev1.Pod) (framework.ClusterEvent, bool) {
	var a framework.ActionType
	if !maps.Equal(old.Labels, cur.Labels) {
		a |= framework.UpdatePodLabel
	}
	if o, c := framework.PodRequests(old, false), framework.PodRequests(cur, false); c.MilliCPU < o.MilliCPU || c.Memory < o.Memory {
		a |= framework.UpdatePodScaleDown
	}
	if cur.DeletionTimestamp != nil && old.DeletionTimestamp == nil {
		a |= framework.UpdatePodOther
	}
	return framework.ClusterEvent{Resource: framework.PodResource, ActionType: a, Label: "AssignedPodUpdate"}, a != 0
}

func (s *Scheduler) onPodDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	s.queue.Delete(pod)
	if _, cached := s.cache.GetPod(pod.UID); cached {
		if err := s.cache.RemovePod(pod); err != nil {
			s.log.Error("scheduler cache: remove pod", "pod", pod.Namespace+"/"+pod.Name, "err", err)
		}
		s.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodDelete, nil)
	}
}

func (s *Scheduler) onNodeAdd(obj any) {
	if n, ok := obj.(*corev1.Node); ok {
		s.cache.AddNode(n)
		s.queue.MoveAllToActiveOrBackoff(framework.EventNodeAdd, nil)
	}
}

func (s *Scheduler) onNodeUpdate(oldObj, curObj any) {
	old, ok1 := oldObj.(*corev1.Node)
	cur, ok2 := curObj.(*corev1.Node)
	if !ok1 || !ok2 {
		return
	}
	s.cache.UpdateNode(cur)
	if a := nodeUpdateAction(old, cur); a != 0 {
		s.queue.MoveAllToActiveOrBackoff(framework.ClusterEvent{Resource: framework.NodeResource, ActionType: a, Label: "NodeUpdate"}, nil)
	}
}

func (s *Scheduler) onNodeDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if n, ok := obj.(*corev1.Node); ok {
		s.cache.RemoveNode(n)
	}
}

// nodeUpdateAction says what changed in a node, ignoring heartbeats.
func nodeUpdateAction(old, cur *corev1.Node) framework.ActionType {
	var a framework.ActionType
	if !reflect.DeepEqual(old.Status.Allocatable, cur.Status.Allocatable) {
		a |= framework.UpdateNodeAllocatable
	}
	if !maps.Equal(old.Labels, cur.Labels) {
		a |= framework.UpdateNodeLabel
	}
	if old.Spec.Unschedulable != cur.Spec.Unschedulable || !reflect.DeepEqual(old.Spec.Taints, cur.Spec.Taints) {
		a |= framework.UpdateNodeTaint
	}
	if !sameConditions(old.Status.Conditions, cur.Status.Conditions) {
		a |= framework.UpdateNodeCondition
	}
	if !maps.Equal(old.Annotations, cur.Annotations) {
		a |= framework.UpdateNodeAnnotation
	}
	return a
}

func sameConditions(a, b []corev1.NodeCondition) bool {
	if len(a) != len(b) {
		return false
	}
	status := make(map[corev1.NodeConditionType]corev1.ConditionStatus, len(a))
	for _, c := range a {
		status[c.Type] = c.Status
	}
	for _, c := range b {
		if s, ok := status[c.Type]; !ok || s != c.Status {
			return false
		}
	}
	return true
}

// withPriority fills spec.priority from the pod's PriorityClass when the
// API did not (navarch's API server resolves only the no-class case), so
// that ordering and preemption see the class's value. The informer's
// object is not modified: a shallow copy carries the value.
func (s *Scheduler) withPriority(pod *corev1.Pod) *corev1.Pod {
	if pod.Spec.Priority != nil {
		return pod
	}
	var v int32
	if name := pod.Spec.PriorityClassName; name != "" {
		pc, err := s.priorities.Get(name)
		switch {
		case err == nil:
			v = pc.Value
		case apierrors.IsNotFound(err) && systemClasses[name] != 0:
			v = systemClasses[name]
		}
	} else if d := s.globalDefault(); d != nil {
		v = *d
	}
	c := *pod
	c.Spec.Priority = &v
	return &c
}

var systemClasses = map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}

func (s *Scheduler) globalDefault() *int32 {
	list, err := s.priorities.List(labels.Everything())
	if err != nil {
		return nil
	}
	for _, pc := range list {
		if pc.GlobalDefault {
			return &pc.Value
		}
	}
	return nil
}
