package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

const fanoutNS = "fanout"

// benchFanout opens Watchers watches on one namespace and measures how long
// one update takes to reach the last of them.
func benchFanout(ctx context.Context, o Options, cs *kubernetes.Clientset) error {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fanoutNS}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	pod, err := cs.CoreV1().Pods(fanoutNS).Create(ctx, benchPod("target"), metav1.CreateOptions{})
	if err != nil {
		return err
	}
	watchers, err := openWatchers(ctx, cs, o.Watchers, pod.ResourceVersion)
	if err != nil {
		return err
	}
	defer func() {
		for _, w := range watchers {
			w.Stop()
		}
	}()
	var lat latencies
	for round := range 5 {
		d, err := oneFanout(ctx, cs, watchers, round)
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	fmt.Fprintf(o.Out, "one update to %d watchers:      p50 %s, max %s (time until the last watcher has it)\n", o.Watchers, ms(lat.pct(0.5)), ms(lat.pct(1)))
	return nil
}

func openWatchers(ctx context.Context, cs *kubernetes.Clientset, n int, rv string) ([]watch.Interface, error) {
	out := make([]watch.Interface, 0, n)
	for range n {
		w, err := cs.CoreV1().Pods(fanoutNS).Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
		if err != nil {
			return out, fmt.Errorf("watch: %w", err)
		}
		out = append(out, w)
	}
	return out, nil
}

func oneFanout(ctx context.Context, cs *kubernetes.Clientset, watchers []watch.Interface, round int) (time.Duration, error) {
	var wg sync.WaitGroup
	arrivals := make([]time.Time, len(watchers))
	for i, w := range watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-w.ResultChan():
				arrivals[i] = time.Now()
			case <-time.After(10 * time.Second):
			}
		}()
	}
	start := time.Now()
	patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{"round":"%d"}}}`, round))
	if _, err := cs.CoreV1().Pods(fanoutNS).Patch(ctx, "target", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return 0, err
	}
	wg.Wait()
	var last time.Time
	for _, a := range arrivals {
		if a.IsZero() {
			return 0, fmt.Errorf("a watcher missed the update")
		}
		if a.After(last) {
			last = a
		}
	}
	return last.Sub(start), nil
}
