// Package podtest is test support for pod-owning controllers: a stand-in
// for the scheduler and the node agents, which a test server does not run.
// Only _test.go files may import it; it must never reach the binary (the
// hollow nodes of internal/hollow are the real simulation).
package podtest

import (
	"context"
	"sync"
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

// Kubelet reports the pods of one namespace Running and Ready as soon as
// it sees them (unless Hold says not yet), and finishes graceful
// deletions as a kubelet would. Started by StartKubelet it leaves pods
// unscheduled (their deletions are immediate); started by
// StartBindingKubelet it first binds them to a node, so that deletions
// are graceful and pass through Terminating.
// workers is how many pods a Kubelet moves at once.
const workers = 8

type Kubelet struct {
	cancel context.CancelFunc
	queue  workqueue.TypedInterface[string]
	done   chan struct{}
	store  cache.Store
}

// StartKubelet runs a Kubelet for ns until Stop or the end of the test.
// hold, if set, keeps the pods it returns true for not ready; Recheck
// re-evaluates them once hold changes its mind.
func StartKubelet(t testing.TB, c kubernetes.Interface, ns string, hold func(*corev1.Pod) bool) *Kubelet {
	t.Helper()
	return start(t, c, ns, "", hold)
}

// StartBindingKubelet is StartKubelet that also binds every unscheduled
// pod to node (which need not exist) before running it.
func StartBindingKubelet(t testing.TB, c kubernetes.Interface, ns, node string, hold func(*corev1.Pod) bool) *Kubelet {
	t.Helper()
	return start(t, c, ns, node, hold)
}

func start(t testing.TB, c kubernetes.Interface, ns, node string, hold func(*corev1.Pod) bool) *Kubelet {
	t.Helper()
	f := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().Pods().Informer()
	ctx, cancel := context.WithCancel(context.Background())
	k := &Kubelet{cancel: cancel, queue: workqueue.NewTyped[string](), done: make(chan struct{}), store: inf.GetStore()}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			k.queue.Add(key)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, o any) { enqueue(o) }}); err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				key, quit := k.queue.Get()
				if quit {
					return
				}
				if obj, ok, _ := k.store.GetByKey(key); ok {
					_ = step(ctx, c, obj.(*corev1.Pod), node, hold) // a failure comes back as an update
				}
				k.queue.Done(key)
			}
		}()
	}
	go func() { wg.Wait(); close(k.done) }()
	t.Cleanup(k.Stop)
	return k
}

// Recheck looks at every pod again (after hold changed).
func (k *Kubelet) Recheck() {
	for _, key := range k.store.ListKeys() {
		k.queue.Add(key)
	}
}

// Stop stops the Kubelet (idempotent).
func (k *Kubelet) Stop() {
	k.cancel()
	k.queue.ShutDown()
	<-k.done
}

func step(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod, node string, hold func(*corev1.Pod) bool) error {
	pods := c.CoreV1().Pods(pod.Namespace)
	switch {
	case pod.DeletionTimestamp != nil:
		return ignoreGone(pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &pod.UID}}))
	case node != "" && pod.Spec.NodeName == "":
		b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID}, Target: corev1.ObjectReference{Kind: "Node", Name: node}}
		return ignoreGone(pods.Bind(ctx, b, metav1.CreateOptions{}))
	case IsReady(pod) || (hold != nil && hold(pod)):
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

// IsReady reports whether the pod's Ready condition is True.
func IsReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func ignoreGone(err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
