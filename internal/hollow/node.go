package hollow

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/navarch/navarch/internal/version"
)

// kubeletPort is what daemonEndpoints advertise, as a real kubelet does.
const kubeletPort = 10250

// node is the state of one hollow node. Fields after mu are guarded by it.
type node struct {
	name  string
	index int
	ip    string

	mu        sync.Mutex
	heartbeat bool
	uid       types.UID
	podCIDR   string
	lease     *coordinationv1.Lease
	ips       ipPool
}

func newNode(prefix string, i int) *node {
	return &node{name: prefix + strconv.Itoa(i), index: i, ip: nodeIP(i), heartbeat: true}
}

// nodeIP gives node i a distinct address in 100.64.0.0/10 (shared address
// space, so it can clash with nothing on a real network).
func nodeIP(i int) string {
	ip := make(net.IP, 4)
	base := uint32(100)<<24 | uint32(64)<<16
	binary.BigEndian.PutUint32(ip, base+uint32(i)+1)
	return ip.String()
}

// setHeartbeat switches the heartbeat and reports whether it changed.
func (n *node) setHeartbeat(on bool) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	changed := n.heartbeat != on
	n.heartbeat = on
	return changed
}

func (n *node) heartbeating() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.heartbeat
}

// nodeObject is what the kubelet registers.
func (c *Cluster) nodeObject(n *node) *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname:      n.name,
		corev1.LabelOSStable:      "linux",
		corev1.LabelArchStable:    runtime.GOARCH,
		"beta.kubernetes.io/os":   "linux",
		"beta.kubernetes.io/arch": runtime.GOARCH,
	}
	if c.cfg.Labels != nil {
		for k, v := range c.cfg.Labels(n.index) {
			labels[k] = v
		}
	}
	obj := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: labels,
			Annotations: map[string]string{"volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
		Status: c.nodeStatus(n, nil, time.Now()),
	}
	if c.cfg.Taints != nil {
		obj.Spec.Taints = c.cfg.Taints(n.index)
	}
	return obj
}

// nodeStatus is the status the node reports now; transition times of
// conditions whose status did not change are kept from old.
func (c *Cluster) nodeStatus(n *node, old []corev1.NodeCondition, now time.Time) corev1.NodeStatus {
	return corev1.NodeStatus{
		Capacity:    c.cfg.Capacity.DeepCopy(),
		Allocatable: c.cfg.Capacity.DeepCopy(),
		Conditions:  conditions(old, now),
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: n.ip},
			{Type: corev1.NodeHostName, Address: n.name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: kubeletPort}},
		NodeInfo:        nodeInfo(n.name),
	}
}

// conditions are a healthy kubelet's, with its reasons and messages.
func conditions(old []corev1.NodeCondition, now time.Time) []corev1.NodeCondition {
	want := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
	}
	t := metav1.NewTime(now)
	for i := range want {
		want[i].LastHeartbeatTime, want[i].LastTransitionTime = t, t
		for _, o := range old {
			if o.Type == want[i].Type && o.Status == want[i].Status && !o.LastTransitionTime.IsZero() {
				want[i].LastTransitionTime = o.LastTransitionTime
			}
		}
	}
	return want
}

// nodeInfo derives stable identifiers from the node name, so a restarted
// hollow node reports the same machine.
func nodeInfo(name string) corev1.NodeSystemInfo {
	h := fnv.New128a()
	h.Write([]byte(name))
	sum := h.Sum(nil)
	id := fmt.Sprintf("%x", sum)
	uuid := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	return corev1.NodeSystemInfo{
		MachineID: id, SystemUUID: uuid, BootID: uuid,
		KernelVersion: "6.1.0-hollow", OSImage: "navarch hollow node",
		ContainerRuntimeVersion: "hollow://" + version.Kubernetes,
		KubeletVersion:          version.Kubernetes,
		OperatingSystem:         "linux", Architecture: runtime.GOARCH,
	}
}

// register creates the Node (or takes over an existing one, as a
// restarted kubelet does) and its first Lease.
func (c *Cluster) register(ctx context.Context, n *node) error {
	if err := c.write(ctx); err != nil {
		return err
	}
	nodes := c.cfg.Client.CoreV1().Nodes()
	obj, err := nodes.Create(ctx, c.nodeObject(n), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if obj, err = nodes.Get(ctx, n.name, metav1.GetOptions{}); err == nil {
			err = c.patchStatus(ctx, n, obj)
		}
	}
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.uid, n.podCIDR = obj.UID, obj.Spec.PodCIDR
	n.mu.Unlock()
	return c.renewLease(ctx, n)
}

// report posts the full node status, then schedules the next report.
func (c *Cluster) report(ctx context.Context, name string) error {
	n := c.nodes[name]
	if !n.heartbeating() {
		return nil // ResumeHeartbeat reports again
	}
	cur, err := c.cfg.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		// Like a kubelet whose Node was deleted: keep trying later, but
		// do not register again behind the deleter's back.
		c.cfg.Logger.Warn("hollow node not found", "node", name)
		c.queue.AddAfter(task{postStatus, name}, c.cfg.StatusInterval)
		return nil
	}
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.uid, n.podCIDR = cur.UID, cur.Spec.PodCIDR
	n.mu.Unlock()
	if err := c.patchStatus(ctx, n, cur); err != nil {
		return err
	}
	c.queue.AddAfter(task{postStatus, name}, c.cfg.StatusInterval)
	return nil
}

// patchStatus sends the status as a strategic merge patch, as the kubelet
// does, so that conditions other writers added survive.
func (c *Cluster) patchStatus(ctx context.Context, n *node, cur *corev1.Node) error {
	st := c.nodeStatus(n, cur.Status.Conditions, time.Now())
	body, err := json.Marshal(map[string]any{"status": st})
	if err != nil {
		return err
	}
	if err := c.write(ctx); err != nil {
		return err
	}
	_, err = c.cfg.Client.CoreV1().Nodes().Patch(ctx, n.name, types.StrategicMergePatchType, body, metav1.PatchOptions{}, "status")
	return err
}
