package ttlafterfinished

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Name is the controller's name in the manager.
const Name = "ttl-after-finished-controller"

// Controller deletes finished Jobs whose TTL has passed.
type Controller struct {
	client kubernetes.Interface
	jobs   batchlisters.JobLister
	loop   *controller.Loop
	clock  clock.PassiveClock
	log    *slog.Logger
}

// New builds the controller.
func New(cc controller.Context) (controller.Controller, error) {
	inf := cc.Informers.Batch().V1().Jobs()
	c := &Controller{client: cc.Client, jobs: inf.Lister(), clock: clock.RealClock{}, log: cc.Logger.With("controller", Name)}
	c.loop = controller.NewLoop(Name, cc.Options.Workers, c.sync, cc.Logger)
	c.loop.WaitFor(inf.Informer().HasSynced)
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	return c, err
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx) }

func (c *Controller) enqueue(obj any) {
	if j, ok := obj.(*batchv1.Job); ok && needsCleanup(j) {
		c.loop.Enqueue(j)
	}
}

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	j, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if left, expired := remaining(j, c.clock.Now()); !expired {
		return controller.Result{RequeueAfter: left}, nil
	}
	// The TTL may have been raised since the cache saw the Job.
	fresh, err := c.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("get job %s: %w", key, err)
	}
	if left, expired := remaining(fresh, c.clock.Now()); !expired {
		return controller.Result{RequeueAfter: left}, nil
	}
	bg := metav1.DeletePropagationBackground
	err = c.client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &fresh.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return controller.Result{}, fmt.Errorf("delete expired job %s: %w", key, err)
	}
	c.log.Debug("deleted finished job after its TTL", "job", key)
	return controller.Result{}, nil
}

// needsCleanup reports whether j is a finished, live Job with a TTL.
func needsCleanup(j *batchv1.Job) bool {
	return j.Spec.TTLSecondsAfterFinished != nil && j.DeletionTimestamp == nil && !finishTime(j).IsZero()
}

// remaining returns how long until j expires at now, or expired = true.
// A Job that needs no cleanup never expires and is not requeued.
func remaining(j *batchv1.Job, now time.Time) (time.Duration, bool) {
	if !needsCleanup(j) {
		return 0, false
	}
	expireAt := finishTime(j).Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second)
	if !now.Before(expireAt) {
		return 0, true
	}
	return expireAt.Sub(now), false
}

// finishTime is when j reached Complete or Failed, or zero.
func finishTime(j *batchv1.Job) time.Time {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			if c.LastTransitionTime.IsZero() && j.Status.CompletionTime != nil {
				return j.Status.CompletionTime.Time
			}
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}
