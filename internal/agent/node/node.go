package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"runtime"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"

	"github.com/navarch/navarch/internal/version"
)

// Readiness is what the rest of the agent says about the node's ability to
// run pods: Ready=false with a reason and message shows up in the Ready
// condition.
type Readiness struct {
	Ready   bool
	Message string
}

// Config configures the node reporter.
type Config struct {
	Client   kubernetes.Interface
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Name is the Node's name; Hostname its hostname address.
	Name, Hostname string
	// IP is the node's InternalIP.
	IP net.IP
	// DataDir is measured for ephemeral-storage capacity.
	DataDir string
	// MaxPods is the pods capacity.
	MaxPods int
	// Labels are added to the well-known ones on registration.
	Labels map[string]string
	// RuntimeVersion is reported in nodeInfo ("containerd://1.6.20").
	RuntimeVersion string
	// Readiness is polled at each status update.
	Readiness func() Readiness
	// Images lists the node's images for status.images (may be nil).
	Images func(ctx context.Context) []corev1.ContainerImage
	// StatusInterval is how often status is computed (and sent when it
	// changed); LeaseDuration is the Lease's length, renewed every quarter.
	StatusInterval, LeaseDuration time.Duration
}

// Node registers and reports one Node.
type Node struct {
	cfg     Config
	machine machine
	port    int32

	mu         sync.Mutex
	sent       *corev1.NodeStatus
	sentAt     time.Time
	lastReady  *bool
	trigger    chan struct{}
	registered *corev1.Node
}

// reportEvery is how often an unchanged status is sent anyway, so that
// lastHeartbeatTime moves as upstream's does (the Lease is the liveness
// signal).
const reportEvery = 5 * time.Minute

// New prepares the reporter; Register creates the Node.
func New(cfg Config) *Node {
	if cfg.StatusInterval == 0 {
		cfg.StatusInterval = 10 * time.Second
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = 40 * time.Second
	}
	if cfg.MaxPods == 0 {
		cfg.MaxPods = 110
	}
	return &Node{cfg: cfg, machine: readMachine(cfg.DataDir), trigger: make(chan struct{}, 1)}
}

// SetKubeletPort sets status.daemonEndpoints.kubeletEndpoint.port.
func (n *Node) SetKubeletPort(p int) {
	n.mu.Lock()
	n.port = int32(p)
	n.mu.Unlock()
	n.Trigger()
}

// Trigger asks for a status update now (readiness changed).
func (n *Node) Trigger() {
	select {
	case n.trigger <- struct{}{}:
	default:
	}
}

func (n *Node) labels() map[string]string {
	l := map[string]string{
		corev1.LabelHostname:      n.cfg.Name,
		corev1.LabelOSStable:      runtime.GOOS,
		corev1.LabelArchStable:    runtime.GOARCH,
		"beta.kubernetes.io/os":   runtime.GOOS,
		"beta.kubernetes.io/arch": runtime.GOARCH,
	}
	for k, v := range n.cfg.Labels {
		l[k] = v
	}
	return l
}

// Register creates the Node, or takes over an existing one with the same
// name (an agent restart, or a machine re-joining), making sure its labels
// are there. It retries until ctx ends: the API may not be up yet.
func (n *Node) Register(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := n.register(ctx)
		if err == nil {
			return nil
		}
		n.cfg.Logger.Warn("register node", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (n *Node) register(ctx context.Context) error {
	nodes := n.cfg.Client.CoreV1().Nodes()
	obj := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.cfg.Name, Labels: n.labels(),
		Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}}}
	created, err := nodes.Create(ctx, obj, metav1.CreateOptions{})
	if err == nil {
		n.cfg.Logger.Info("node registered")
		n.setRegistered(created)
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	cur, err := nodes.Get(ctx, n.cfg.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	missing := map[string]string{}
	for k, v := range n.labels() {
		if cur.Labels[k] != v {
			missing[k] = v
		}
	}
	if len(missing) > 0 {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": missing}})
		if cur, err = nodes.Patch(ctx, n.cfg.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return err
		}
	}
	n.setRegistered(cur)
	return nil
}

func (n *Node) setRegistered(obj *corev1.Node) {
	n.mu.Lock()
	n.registered = obj
	n.mu.Unlock()
}

// Ref is the object node events are about; the kubelet uses the node name
// as the UID, as events must name a node even before it is fetched.
func (n *Node) Ref() *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: n.cfg.Name, UID: types.UID(n.cfg.Name)}
}

// WaitPodCIDR returns spec.podCIDR once the node IPAM controller set it.
func (n *Node) WaitPodCIDR(ctx context.Context) (string, error) {
	nodes := n.cfg.Client.CoreV1().Nodes()
	logged := false
	for {
		cur, err := nodes.Get(ctx, n.cfg.Name, metav1.GetOptions{})
		if err == nil && cur.Spec.PodCIDR != "" {
			return cur.Spec.PodCIDR, nil
		}
		if !logged {
			n.cfg.Logger.Info("waiting for the node's pod CIDR (spec.podCIDR, set by the node IPAM controller; --pod-cidr overrides)")
			logged = true
		}
		var rv string
		if cur != nil {
			rv = cur.ResourceVersion
		}
		w, err := nodes.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", n.cfg.Name).String(), ResourceVersion: rv})
		if err != nil {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Second):
			}
			continue
		}
		cidr := waitCIDR(ctx, w)
		w.Stop()
		if cidr != "" {
			return cidr, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
}

func waitCIDR(ctx context.Context, w watch.Interface) string {
	for {
		select {
		case <-ctx.Done():
			return ""
		case ev, ok := <-w.ResultChan():
			if !ok {
				return ""
			}
			if obj, ok := ev.Object.(*corev1.Node); ok && obj.Spec.PodCIDR != "" {
				return obj.Spec.PodCIDR
			}
		}
	}
}

// Run reports status and renews the Lease until ctx ends.
func (n *Node) Run(ctx context.Context) {
	go n.runLease(ctx)
	tick := time.NewTicker(n.cfg.StatusInterval)
	defer tick.Stop()
	for {
		if err := n.updateStatus(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("update node status", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.trigger:
		}
	}
}

// updateStatus sends the status when it changed, or every reportEvery.
func (n *Node) updateStatus(ctx context.Context) error {
	st := n.status(ctx)
	n.mu.Lock()
	same := n.sent != nil && sameStatus(n.sent, st) && time.Since(n.sentAt) < reportEvery
	n.mu.Unlock()
	if same && n.readyAsSent(ctx, st) {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"status": st})
	if err != nil {
		return err
	}
	if _, err := n.cfg.Client.CoreV1().Nodes().Patch(ctx, n.cfg.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		if apierrors.IsNotFound(err) {
			// Deleted under us: register again, as the kubelet does.
			if err := n.register(ctx); err != nil {
				return err
			}
		}
		return fmt.Errorf("patch node status: %w", err)
	}
	n.mu.Lock()
	n.sent, n.sentAt = st, time.Now()
	n.mu.Unlock()
	n.readyEvent(st)
	return nil
}

// readyEvent records NodeReady/NodeNotReady when readiness flips.
// readyAsSent checks the Node's Ready condition in the API (from the watch
// cache): the node lifecycle controller sets it to Unknown while the node
// is cut off, and the agent must post again once it is back, as the
// kubelet does.
func (n *Node) readyAsSent(ctx context.Context, st *corev1.NodeStatus) bool {
	cur, err := n.cfg.Client.CoreV1().Nodes().Get(ctx, n.cfg.Name, metav1.GetOptions{ResourceVersion: "0"})
	if err != nil {
		return true
	}
	return readyStatus(cur.Status.Conditions) == readyStatus(st.Conditions)
}

func readyStatus(conds []corev1.NodeCondition) corev1.ConditionStatus {
	for _, c := range conds {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return ""
}

func (n *Node) readyEvent(st *corev1.NodeStatus) {
	ready := false
	for _, c := range st.Conditions {
		if c.Type == corev1.NodeReady {
			ready = c.Status == corev1.ConditionTrue
		}
	}
	n.mu.Lock()
	prev := n.lastReady
	n.lastReady = &ready
	n.mu.Unlock()
	if prev != nil && *prev == ready {
		return
	}
	if ready {
		n.cfg.Recorder.Eventf(n.Ref(), corev1.EventTypeNormal, "NodeReady", "Node %s status is now: NodeReady", n.cfg.Name)
	} else if prev != nil {
		n.cfg.Recorder.Eventf(n.Ref(), corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", n.cfg.Name)
	}
}

// sameStatus compares two statuses ignoring condition timestamps.
func sameStatus(a, b *corev1.NodeStatus) bool {
	strip := func(s *corev1.NodeStatus) *corev1.NodeStatus {
		c := s.DeepCopy()
		for i := range c.Conditions {
			c.Conditions[i].LastHeartbeatTime = metav1.Time{}
			c.Conditions[i].LastTransitionTime = metav1.Time{}
		}
		return c
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// Ready reports whether the last sent status said Ready.
func (n *Node) Ready() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastReady != nil && *n.lastReady
}

// Version is the kubelet version reported in nodeInfo.
func Version() string { return version.GitVersion }
