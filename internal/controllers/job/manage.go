package job

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// maxPerSync bounds the pods created or deleted in one sync, as upstream.
const maxPerSync = 500

// manage creates or deletes pods so that the right number run, and
// returns how long to wait before pods may be created (back-off).
func (c *Controller) manage(ctx context.Context, s *state) (time.Duration, error) {
	j := s.job
	completions := int(ptr.Deref(j.Spec.Completions, 0))
	finished := s.succeeded
	if s.done != nil {
		// Failed indexes (backoffLimitPerIndex) get no more pods either.
		ended := union(s.done, s.failedIdx)
		if extra := redundantIndexed(ended, s.active, completions); len(extra) > 0 {
			return 0, c.deletePods(ctx, s, extra)
		}
		finished = int32(len(ended))
	}
	want := wantActive(j, finished, len(s.active))
	running := len(s.active)
	if onlyReplaceFailed(j) {
		running += s.terminating // they still hold their slot
	}
	switch {
	case len(s.active) > want:
		extra := append([]*corev1.Pod(nil), s.active...)
		podcontrol.SortForDeletion(extra, nil)
		return 0, c.deletePods(ctx, s, extra[:len(s.active)-want])
	case running < want && s.failedIdx != nil:
		// backoffLimitPerIndex: each index waits out its own back-off.
		missing := missingIndexes(union(s.done, s.failedIdx), s.active, completions, completions)
		ready, wait := c.opts.Backoff.readyIndexes(j, s.pods, missing, completions, s.now)
		return wait, c.createIndexes(ctx, s, ready[:min(len(ready), want-running, maxPerSync)])
	case running < want:
		if left := c.opts.Backoff.remaining(j, s.pods, s.now); left > 0 {
			return left, nil
		}
		return 0, c.create(ctx, s, min(want-running, maxPerSync))
	}
	return 0, nil
}

// create makes n pods (for Indexed Jobs, one per missing index, lowest
// first), in slow-start batches.
func (c *Controller) create(ctx context.Context, s *state, n int) error {
	j := s.job
	indexes := make([]int, n)
	for i := range indexes {
		indexes[i] = noIndex
	}
	if s.done != nil {
		indexes = missingIndexes(union(s.done, s.failedIdx), s.active, int(*j.Spec.Completions), n)
	}
	return c.createIndexes(ctx, s, indexes)
}

// createIndexes makes one pod per entry of indexes (noIndex for a
// NonIndexed Job), in slow-start batches.
func (c *Controller) createIndexes(ctx context.Context, s *state, indexes []int) error {
	j := s.job
	n := len(indexes)
	var failures, ignored map[int]int
	if s.failedIdx != nil {
		failures, ignored = indexFailureCounts(j, s.pods, int(*j.Spec.Completions))
	}
	if n == 0 {
		return nil
	}
	c.expect.Expect(s.key, n, 0)
	var next atomic.Int64
	created, err := podcontrol.SlowStart(ctx, n, 1, func(ctx context.Context) error {
		ix := indexes[next.Add(1)-1]
		pod := newPod(j, ix)
		if failures != nil {
			pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(failures[ix])
			if ignored[ix] > 0 {
				pod.Annotations[batchv1.JobIndexIgnoredFailureCountAnnotation] = strconv.Itoa(ignored[ix])
			}
		}
		_, err := c.control.Create(ctx, pod, j)
		if err != nil {
			c.expect.CreationObserved(s.key) // it will never be observed
		}
		return err
	})
	// Calls SlowStart never made will never be observed either.
	for range n - int(next.Load()) {
		c.expect.CreationObserved(s.key)
	}
	s.created += created
	if err != nil && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		return nil
	}
	return err
}

// newPod is a pod of j, for a completion index or noIndex.
func newPod(j *batchv1.Job, index int) *corev1.Pod {
	pod := podcontrol.NewPod(&j.Spec.Template, j, podcontrol.ControllerRef(j, kind))
	pod.Finalizers = append(pod.Finalizers, batchv1.JobTrackingFinalizer)
	if index == noIndex {
		return pod
	}
	ix := strconv.Itoa(index)
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Annotations[batchv1.JobCompletionIndexAnnotation] = ix
	pod.Labels[batchv1.JobCompletionIndexAnnotation] = ix
	pod.GenerateName = fmt.Sprintf("%s-%d-", j.Name, index)
	pod.Spec.Hostname = hostname(j.Name, ix)
	env := corev1.EnvVar{Name: "JOB_COMPLETION_INDEX", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation)},
	}}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if !hasEnv(cs[i].Env, env.Name) {
				cs[i].Env = append(cs[i].Env, env)
			}
		}
	}
	return pod
}

// hostname is "<job>-<index>", the job name cut so the result is a DNS
// label.
func hostname(job, index string) string {
	prefix := job
	if limit := 63 - len(index) - 1; len(prefix) > limit {
		prefix = strings.TrimRight(prefix[:limit], "-.")
	}
	return strings.ReplaceAll(prefix, ".", "-") + "-" + index
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// deletePods deletes pods the controller no longer wants. Their tracking
// finalizer goes first, so a pod deleted on purpose is not counted as a
// failure.
func (c *Controller) deletePods(ctx context.Context, s *state, pods []*corev1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	pods = pods[:min(len(pods), maxPerSync)]
	c.expect.Expect(s.key, 0, len(pods))
	var mu sync.Mutex
	var errs []error
	gone := map[*corev1.Pod]bool{}
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.removeFinalizer(ctx, s.key, p)
			if err == nil {
				err = c.control.Delete(ctx, p, s.job)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				// No event will show this deletion (or it came already).
				c.expect.DeletionObserved(s.key)
			}
			switch {
			case err == nil || apierrors.IsNotFound(err):
				gone[p] = true
			default:
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	kept := s.active[:0:0]
	for _, p := range s.active {
		if !gone[p] {
			kept = append(kept, p)
		}
	}
	s.terminating += len(s.active) - len(kept)
	s.active = kept
	return errors.Join(errs...)
}
