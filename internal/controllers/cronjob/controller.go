package cronjob

import (
	"context"
	"log/slog"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Name is the controller's name in the manager and its events' source.
const Name = "cronjob-controller"

// byOwner indexes Jobs by the UID of their controlling CronJob.
const byOwner = Name + "/owner"

var kind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// Options are the controller's tunables.
type Options struct {
	// Clock drives schedules and requeues (default: the real clock).
	// Tests pass a fake one so no test waits for real minutes.
	Clock clock.WithDelayedExecution
	// Location is the zone of schedules that name none (default: the
	// controller's local zone, as upstream).
	Location *time.Location
}

// Controller is the CronJob controller.
type Controller struct {
	client   kubernetes.Interface
	cronJobs batchlisters.CronJobLister
	jobs     cache.Indexer
	recorder record.EventRecorder
	log      *slog.Logger
	loop     *controller.Loop
	opts     Options

	mu     sync.Mutex
	timers map[string]clock.Timer
}

// New builds the controller with the real clock.
func New(cc controller.Context) (controller.Controller, error) {
	return NewWithOptions(cc, Options{})
}

// NewWithOptions builds the controller.
func NewWithOptions(cc controller.Context, opts Options) (*Controller, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	cjInf := cc.Informers.Batch().V1().CronJobs()
	jobInf := cc.Informers.Batch().V1().Jobs()
	if err := jobInf.Informer().AddIndexers(cache.Indexers{byOwner: ownerIndex}); err != nil {
		return nil, err
	}
	c := &Controller{
		client: cc.Client, cronJobs: cjInf.Lister(), jobs: jobInf.Informer().GetIndexer(),
		recorder: cc.Recorder(Name), log: cc.Logger.With("controller", Name), opts: opts,
		timers: map[string]clock.Timer{},
	}
	c.loop = controller.NewLoop(Name, cc.Options.Workers, c.sync, cc.Logger)
	c.loop.WaitFor(cjInf.Informer().HasSynced, jobInf.Informer().HasSynced)
	if _, err := cjInf.Informer().AddEventHandler(c.loop.Handler()); err != nil {
		return nil, err
	}
	_, err := jobInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueOwner,
		UpdateFunc: func(_, obj any) { c.enqueueOwner(obj) },
		DeleteFunc: c.enqueueOwner,
	})
	return c, err
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context) error {
	defer c.stopTimers()
	return c.loop.Run(ctx)
}

func ownerIndex(obj any) ([]string, error) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.Kind == kind.Kind && ref.APIVersion == kind.GroupVersion().String() {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

// enqueueOwner syncs the CronJob controlling a Job that changed, so a
// finished run leaves status.active (and, under Forbid, lets the next one
// start) without waiting for the next activation.
func (c *Controller) enqueueOwner(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.Kind == kind.Kind {
		c.loop.Add(j.Namespace + "/" + ref.Name)
	}
}

// requeueAt syncs key again at t on the controller's clock, replacing any
// earlier wake-up of key: each CronJob has at most one timer.
func (c *Controller) requeueAt(key string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.timers[key]; ok {
		old.Stop()
		delete(c.timers, key)
	}
	if t.IsZero() {
		return
	}
	c.timers[key] = c.opts.Clock.AfterFunc(t.Sub(c.opts.Clock.Now()), func() { c.loop.Add(key) })
}

func (c *Controller) stopTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, t := range c.timers {
		t.Stop()
		delete(c.timers, k)
	}
}

// ownedJobs lists the Jobs cj controls, from the cache.
func (c *Controller) ownedJobs(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	objs, err := c.jobs.ByIndex(byOwner, string(cj.UID))
	if err != nil {
		return nil, err
	}
	out := make([]*batchv1.Job, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*batchv1.Job))
	}
	return out, nil
}
