package deployment

import (
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// Name is the controller's name in --disable-controllers.
const Name = "deployment"

var (
	deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")
	rsKind         = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
)

// Controller syncs Deployments.
type Controller struct {
	*controller.Loop
	client      kubernetes.Interface
	recorder    record.EventRecorder
	deployments appslisters.DeploymentLister
	rss         appslisters.ReplicaSetLister
	// rsIndex and podIndex have podcontrol.ControllerIndex.
	rsIndex, podIndex cache.Indexer
	log               *slog.Logger
	now               func() time.Time
}

// New returns the Deployment controller.
func New(cc controller.Context) (controller.Controller, error) {
	d := cc.Informers.Apps().V1().Deployments()
	rs := cc.Informers.Apps().V1().ReplicaSets()
	pods := cc.Informers.Core().V1().Pods()
	c := &Controller{
		client: cc.Client, recorder: cc.Recorder("deployment-controller"),
		deployments: d.Lister(), rss: rs.Lister(),
		log: cc.Logger.With("controller", Name), now: time.Now,
	}
	c.Loop = controller.NewLoop(Name, cc.Options.Workers, c.sync, cc.Logger)
	for _, inf := range []cache.SharedIndexInformer{rs.Informer(), pods.Informer()} {
		if err := podcontrol.AddControllerIndex(inf); err != nil {
			return nil, err
		}
	}
	c.rsIndex, c.podIndex = rs.Informer().GetIndexer(), pods.Informer().GetIndexer()
	if _, err := d.Informer().AddEventHandler(c.Loop.Handler()); err != nil {
		return nil, err
	}
	if _, err := rs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.addRS, UpdateFunc: c.updateRS, DeleteFunc: c.deleteRS,
	}); err != nil {
		return nil, err
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.deletePod}); err != nil {
		return nil, err
	}
	c.WaitFor(d.Informer().HasSynced, rs.Informer().HasSynced, pods.Informer().HasSynced)
	return c, nil
}

// ownerKey resolves a ReplicaSet's controller reference to one of our
// Deployments' keys, or "".
func (c *Controller) ownerKey(ns string, ref *metav1.OwnerReference) string {
	if ref == nil || ref.Kind != deploymentKind.Kind || ref.APIVersion != deploymentKind.GroupVersion().String() {
		return ""
	}
	d, err := c.deployments.Deployments(ns).Get(ref.Name)
	if err != nil || d.UID != ref.UID {
		return ""
	}
	return ns + "/" + ref.Name
}

func (c *Controller) addRS(obj any) {
	rs := obj.(*appsv1.ReplicaSet)
	if key := c.ownerKey(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); key != "" {
		c.Add(key)
		return
	}
	if metav1.GetControllerOfNoCopy(rs) == nil {
		c.enqueueMatching(rs)
	}
}

func (c *Controller) updateRS(oldObj, curObj any) {
	old, cur := oldObj.(*appsv1.ReplicaSet), curObj.(*appsv1.ReplicaSet)
	if old.ResourceVersion == cur.ResourceVersion {
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
	if curRef == nil && (!labels.Equals(old.Labels, cur.Labels) || oldRef != nil) {
		c.enqueueMatching(cur)
	}
}

func (c *Controller) deleteRS(obj any) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if rs, ok = tomb.Obj.(*appsv1.ReplicaSet); !ok {
			return
		}
	}
	if key := c.ownerKey(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); key != "" {
		c.Add(key)
	}
}

// deletePod wakes a Recreate Deployment waiting for its old pods to go.
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
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != rsKind.Kind {
		return
	}
	rs, err := c.rss.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	ctl := metav1.GetControllerOfNoCopy(rs)
	key := c.ownerKey(rs.Namespace, ctl)
	if key == "" {
		return
	}
	if d, err := c.deployments.Deployments(rs.Namespace).Get(ctl.Name); err == nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		c.Add(key)
	}
}

// enqueueMatching wakes the Deployments that might adopt an orphan RS.
func (c *Controller) enqueueMatching(rs *appsv1.ReplicaSet) {
	ds, err := c.deployments.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(rs.Labels)) {
			c.Add(d.Namespace + "/" + d.Name)
		}
	}
}
