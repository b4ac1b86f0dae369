// Package daemonset is the DaemonSet controller: one pod per eligible
// node.
//
// A node is eligible when the pod template's nodeSelector, required node
// affinity and tolerations admit it. Daemon pods tolerate what upstream
// adds to them: not-ready and unreachable (NoExecute), disk-, memory- and
// pid-pressure and unschedulable (NoSchedule), and network-unavailable for
// host-network pods; a pod keeps running on a node whose new NoSchedule
// taints it does not tolerate, but not under an untolerated NoExecute one.
// Pods are not bound here: each targets its node with required node
// affinity on metadata.name (matchFields), and the scheduler binds it.
//
// Every template is recorded as a ControllerRevision (package history);
// pods carry its controller-revision-hash label. RollingUpdate replaces
// old pods within maxUnavailable, or with maxSurge starts the new pod
// before deleting the old one; OnDelete only replaces pods users delete.
//
// It must not bind pods or touch pods it does not control.
package daemonset
