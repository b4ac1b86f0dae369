package namespace

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/util/workqueue"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Name is the controller's name in the manager.
const Name = "namespace"

// Upstream retries a namespace whose content is not gone yet with a
// per-key back-off from 5 ms to at most one minute.
const (
	minRetry = 5 * time.Millisecond
	maxRetry = 60 * time.Second
)

// Controller empties and finalizes deleted namespaces.
type Controller struct {
	*controller.Loop
	client kubernetes.Interface
	lister corelisters.NamespaceLister
	del    *deleter
	log    *slog.Logger
	now    func() time.Time
}

// New returns the namespace controller.
func New(cc controller.Context) (controller.Controller, error) {
	inf := cc.Informers.Core().V1().Namespaces()
	c := &Controller{
		client: cc.Client,
		lister: inf.Lister(),
		del:    &deleter{disc: cc.Client.Discovery(), md: cc.Metadata, now: time.Now},
		log:    cc.Logger.With("controller", Name),
		now:    time.Now,
	}
	rl := workqueue.NewTypedItemExponentialFailureRateLimiter[string](minRetry, maxRetry)
	c.Loop = controller.NewLoopWithRateLimiter(Name, cc.Options.WithDefaults().Workers, c.sync, cc.Logger, rl)
	if _, err := inf.Informer().AddEventHandler(c.Handler()); err != nil {
		return nil, err
	}
	c.WaitFor(inf.Informer().HasSynced)
	return c, nil
}

// remainingError reports content still present, to be retried.
type remainingError struct{ msg string }

func (e remainingError) Error() string { return e.msg }

func (c *Controller) sync(ctx context.Context, name string) (controller.Result, error) {
	cached, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) || (err == nil && cached.DeletionTimestamp == nil) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	// The cache may lag behind our own finalize call: act on the live
	// object only.
	ns, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return controller.Result{}, nil
	}
	out, estimate := c.del.deleteContent(ctx, name)
	if err := c.updateStatus(ctx, ns, out); err != nil {
		return controller.Result{}, err
	}
	if !out.done() {
		if estimate > 0 {
			// Graceful deletions will end by then; retrying earlier
			// would find the same content.
			return controller.Result{RequeueAfter: estimate}, nil
		}
		return controller.Result{}, remainingError{fmt.Sprintf("namespace %s is not empty yet: %v", name, out.failures())}
	}
	return controller.Result{}, c.finalize(ctx, ns)
}

// updateStatus keeps the phase Terminating and writes the conditions of
// this pass when they changed.
func (c *Controller) updateStatus(ctx context.Context, ns *corev1.Namespace, o *outcome) error {
	want := ns.DeepCopy()
	want.Status.Phase = corev1.NamespaceTerminating
	want.Status.Conditions = conditions(ns.Status.Conditions, o, metav1.NewTime(c.now()))
	if equality.Semantic.DeepEqual(want.Status, ns.Status) {
		return nil
	}
	_, err := c.client.CoreV1().Namespaces().UpdateStatus(ctx, want, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of namespace %s: %w", ns.Name, err)
	}
	return nil
}

// finalize removes our finalizer; the API server deletes the namespace
// once no finalizer is left.
func (c *Controller) finalize(ctx context.Context, ns *corev1.Namespace) error {
	for attempt := 0; ; attempt++ {
		want := ns.DeepCopy()
		want.Spec.Finalizers = slices.DeleteFunc(want.Spec.Finalizers, func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
		_, err := c.client.CoreV1().Namespaces().Finalize(ctx, want, metav1.UpdateOptions{})
		switch {
		case err == nil, apierrors.IsNotFound(err):
			c.log.Debug("namespace finalized", "namespace", ns.Name)
			return nil
		case apierrors.IsConflict(err) && attempt < 3:
			if ns, err = c.client.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{}); err != nil {
				return err
			}
		default:
			return fmt.Errorf("finalize namespace %s: %w", ns.Name, err)
		}
	}
}
