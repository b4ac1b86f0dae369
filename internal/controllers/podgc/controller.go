package podgc

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Name is the controller's name in the manager.
const Name = "podgc"

// Controller is the pod garbage collector.
type Controller struct {
	client    kubernetes.Interface
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	synced    []cache.InformerSynced
	threshold int
	period    time.Duration
	quarant   time.Duration
	log       *slog.Logger
	now       func() time.Time
	// missing maps a node name to when pods bound to it were first seen
	// without the node. Only the gc goroutine touches it.
	missing map[string]time.Time
}

// New returns the pod garbage collector.
func New(cc controller.Context) (controller.Controller, error) {
	opts := cc.Options.WithDefaults()
	pods, nodes := cc.Informers.Core().V1().Pods(), cc.Informers.Core().V1().Nodes()
	return &Controller{
		client: cc.Client, pods: pods.Lister(), nodes: nodes.Lister(),
		synced:    []cache.InformerSynced{pods.Informer().HasSynced, nodes.Informer().HasSynced},
		threshold: opts.TerminatedPodGCThreshold, period: opts.PodGCPeriod, quarant: opts.OrphanedPodQuarantine,
		log: cc.Logger.With("controller", Name), now: time.Now, missing: map[string]time.Time{},
	}, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run collects every period until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("%s: caches did not sync: %w", Name, ctx.Err())
	}
	wait.UntilWithContext(ctx, c.gc, c.period)
	return nil
}

func (c *Controller) gc(ctx context.Context) {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return
	}
	byName := make(map[string]*corev1.Node, len(nodes))
	for _, n := range nodes {
		byName[n.Name] = n
	}
	for _, p := range terminatedBeyond(pods, c.threshold) {
		c.forceDelete(ctx, p, "terminated pod beyond the threshold")
	}
	for _, p := range c.orphaned(ctx, pods, byName) {
		c.markFailed(ctx, p)
		c.forceDelete(ctx, p, "node no longer exists")
	}
	for _, p := range pods {
		if p.DeletionTimestamp == nil || len(p.Finalizers) > 0 {
			// Finalizers hold a pod whatever its grace period.
			continue
		}
		if p.Spec.NodeName == "" {
			c.forceDelete(ctx, p, "terminating pod never scheduled")
		} else if n := byName[p.Spec.NodeName]; n != nil && outOfService(n) {
			c.forceDelete(ctx, p, "terminating pod on an out-of-service node")
		}
	}
}

// terminatedBeyond returns the oldest terminated pods above threshold.
func terminatedBeyond(pods []*corev1.Pod, threshold int) []*corev1.Pod {
	if threshold <= 0 {
		return nil
	}
	var done []*corev1.Pod
	for _, p := range pods {
		if (p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed) && p.DeletionTimestamp == nil {
			done = append(done, p)
		}
	}
	if len(done) <= threshold {
		return nil
	}
	slices.SortFunc(done, func(a, b *corev1.Pod) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return done[:len(done)-threshold]
}

// orphaned returns the pods bound to nodes missing for the quarantine and
// confirmed absent by a live read.
func (c *Controller) orphaned(ctx context.Context, pods []*corev1.Pod, nodes map[string]*corev1.Node) []*corev1.Pod {
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if p.Spec.NodeName != "" && nodes[p.Spec.NodeName] == nil {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	now := c.now()
	for name := range c.missing {
		if _, ok := byNode[name]; !ok {
			delete(c.missing, name)
		}
	}
	var out []*corev1.Pod
	for name, ps := range byNode {
		first, seen := c.missing[name]
		if !seen {
			c.missing[name] = now
			continue
		}
		if now.Sub(first) < c.quarant {
			continue
		}
		_, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			delete(c.missing, name)
			continue
		}
		if !apierrors.IsNotFound(err) {
			continue
		}
		out = append(out, ps...)
	}
	return out
}

func outOfService(n *corev1.Node) bool {
	ready := false
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	return !ready && slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
		return t.Key == corev1.TaintNodeOutOfService && t.Effect == corev1.TaintEffectNoExecute
	})
}

// markFailed records why the pod goes, as upstream does before deleting
// an orphaned pod.
func (c *Controller) markFailed(ctx context.Context, p *corev1.Pod) {
	upd := p.DeepCopy()
	if upd.Status.Phase != corev1.PodSucceeded && upd.Status.Phase != corev1.PodFailed {
		upd.Status.Phase = corev1.PodFailed
	}
	now := metav1.NewTime(c.now())
	cond := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists", LastTransitionTime: now}
	upd.Status.Conditions = slices.DeleteFunc(upd.Status.Conditions, func(pc corev1.PodCondition) bool { return pc.Type == cond.Type })
	upd.Status.Conditions = append(upd.Status.Conditions, cond)
	if _, err := c.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		c.log.Debug("mark orphaned pod failed", "pod", p.Namespace+"/"+p.Name, "err", err)
	}
}

func (c *Controller) forceDelete(ctx context.Context, p *corev1.Pod, why string) {
	zero := int64(0)
	err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &p.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		c.log.Warn("pod garbage collection failed", "pod", p.Namespace+"/"+p.Name, "why", why, "err", err)
		return
	}
	if err == nil {
		c.log.Info("pod garbage collected", "pod", p.Namespace+"/"+p.Name, "why", why)
	}
}
