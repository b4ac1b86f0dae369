package node

import (
	"context"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// status computes the NodeStatus to report now. Transition times are kept
// from the last report while a condition's status stays the same.
func (n *Node) status(ctx context.Context) *corev1.NodeStatus {
	res := n.machine.resources(n.cfg.MaxPods)
	n.mu.Lock()
	port := n.port
	prev := n.sent
	n.mu.Unlock()
	st := &corev1.NodeStatus{
		Capacity:    res,
		Allocatable: res.DeepCopy(),
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: n.cfg.IP.String()},
			{Type: corev1.NodeHostName, Address: n.cfg.Hostname},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: port}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID: n.machine.machineID, SystemUUID: n.machine.systemUUID, BootID: n.machine.bootID,
			KernelVersion: n.machine.kernel, OSImage: n.machine.osImage,
			ContainerRuntimeVersion: n.cfg.RuntimeVersion,
			KubeletVersion:          Version(), KubeProxyVersion: Version(),
			OperatingSystem: runtime.GOOS, Architecture: runtime.GOARCH,
		},
		Conditions: n.conditions(prev),
	}
	if n.cfg.Images != nil {
		st.Images = n.cfg.Images(ctx)
	}
	return st
}

func (n *Node) conditions(prev *corev1.NodeStatus) []corev1.NodeCondition {
	now := metav1.NewTime(time.Now())
	r := Readiness{Ready: true}
	if n.cfg.Readiness != nil {
		r = n.cfg.Readiness()
	}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"}
	if !r.Ready {
		ready.Status, ready.Reason, ready.Message = corev1.ConditionFalse, "KubeletNotReady", r.Message
	}
	conds := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		ready,
	}
	for i := range conds {
		conds[i].LastHeartbeatTime = now
		conds[i].LastTransitionTime = now
		if prev == nil {
			continue
		}
		for _, p := range prev.Conditions {
			if p.Type == conds[i].Type && p.Status == conds[i].Status {
				conds[i].LastTransitionTime = p.LastTransitionTime
			}
		}
	}
	return conds
}
