package schedtest

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// PodWrapper builds a pod.
type PodWrapper struct{ corev1.Pod }

// MakePod starts a pod in namespace "default" with priority 0.
func MakePod() *PodWrapper {
	p := &PodWrapper{}
	p.Pod.Namespace = "default"
	p.Spec.Priority = new(int32)
	p.Spec.SchedulerName = "default-scheduler"
	return p
}

// Obj returns the pod.
func (p *PodWrapper) Obj() *corev1.Pod { return &p.Pod }

// Name sets the name, and the UID to it when unset.
func (p *PodWrapper) Name(n string) *PodWrapper {
	p.Pod.Name = n
	if p.Pod.UID == "" {
		p.Pod.UID = types.UID(n)
	}
	return p
}

// UID sets the UID.
func (p *PodWrapper) UID(u string) *PodWrapper { p.Pod.UID = types.UID(u); return p }

// Namespace sets the namespace.
func (p *PodWrapper) Namespace(ns string) *PodWrapper { p.Pod.Namespace = ns; return p }

// Label sets one label.
func (p *PodWrapper) Label(k, v string) *PodWrapper {
	if p.Pod.Labels == nil {
		p.Pod.Labels = map[string]string{}
	}
	p.Pod.Labels[k] = v
	return p
}

// Labels sets labels.
func (p *PodWrapper) Labels(l map[string]string) *PodWrapper {
	for k, v := range l {
		p.Label(k, v)
	}
	return p
}

// Node binds the pod to a node.
func (p *PodWrapper) Node(n string) *PodWrapper { p.Spec.NodeName = n; return p }

// SchedulerName selects a profile.
func (p *PodWrapper) SchedulerName(n string) *PodWrapper { p.Spec.SchedulerName = n; return p }

// Priority sets spec.priority.
func (p *PodWrapper) Priority(v int32) *PodWrapper { p.Spec.Priority = &v; return p }

// PreemptionPolicy sets spec.preemptionPolicy.
func (p *PodWrapper) PreemptionPolicy(v corev1.PreemptionPolicy) *PodWrapper {
	p.Spec.PreemptionPolicy = &v
	return p
}

// NominatedNodeName sets status.nominatedNodeName.
func (p *PodWrapper) NominatedNodeName(n string) *PodWrapper {
	p.Status.NominatedNodeName = n
	return p
}

// StartTime sets status.startTime.
func (p *PodWrapper) StartTime(t time.Time) *PodWrapper {
	mt := metav1.NewTime(t)
	p.Status.StartTime = &mt
	return p
}

// Terminating sets a deletionTimestamp.
func (p *PodWrapper) Terminating() *PodWrapper {
	now := metav1.Now()
	p.DeletionTimestamp = &now
	return p
}

// OwnerReference adds a controller reference.
func (p *PodWrapper) OwnerReference(kind, name string) *PodWrapper {
	t := true
	p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: types.UID(name), Controller: &t})
	return p
}

// Req adds a container requesting the given amounts.
func (p *PodWrapper) Req(req map[corev1.ResourceName]string) *PodWrapper {
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: containerName(len(p.Spec.Containers)),
		Image: "pause", Resources: corev1.ResourceRequirements{Requests: list(req)}})
	return p
}

// Container adds a container requesting nothing.
func (p *PodWrapper) Container() *PodWrapper { return p.Req(nil) }

// InitReq adds an init container requesting the given amounts.
func (p *PodWrapper) InitReq(req map[corev1.ResourceName]string) *PodWrapper {
	p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init-" + containerName(len(p.Spec.InitContainers)),
		Image: "pause", Resources: corev1.ResourceRequirements{Requests: list(req)}})
	return p
}

// SidecarReq adds a restartable init container (a sidecar).
func (p *PodWrapper) SidecarReq(req map[corev1.ResourceName]string) *PodWrapper {
	always := corev1.ContainerRestartPolicyAlways
	p.InitReq(req)
	p.Spec.InitContainers[len(p.Spec.InitContainers)-1].RestartPolicy = &always
	return p
}

// Overhead sets spec.overhead.
func (p *PodWrapper) Overhead(req map[corev1.ResourceName]string) *PodWrapper {
	p.Spec.Overhead = list(req)
	return p
}

// HostPort adds a container port with a host port.
func (p *PodWrapper) HostPort(proto corev1.Protocol, ip string, port int32) *PodWrapper {
	if len(p.Spec.Containers) == 0 {
		p.Container()
	}
	c := &p.Spec.Containers[len(p.Spec.Containers)-1]
	c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: port, HostPort: port, HostIP: ip, Protocol: proto})
	return p
}

// NodeSelector sets spec.nodeSelector.
func (p *PodWrapper) NodeSelector(s map[string]string) *PodWrapper { p.Spec.NodeSelector = s; return p }

// Toleration adds a toleration (Equal, or Exists when value is empty).
func (p *PodWrapper) Toleration(key, value string, effect corev1.TaintEffect) *PodWrapper {
	op := corev1.TolerationOpEqual
	if value == "" {
		op = corev1.TolerationOpExists
	}
	p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	return p
}

// SchedulingGates sets spec.schedulingGates.
func (p *PodWrapper) SchedulingGates(names ...string) *PodWrapper {
	for _, n := range names {
		p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: n})
	}
	return p
}

func containerName(i int) string { return string(rune('a'+i)) + "-container" }

func list(req map[corev1.ResourceName]string) corev1.ResourceList {
	if req == nil {
		return nil
	}
	out := corev1.ResourceList{}
	for k, v := range req {
		out[k] = resource.MustParse(v)
	}
	return out
}
