package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/hollow"
)

// Workloads of `navarch bench scheduler`, after upstream scheduler_perf's.
const (
	WorkloadBasic        = "basic"
	WorkloadAntiAffinity = "anti-affinity"
	WorkloadSpreading    = "topology-spreading"
)

// SchedulerOptions configure `navarch bench scheduler`.
type SchedulerOptions struct {
	// Binary is the navarch executable to start (default: this one).
	Binary string
	// Nodes, InitPods and Pods size the run: InitPods are placed before
	// measuring, then Pods are created and measured.
	Nodes, InitPods, Pods int
	// Workload is basic, anti-affinity or topology-spreading.
	Workload string
	// Groups: with anti-affinity, pods carry one of this many colors and
	// repel pods of their own color per node.
	Groups int
	// Clients create pods concurrently, at full speed.
	Clients int
	// Parallelism is the scheduler's (0: its default).
	Parallelism int
	// LeaseInterval is how often hollow nodes renew their Leases.
	LeaseInterval time.Duration
	// CPUBreakdown profiles the server and the bench over the same window
	// and prints CPU per pod by owner (our code, etcd, codecs, runtime...).
	CPUBreakdown bool
	// CPUProfile, when set, receives a CPU profile of the server taken
	// over the measured phase.
	CPUProfile string
	Timeout    time.Duration
	Out        io.Writer
}

const schedNS = "sched-bench"

// Scheduler runs the benchmark: a server with the scheduler (no
// controllers, no agent) as a child process, hollow nodes in this process
// (without pod status updates, as upstream's bench has no kubelets), and
// pods created through the API at full speed. Throughput is sampled once
// per second as pods bound per second.
func Scheduler(ctx context.Context, o SchedulerOptions) error {
	args := []string{"--disable-controllers=*", "--disable-agent"}
	if o.Parallelism > 0 {
		path, err := writeSchedulerConfig(o.Parallelism)
		if err != nil {
			return err
		}
		defer os.Remove(path)
		args = append(args, "--scheduler-config", path)
	}
	srv, err := startServer(ctx, Options{Binary: o.Binary, ContentType: "application/vnd.kubernetes.protobuf", ServerArgs: args})
	if err != nil {
		return err
	}
	defer srv.stop()
	cs := srv.clients
	fmt.Fprintf(o.Out, "navarch bench scheduler: workload %s, %d nodes, %d pods placed first, %d measured, %d creators\n",
		o.Workload, o.Nodes, o.InitPods, o.Pods, o.Clients)
	start := time.Now()
	nodes, err := hollow.Start(ctx, hollow.Config{Client: cs, Count: o.Nodes, RenewInterval: o.LeaseInterval,
		Labels: func(i int) map[string]string {
			return map[string]string{corev1.LabelTopologyZone: "zone-" + strconv.Itoa(i%3)}
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer nodes.Stop()
	fmt.Fprintf(o.Out, "hollow nodes registered:          %v\n", time.Since(start).Round(time.Millisecond))
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: schedNS}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	counter, err := startBoundCounter(ctx, cs)
	if err != nil {
		return err
	}
	if err := placeInitPods(ctx, cs, o, counter); err != nil {
		return err
	}
	return measure(ctx, srv, o, counter)
}

func writeSchedulerConfig(parallelism int) (string, error) {
	f, err := os.CreateTemp("", "navarch-sched-*.yaml")
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nparallelism: %d\n", parallelism)
	return f.Name(), err
}

// boundCounter counts pods of the bench namespace with a node, from a
// watch selecting spec.nodeName!="" (one event per binding).
type boundCounter struct{ n atomic.Int64 }

func startBoundCounter(ctx context.Context, cs kubernetes.Interface) (*boundCounter, error) {
	c := &boundCounter{}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(schedNS),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "spec.nodeName!=" }))
	inf := f.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(any) { c.n.Add(1) }}); err != nil {
		return nil, err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("bound-pod informer did not sync")
	}
	return c, nil
}

func placeInitPods(ctx context.Context, cs kubernetes.Interface, o SchedulerOptions, c *boundCounter) error {
	start := time.Now()
	if err := createPods(ctx, cs, o, "init", o.InitPods); err != nil {
		return err
	}
	if err := c.waitFor(ctx, int64(o.InitPods), o.Timeout); err != nil {
		return fmt.Errorf("init pods: %w", err)
	}
	fmt.Fprintf(o.Out, "init pods placed:                 %d in %v\n", o.InitPods, time.Since(start).Round(time.Millisecond))
	return nil
}

func (c *boundCounter) waitFor(ctx context.Context, n int64, timeout time.Duration) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	deadline := time.After(timeout)
	for c.n.Load() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("%d of %d pods bound after %v", c.n.Load(), n, timeout)
		case <-t.C:
		}
	}
	return nil
}

// createPods creates n pods with o.Clients concurrent creators.
func createPods(ctx context.Context, cs kubernetes.Interface, o SchedulerOptions, prefix string, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, o.Clients)
	for range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if _, err := cs.CoreV1().Pods(schedNS).Create(ctx, benchSchedPod(o, prefix, i), metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create pod %s-%d: %w", prefix, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// measure creates the measured pods and samples bindings once a second.
func measure(ctx context.Context, srv *child, o SchedulerOptions, c *boundCounter) error {
	base := c.n.Load()
	cpuBefore, _ := srv.cpuTime()
	selfBefore := selfCPU()
	reqBefore, _ := srv.requestCounts(ctx)
	var prof chan profiled
	if o.CPUProfile != "" || o.CPUBreakdown {
		prof = make(chan profiled, 1)
		go func() { prof <- profileBoth(ctx, srv, c, profileWindow) }()
	}
	start := time.Now()
	created := make(chan error, 1)
	var createdIn time.Duration
	go func() {
		err := createPods(ctx, srv.clients, o, "pod", o.Pods)
		createdIn = time.Since(start)
		created <- err
	}()
	samples, err := sample(ctx, c, base, int64(o.Pods), o.Timeout)
	elapsed := time.Since(start)
	if cerr := <-created; cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	cpuAfter, _ := srv.cpuTime()
	report(o, samples, elapsed, createdIn, cpuAfter-cpuBefore, selfCPU()-selfBefore)
	if reqAfter, err := srv.requestCounts(ctx); err == nil && reqBefore != nil {
		reportRequests(o.Out, reqBefore, reqAfter, elapsed)
	}
	if prof != nil {
		return reportProfiles(o, <-prof)
	}
	return nil
}

// profileWindow is how long the CPU profiles run while measuring.
const profileWindow = 10 * time.Second

// profiled is what profileBoth took: the server's profile, this process's,
// and how many pods were bound meanwhile.
type profiled struct {
	server, self []byte
	pods         int64
	err          error
}

// profileBoth profiles the server and this process over the same window.
func profileBoth(ctx context.Context, srv *child, c *boundCounter, d time.Duration) profiled {
	var self bytes.Buffer
	if err := pprof.StartCPUProfile(&self); err != nil {
		return profiled{err: err}
	}
	before := c.n.Load()
	server, err := srv.cpuProfile(ctx, d)
	pprof.StopCPUProfile()
	return profiled{server: server, self: self.Bytes(), pods: c.n.Load() - before, err: err}
}

func reportProfiles(o SchedulerOptions, p profiled) error {
	if p.err != nil {
		return fmt.Errorf("cpu profile: %w", p.err)
	}
	if o.CPUProfile != "" {
		if err := os.MkdirAll(filepath.Dir(o.CPUProfile), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.CPUProfile, p.server, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "server CPU profile:               %s\n", o.CPUProfile)
	}
	if !o.CPUBreakdown {
		return nil
	}
	server, err := breakdown(p.server)
	if err != nil {
		return fmt.Errorf("server profile: %w", err)
	}
	self, err := breakdown(p.self)
	if err != nil {
		return fmt.Errorf("bench profile: %w", err)
	}
	printBreakdown(o.Out, server, self, p.pods, profileWindow)
	return nil
}

// sample records pods bound in each whole second until want are bound.
func sample(ctx context.Context, c *boundCounter, base, want int64, timeout time.Duration) ([]float64, error) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	deadline := time.After(timeout)
	last := base
	var out []float64
	for {
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-deadline:
			return out, fmt.Errorf("only %d of %d pods bound within %v", c.n.Load()-base, want, timeout)
		case <-t.C:
			now := c.n.Load()
			if now-base >= want {
				// The last, partial second is left out, as upstream does.
				return out, nil
			}
			out = append(out, float64(now-last))
			last = now
		}
	}
}

func report(o SchedulerOptions, samples []float64, elapsed, createdIn, serverCPU, selfCPU time.Duration) {
	sorted := append([]float64(nil), samples...)
	sort.Float64s(sorted)
	pct := func(p float64) float64 {
		if len(sorted) == 0 {
			return 0
		}
		return sorted[int(float64(len(sorted)-1)*p)]
	}
	var sum float64
	for _, s := range samples {
		sum += s
	}
	avg := 0.0
	if len(samples) > 0 {
		avg = sum / float64(len(samples))
	}
	fmt.Fprintf(o.Out, "pods created:                     %d in %v (%.0f/s)\n", o.Pods, createdIn.Round(time.Millisecond), float64(o.Pods)/createdIn.Seconds())
	fmt.Fprintf(o.Out, "all pods bound after:             %v (%.0f pods/s end to end)\n", elapsed.Round(time.Millisecond), float64(o.Pods)/elapsed.Seconds())
	fmt.Fprintf(o.Out, "throughput, 1s samples (%d):      average %.0f, p50 %.0f, p90 %.0f, p99 %.0f pods/s\n",
		len(samples), avg, pct(0.5), pct(0.9), pct(0.99))
	if serverCPU > 0 {
		fmt.Fprintf(o.Out, "server CPU (API, etcd, scheduler): %.2f cores over the run, %.3f ms per pod\n",
			serverCPU.Seconds()/elapsed.Seconds(), serverCPU.Seconds()*1000/float64(o.Pods))
	}
	// Per pod, CPU time is steadier than throughput on a saturated machine.
	fmt.Fprintf(o.Out, "bench CPU (creators, hollow nodes): %.2f cores over the run, %.3f ms per pod\n",
		selfCPU.Seconds()/elapsed.Seconds(), selfCPU.Seconds()*1000/float64(o.Pods))
}

// benchSchedPod is upstream's pod-default: one pause container asking
// 100m cpu and 500Mi, plus the workload's constraints.
func benchSchedPod(o SchedulerOptions, prefix string, i int) *corev1.Pod {
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i), Labels: map[string]string{"name": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10",
			Ports:     []corev1.ContainerPort{{ContainerPort: 80}},
			Resources: corev1.ResourceRequirements{Requests: rl, Limits: rl.DeepCopy()}}}},
	}
	switch o.Workload {
	case WorkloadAntiAffinity:
		color := "color-" + strconv.Itoa(i%o.Groups)
		pod.Labels["color"] = color
		pod.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey:   corev1.LabelHostname,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"color": color}},
			}}}}
	case WorkloadSpreading:
		pod.Labels["color"] = "blue"
		pod.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 5, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"color": "blue"}},
		}}
	}
	return pod
}

// cpuTime is the server's user+system CPU time so far.
func (c *child) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesized command: utime and stime are the
	// 14th and 15th fields of the whole line.
	s := string(b)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ')' {
			s = s[i+2:]
			break
		}
	}
	var f [13]string
	n, _ := fmt.Sscan(s, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11], &f[12])
	if n < 13 {
		return 0, fmt.Errorf("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil // USER_HZ is 100 on Linux
}

// cpuProfile fetches /debug/pprof/profile from the server as the admin.
func (c *child) cpuProfile(ctx context.Context, d time.Duration) ([]byte, error) {
	body, err := c.clients.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
		Param("seconds", strconv.Itoa(int(d.Seconds()))).Timeout(d + 30*time.Second).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("GET %s/debug/pprof/profile: %w", c.url, err)
	}
	return body, nil
}
