package job

import (
	"context"
	"log/slog"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// Name is the controller's name in the manager and its events' source.
const Name = "job-controller"

// managedBy is the spec.managedBy value (or none) this controller serves.
const managedBy = "kubernetes.io/job-controller"

var kind = batchv1.SchemeGroupVersion.WithKind("Job")

// Options are the controller's tunables.
type Options struct {
	// Backoff delays replacing failed pods (default 10 s doubling to 6 min).
	Backoff Backoff
	// Clock reads the time for deadlines and back-off (default: real).
	Clock clock.PassiveClock
}

// Controller is the Job controller.
type Controller struct {
	client   kubernetes.Interface
	jobs     batchlisters.JobLister
	pods     corelisters.PodLister
	podIndex cache.Indexer
	control  *podcontrol.Control
	recorder record.EventRecorder
	log      *slog.Logger
	loop     *controller.Loop
	// orphans removes the tracking finalizer from pods no Job will count.
	orphans *controller.Loop
	opts    Options

	expect *controller.Expectations
	// finalizers holds, per Job key, the pods whose tracking finalizer
	// this controller removed but the cache still shows: they are counted
	// already and must not be counted again.
	mu         sync.Mutex
	finalizers map[string]map[types.UID]bool
}

// New builds the controller with upstream's back-off.
func New(cc controller.Context) (controller.Controller, error) {
	return NewWithOptions(cc, Options{})
}

// NewWithOptions builds the controller.
func NewWithOptions(cc controller.Context, opts Options) (*Controller, error) {
	if opts.Backoff.Base <= 0 {
		opts.Backoff.Base = 10 * time.Second
	}
	if opts.Backoff.Max <= 0 {
		opts.Backoff.Max = 6 * time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	jobInf := cc.Informers.Batch().V1().Jobs()
	podInf := cc.Informers.Core().V1().Pods()
	if err := podInf.Informer().AddIndexers(cache.Indexers{byOwner: ownerIndex}); err != nil {
		return nil, err
	}
	rec := cc.Recorder(Name)
	c := &Controller{
		client: cc.Client, jobs: jobInf.Lister(), pods: podInf.Lister(), podIndex: podInf.Informer().GetIndexer(),
		control: &podcontrol.Control{Client: cc.Client, Recorder: rec}, recorder: rec,
		log: cc.Logger.With("controller", Name), opts: opts,
		expect: controller.NewExpectations(), finalizers: map[string]map[types.UID]bool{},
	}
	c.loop = controller.NewLoop(Name, cc.Options.Workers, c.sync, cc.Logger)
	c.orphans = controller.NewLoop(Name+"-orphans", 1, c.syncOrphan, cc.Logger)
	for _, l := range []*controller.Loop{c.loop, c.orphans} {
		l.WaitFor(jobInf.Informer().HasSynced, podInf.Informer().HasSynced)
	}
	if _, err := jobInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.Enqueue,
		UpdateFunc: func(_, obj any) { c.loop.Enqueue(obj) },
		DeleteFunc: c.jobDeleted,
	}); err != nil {
		return nil, err
	}
	_, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podAdded,
		UpdateFunc: c.podUpdated,
		DeleteFunc: c.podDeleted,
	})
	return c, err
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context) error {
	go c.orphans.Run(ctx)
	return c.loop.Run(ctx)
}

// byOwner indexes pods by the UID of their controlling Job.
const byOwner = Name + "/owner"

func ownerIndex(obj any) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	if ref := jobRef(p); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

// jobRef is a pod's controller reference if it is a Job.
func jobRef(p *corev1.Pod) *metav1.OwnerReference {
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil || ref.Kind != kind.Kind || ref.APIVersion != kind.GroupVersion().String() {
		return nil
	}
	return ref
}

func hasFinalizer(p *corev1.Pod) bool {
	for _, f := range p.Finalizers {
		if f == batchv1.JobTrackingFinalizer {
			return true
		}
	}
	return false
}

func (c *Controller) podAdded(obj any) {
	p := obj.(*corev1.Pod)
	if p.DeletionTimestamp != nil {
		c.podDeleted(p)
		return
	}
	if key, ok := c.ownerKey(p); ok {
		c.expect.CreationObserved(key)
		c.loop.Add(key)
		return
	}
	c.checkOrphan(p)
}

func (c *Controller) podUpdated(old, cur any) {
	o, p := old.(*corev1.Pod), cur.(*corev1.Pod)
	key, ok := c.ownerKey(p)
	if !ok {
		c.checkOrphan(p)
		return
	}
	if p.DeletionTimestamp != nil && o.DeletionTimestamp == nil {
		c.expect.DeletionObserved(key)
	}
	if !hasFinalizer(p) {
		c.finalizerRemoved(key, p.UID)
	}
	c.loop.Add(key)
}

func (c *Controller) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	key, ok := c.ownerKey(p)
	if !ok {
		return
	}
	if p.DeletionTimestamp == nil {
		// Gone without a graceful phase (we saw no update with a
		// deletionTimestamp): this is the deletion we expected.
		c.expect.DeletionObserved(key)
	}
	c.finalizerRemoved(key, p.UID)
	c.loop.Add(key)
}

// ownerKey is the key of the Job controlling p, if that Job is in the
// cache with the UID p names.
func (c *Controller) ownerKey(p *corev1.Pod) (string, bool) {
	ref := jobRef(p)
	if ref == nil {
		return "", false
	}
	j, err := c.jobs.Jobs(p.Namespace).Get(ref.Name)
	if err != nil || j.UID != ref.UID {
		return "", false
	}
	return p.Namespace + "/" + ref.Name, true
}

// checkOrphan queues a pod that carries the tracking finalizer but has no
// Job to count it, so the finalizer does not keep it forever.
func (c *Controller) checkOrphan(p *corev1.Pod) {
	if hasFinalizer(p) {
		c.orphans.Enqueue(p)
	}
}

func (c *Controller) jobDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	key := j.Namespace + "/" + j.Name
	c.expect.Forget(key)
	c.mu.Lock()
	delete(c.finalizers, key)
	c.mu.Unlock()
	pods, _ := c.podIndex.ByIndex(byOwner, string(j.UID))
	for _, o := range pods {
		c.checkOrphan(o.(*corev1.Pod))
	}
}

func (c *Controller) expectFinalizerRemoved(key string, uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finalizers[key] == nil {
		c.finalizers[key] = map[types.UID]bool{}
	}
	c.finalizers[key][uid] = true
}

func (c *Controller) finalizerRemoved(key string, uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.finalizers[key], uid)
	if len(c.finalizers[key]) == 0 {
		delete(c.finalizers, key)
	}
}

// removalPending reports whether the cache still shows a finalizer this
// controller already removed.
func (c *Controller) removalPending(key string, uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finalizers[key][uid]
}
