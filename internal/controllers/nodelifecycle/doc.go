// Package nodelifecycle watches node health and acts on it as upstream's
// node lifecycle and taint eviction controllers do:
//
//   - a node whose Lease (kube-node-lease) and status heartbeat are older
//     than NodeMonitorGracePeriod (NodeStartupGracePeriod for a node that
//     never posted status) gets Ready, MemoryPressure, DiskPressure and
//     PIDPressure set to Unknown (reason NodeStatusUnknown, "Kubelet
//     stopped posting node status."), and its pods get Ready=False;
//   - NoSchedule taints follow the node's conditions (not-ready,
//     unreachable, memory/disk/pid-pressure, network-unavailable,
//     unschedulable), and the NoExecute taints not-ready (Ready=False) and
//     unreachable (Ready=Unknown) are added at NodeEvictionRate per zone,
//     slower (SecondaryNodeEvictionRate, or not at all in small zones) when
//     most of a zone is unhealthy, and not at all when every zone is down
//     (the controller then assumes its own connectivity is at fault);
//   - a pod on a node with a NoExecute taint it does not tolerate is
//     deleted at once, and one it tolerates for tolerationSeconds is
//     deleted when that time has passed since the taint was added;
//   - taints go as soon as the node is healthy again.
//
// State kept in memory (when each heartbeat was last seen to change, the
// per-zone rate limiters) is rebuilt at start, with a full grace period
// for every node, so a restart can delay but never hasten an eviction.
package nodelifecycle
