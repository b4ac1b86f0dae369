package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

const benchNS = "bench"

// API runs every API benchmark phase and prints a report.
func API(ctx context.Context, o Options) error {
	c, err := startServer(ctx, o)
	if err != nil {
		return err
	}
	defer c.stop()
	fmt.Fprintf(o.Out, "start to /readyz:                 %s\n", ms(c.ready))
	time.Sleep(3 * time.Second) // let start-up garbage settle before sampling idle memory
	if rss, err := c.rssBytes(); err == nil {
		fmt.Fprintf(o.Out, "idle RSS (etcd included):         %.1f MiB\n", float64(rss)/(1<<20))
	}
	cs := c.clients
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if err := benchCreates(ctx, o, cs); err != nil {
		return err
	}
	if err := benchList(ctx, o, cs); err != nil {
		return err
	}
	if err := benchMixed(ctx, o, cs); err != nil {
		return err
	}
	if err := benchFanout(ctx, o, cs); err != nil {
		return err
	}
	if rss, err := c.rssBytes(); err == nil {
		fmt.Fprintf(o.Out, "RSS after load (%d pods stored):  %.1f MiB\n", o.Objects, float64(rss)/(1<<20))
	}
	return nil
}

func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench", "shard": strconv.Itoa(len(name) % 7)}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "busybox:1.36", Command: []string{"sleep", "3600"},
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		}}},
	}
}

// benchCreates creates Objects pods from Clients goroutines.
func benchCreates(ctx context.Context, o Options, cs *kubernetes.Clientset) error {
	var next atomic.Int64
	lat := make([]latencies, o.Clients)
	errs := make(chan error, o.Clients)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(o.Objects) {
					return
				}
				t := time.Now()
				if _, err := cs.CoreV1().Pods(benchNS).Create(ctx, benchPod(fmt.Sprintf("pod-%05d", i)), metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("create: %w", err)
	}
	var all latencies
	for _, l := range lat {
		all = append(all, l...)
	}
	fmt.Fprintf(o.Out, "creates, %d clients:              %.0f/s  (p50 %s, p99 %s, %d pods)\n",
		o.Clients, float64(o.Objects)/elapsed.Seconds(), ms(all.pct(0.5)), ms(all.pct(0.99)), o.Objects)
	return nil
}

// benchList lists every pod repeatedly.
func benchList(ctx context.Context, o Options, cs *kubernetes.Clientset) error {
	var lat latencies
	for range 10 {
		t := time.Now()
		l, err := cs.CoreV1().Pods(benchNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		lat = append(lat, time.Since(t))
		if len(l.Items) != o.Objects {
			return fmt.Errorf("list returned %d pods, want %d", len(l.Items), o.Objects)
		}
	}
	fmt.Fprintf(o.Out, "LIST %d pods:                   p50 %s, min %s, max %s\n", o.Objects, ms(lat.pct(0.5)), ms(lat.pct(0)), ms(lat.pct(1)))
	return nil
}

// benchMixed sends creates and updates at a fixed rate (open loop), so
// latency is measured without coordinated omission.
func benchMixed(ctx context.Context, o Options, cs *kubernetes.Clientset) error {
	interval := time.Second / time.Duration(o.Rate)
	total := int(o.Duration / interval)
	lat := make(latencies, total)
	var failed atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range total {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			if err := mixedOp(ctx, cs, i, o.Objects); err != nil {
				failed.Add(1)
			}
			lat[i] = time.Since(t)
		}()
	}
	wg.Wait()
	fmt.Fprintf(o.Out, "mixed create/update at %d/s:     p50 %s, p99 %s  (%d requests, %d failed)\n",
		o.Rate, ms(lat.pct(0.5)), ms(lat.pct(0.99)), total, failed.Load())
	return nil
}

func mixedOp(ctx context.Context, cs *kubernetes.Clientset, i, objects int) error {
	if i%2 == 0 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("mixed-%06d", i)}, Data: map[string]string{"i": strconv.Itoa(i)}}
		_, err := cs.CoreV1().ConfigMaps(benchNS).Create(ctx, cm, metav1.CreateOptions{})
		return err
	}
	name := fmt.Sprintf("pod-%05d", 1+i%objects)
	patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{"tick":"%d"}}}`, i))
	_, err := cs.CoreV1().Pods(benchNS).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}
