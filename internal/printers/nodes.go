package printers

import (
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Label conventions that name a node's roles.
const (
	roleLabelPrefix = "node-role.kubernetes.io/"
	legacyRoleLabel = "kubernetes.io/role"
)

func init() {
	register("", "nodes", typed[*corev1.Node]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("Status", "Readiness of the node, and whether it accepts new pods."),
			str("Roles", "Roles of the node, from node-role labels."),
			ageCol(),
			str("Version", "Kubelet version reported by the node."),
			wide("Internal-IP", "Internal IP of the node."),
			wide("External-IP", "External IP of the node."),
			wide("OS-Image", "OS image reported by the node."),
			wide("Kernel-Version", "Kernel version reported by the node."),
			wide("Container-Runtime", "Container runtime and version reported by the node."),
		},
		cells: nodeCells,
	})
}

func nodeCells(o *corev1.Node, now time.Time) ([]interface{}, error) {
	info := o.Status.NodeInfo
	return []interface{}{
		o.Name, nodeStatus(o), nodeRoles(o), age(o.ObjectMeta, now), info.KubeletVersion,
		nodeAddress(o, corev1.NodeInternalIP), nodeAddress(o, corev1.NodeExternalIP),
		orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion),
	}, nil
}

// nodeStatus is "Ready", "NotReady" (any non-true Ready condition) or
// "Unknown" (no Ready condition), plus ",SchedulingDisabled" when cordoned.
func nodeStatus(o *corev1.Node) string {
	status := "Unknown"
	for _, c := range o.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		status = "NotReady"
		if c.Status == corev1.ConditionTrue {
			status = "Ready"
		}
	}
	if o.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

func nodeRoles(o *corev1.Node) string {
	roles := map[string]bool{}
	for k, v := range o.Labels {
		switch {
		case strings.HasPrefix(k, roleLabelPrefix):
			if r := strings.TrimPrefix(k, roleLabelPrefix); r != "" {
				roles[r] = true
			}
		case k == legacyRoleLabel && v != "":
			roles[v] = true
		}
	}
	if len(roles) == 0 {
		return none
	}
	out := make([]string, 0, len(roles))
	for r := range roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func nodeAddress(o *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range o.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return none
}
