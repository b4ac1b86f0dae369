package replicaset_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// startFakeKubelet stands in for the scheduler and the node agents, which
// do not run in a test server: it reports pods Running and Ready (unless
// hold says not yet) and finishes graceful deletions as a kubelet would.
// It does not bind pods (pods/binding refuses to set nodeName on this
// server at the moment), so deletions are immediate.
func startFakeKubelet(t *testing.T, ctx context.Context, c kubernetes.Interface, ns string, hold func(*corev1.Pod) bool) {
	t.Helper()
	f := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().Pods().Informer()
	q := workqueue.NewTyped[string]()
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			q.Add(key)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, o any) { enqueue(o) },
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); q.ShutDown(); <-done })
	f.Start(ctx.Done())
	go func() {
		defer close(done)
		for {
			key, quit := q.Get()
			if quit {
				return
			}
			obj, ok, _ := inf.GetStore().GetByKey(key)
			if ok {
				if err := kubeletStep(ctx, c, obj.(*corev1.Pod), hold); err != nil && ctx.Err() == nil {
					q.Add(key) // the informer will also bring a newer version
				}
			}
			q.Done(key)
		}
	}()
}

// kubeletStep moves pod one step along its life.
func kubeletStep(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod, hold func(*corev1.Pod) bool) error {
	pods := c.CoreV1().Pods(pod.Namespace)
	switch {
	case pod.DeletionTimestamp != nil:
		err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		return ignoreGone(err)
	case isReady(pod) || (hold != nil && hold(pod)):
		return nil
	}
	now := metav1.NewTime(time.Now())
	up := pod.DeepCopy()
	up.Status.Phase = corev1.PodRunning
	up.Status.StartTime = &now
	up.Status.Conditions = nil
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		up.Status.Conditions = append(up.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	_, err := pods.UpdateStatus(ctx, up, metav1.UpdateOptions{})
	return ignoreGone(err)
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ignoreGone drops the errors of a pod that moved on meanwhile: the
// informer brings its newer version.
func ignoreGone(err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
