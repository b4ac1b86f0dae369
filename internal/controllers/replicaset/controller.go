package replicaset

import (
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// Names of the two controllers this package provides.
const (
	Name   = "replicaset"
	RCName = "replicationcontroller"
)

// BurstReplicas caps the pods one sync creates or deletes, so that a huge
// scale-up yields the worker to other owners now and then.
const BurstReplicas = 500

// Controller syncs ReplicaSets or ReplicationControllers.
type Controller struct {
	*controller.Loop
	kind   *kind
	client podcontrol.Control
	// podIndex and ownerIndex have podcontrol.ControllerIndex.
	podIndex, ownerIndex cache.Indexer
	exp                  *expectations
	log                  *slog.Logger
	now                  func() time.Time
}

// New returns the ReplicaSet controller.
func New(cc controller.Context) (controller.Controller, error) {
	return newController(cc, replicaSetKind(cc))
}

// NewForRC returns the ReplicationController controller: the same logic
// over core/v1 ReplicationControllers.
func NewForRC(cc controller.Context) (controller.Controller, error) {
	return newController(cc, replicationControllerKind(cc))
}

func newController(cc controller.Context, k *kind) (*Controller, error) {
	pods := cc.Informers.Core().V1().Pods()
	c := &Controller{
		kind:   k,
		client: podcontrol.Control{Client: cc.Client, Recorder: cc.Recorder(k.component)},
		exp:    newExpectations(),
		log:    cc.Logger.With("controller", k.name),
		now:    time.Now,
	}
	c.Loop = controller.NewLoop(k.name, cc.Options.Workers, c.sync, cc.Logger)
	for _, inf := range []cache.SharedIndexInformer{pods.Informer(), k.informer} {
		if err := podcontrol.AddControllerIndex(inf); err != nil {
			return nil, err
		}
	}
	c.podIndex, c.ownerIndex = pods.Informer().GetIndexer(), k.informer.GetIndexer()
	if _, err := k.informer.AddEventHandler(c.Loop.Handler()); err != nil {
		return nil, err
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.addPod, UpdateFunc: c.updatePod, DeleteFunc: c.deletePod,
	}); err != nil {
		return nil, err
	}
	c.WaitFor(k.informer.HasSynced, pods.Informer().HasSynced)
	return c, nil
}

// ownerKey resolves a controller reference to the key of one of our
// owners in the cache, or "" when it is not ours.
func (c *Controller) ownerKey(ns string, ref *metav1.OwnerReference) string {
	if ref == nil || ref.Kind != c.kind.gvk.Kind || ref.APIVersion != c.kind.gvk.GroupVersion().String() {
		return ""
	}
	rs, _, err := c.kind.get(ns, ref.Name)
	if err != nil || rs.UID != ref.UID {
		return ""
	}
	return ns + "/" + ref.Name
}

func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		// Seen for the first time while already going away (e.g. after a
		// relist): it can only be a deletion we wait for.
		c.deletePod(pod)
		return
	}
	if key := c.ownerKey(pod.Namespace, metav1.GetControllerOfNoCopy(pod)); key != "" {
		c.exp.CreationObserved(key)
		c.Add(key)
		return
	}
	if metav1.GetControllerOfNoCopy(pod) == nil {
		c.enqueueMatching(pod)
	}
}

func (c *Controller) updatePod(oldObj, curObj any) {
	old, cur := oldObj.(*corev1.Pod), curObj.(*corev1.Pod)
	if old.ResourceVersion == cur.ResourceVersion {
		return // a resync
	}
	labelsChanged := !labels.Equals(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		c.deletePod(cur)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	if oldRef != nil && (curRef == nil || oldRef.UID != curRef.UID) {
		if key := c.ownerKey(old.Namespace, oldRef); key != "" {
			c.Add(key)
		}
	}
	if key := c.ownerKey(cur.Namespace, curRef); key != "" {
		c.Add(key)
		return
	}
	if curRef == nil && (labelsChanged || oldRef != nil) {
		c.enqueueMatching(cur)
	}
}

func (c *Controller) deletePod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if pod, ok = tomb.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	key := c.ownerKey(pod.Namespace, metav1.GetControllerOfNoCopy(pod))
	if key == "" {
		return
	}
	c.exp.deletionObserved(key, pod.Namespace+"/"+pod.Name)
	c.Add(key)
}

// enqueueMatching wakes the owners that might adopt an orphan.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	owners, err := c.kind.ofPod(pod)
	if err != nil {
		return // no owner matches
	}
	for _, rs := range owners {
		c.Add(rs.Namespace + "/" + rs.Name)
	}
}
