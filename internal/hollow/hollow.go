package hollow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/workqueue"
)

// Config describes a set of hollow nodes.
type Config struct {
	// Client reaches the API server. Required.
	Client kubernetes.Interface
	// Count is the number of nodes. Required (> 0).
	Count int
	// NamePrefix names node i NamePrefix+i (default "hollow-node-").
	NamePrefix string
	// Capacity of each node; missing cpu, memory, pods and
	// ephemeral-storage take the defaults of upstream's scheduler_perf
	// node (4 cpu, 32Gi, 110 pods) and 100Gi of disk. Allocatable equals
	// capacity.
	Capacity corev1.ResourceList
	// Labels returns extra labels for node i (optional), on top of the
	// kubernetes.io/hostname, os and arch labels every kubelet sets.
	Labels func(i int) map[string]string
	// Taints returns the taints node i registers with (optional).
	Taints func(i int) []corev1.Taint
	// RunPods makes the nodes report the pods bound to them as Running.
	RunPods bool
	// RenewInterval is how often each Lease is renewed (default 10s, the
	// kubelet's: a quarter of LeaseDuration).
	RenewInterval time.Duration
	// LeaseDuration is the Lease's leaseDurationSeconds (default 40s).
	LeaseDuration time.Duration
	// StatusInterval is how often the full node status is reported even
	// when nothing changed (default 5m, the kubelet's
	// nodeStatusReportFrequency).
	StatusInterval time.Duration
	// QPS and Burst bound all writes of the Cluster together once the
	// nodes are registered (default: enough for the Lease renewals twice
	// over, at least 100/s). Registration itself is bounded by Workers
	// only, as kubelets starting together are.
	QPS   float64
	Burst int
	// Workers is the number of concurrent writers (default 16).
	Workers int
	Logger  *slog.Logger
}

func (c *Config) defaults() error {
	if c.Client == nil {
		return errors.New("hollow: Config.Client is required")
	}
	if c.Count <= 0 {
		return fmt.Errorf("hollow: Config.Count must be positive, got %d", c.Count)
	}
	if c.NamePrefix == "" {
		c.NamePrefix = "hollow-node-"
	}
	c.Capacity = withDefaultCapacity(c.Capacity)
	if c.RenewInterval <= 0 {
		c.RenewInterval = 10 * time.Second
	}
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 40 * time.Second
	}
	if c.StatusInterval <= 0 {
		c.StatusInterval = 5 * time.Minute
	}
	if c.QPS <= 0 {
		c.QPS = max(100, 2*float64(c.Count)/c.RenewInterval.Seconds())
	}
	if c.Burst <= 0 {
		c.Burst = max(10, int(c.QPS/10))
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

func withDefaultCapacity(in corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("4"),
		corev1.ResourceMemory:           resource.MustParse("32Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	for k, v := range in {
		out[k] = v.DeepCopy()
	}
	return out
}

// Cluster is a running set of hollow nodes.
type Cluster struct {
	cfg     Config
	names   []string
	nodes   map[string]*node
	queue   workqueue.TypedRateLimitingInterface[task]
	limiter flowcontrol.RateLimiter
	// registered switches the limiter on after registration.
	registered atomic.Bool
	pods       *podRunner
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	stop       sync.Once
}

// task is one unit of work for the shared workers.
type task struct {
	kind taskKind
	key  string // node name, or namespace/name of a pod
}

type taskKind int

const (
	renewLease taskKind = iota
	postStatus
	syncPod
)

// Start registers cfg.Count nodes and their Leases, then keeps them alive
// until Stop or ctx ends. It returns once every node is registered (and, with
// RunPods, once the pod informer has synced).
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Cluster{
		cfg: cfg, nodes: make(map[string]*node, cfg.Count), cancel: cancel,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[task](50*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[task]{Name: "hollow"}),
		limiter: flowcontrol.NewTokenBucketRateLimiter(float32(cfg.QPS), cfg.Burst),
	}
	for i := range cfg.Count {
		n := newNode(cfg.NamePrefix, i)
		c.names = append(c.names, n.name)
		c.nodes[n.name] = n
	}
	if err := c.registerAll(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	c.registered.Store(true)
	if cfg.RunPods {
		if err := c.startPods(ctx); err != nil {
			c.Stop()
			return nil, err
		}
	}
	for range cfg.Workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	c.scheduleHeartbeats()
	go func() {
		<-ctx.Done()
		c.queue.ShutDown()
	}()
	return c, nil
}

// Names lists the nodes' names in index order.
func (c *Cluster) Names() []string { return append([]string(nil), c.names...) }

// StopHeartbeat makes node behave like a kubelet that died: its Lease is no
// longer renewed and its status no longer reported. Its pods are left as
// they are.
func (c *Cluster) StopHeartbeat(name string) {
	if n := c.nodes[name]; n != nil {
		n.setHeartbeat(false)
	}
}

// ResumeHeartbeat brings node back: it reports Ready at once and renews its
// Lease again.
func (c *Cluster) ResumeHeartbeat(name string) {
	n := c.nodes[name]
	if n == nil || !n.setHeartbeat(true) {
		return
	}
	c.queue.Add(task{renewLease, name})
	c.queue.Add(task{postStatus, name})
	if c.pods != nil {
		c.pods.resync(name)
	}
}

// Stop ends all heartbeats and pod handling and waits for the workers. The
// Nodes and Leases stay in the API, as they would after kubelets crashed.
func (c *Cluster) Stop() {
	c.stop.Do(func() {
		c.cancel()
		c.queue.ShutDown()
		c.wg.Wait()
		if c.pods != nil {
			c.pods.factory.Shutdown()
		}
	})
}

// scheduleHeartbeats spreads the first renewals and status reports evenly
// over their intervals so that the writes are a steady stream, not a
// thundering herd every ten seconds.
func (c *Cluster) scheduleHeartbeats() {
	n := len(c.names)
	for i, name := range c.names {
		c.queue.AddAfter(task{renewLease, name}, c.cfg.RenewInterval*time.Duration(i)/time.Duration(n))
		c.queue.AddAfter(task{postStatus, name}, c.cfg.StatusInterval*time.Duration(i+1)/time.Duration(n))
	}
}

func (c *Cluster) processNext(ctx context.Context) bool {
	t, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(t)
	var err error
	switch t.kind {
	case renewLease:
		err = c.renew(ctx, t.key)
	case postStatus:
		err = c.report(ctx, t.key)
	case syncPod:
		err = c.pods.sync(ctx, t.key)
	}
	if err != nil && ctx.Err() == nil {
		c.cfg.Logger.Debug("hollow node write failed, retrying", "task", t.kind, "key", t.key, "err", err)
		c.queue.AddRateLimited(t)
		return true
	}
	c.queue.Forget(t)
	return true
}

// write waits for the shared rate limiter before an API write.
func (c *Cluster) write(ctx context.Context) error {
	if !c.registered.Load() {
		return ctx.Err()
	}
	return c.limiter.Wait(ctx)
}

// registerAll creates the Nodes and their Leases with cfg.Workers writers.
func (c *Cluster) registerAll(ctx context.Context) error {
	work := make(chan *node)
	errs := make(chan error, c.cfg.Workers)
	var wg sync.WaitGroup
	for range c.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				if err := c.register(ctx, n); err != nil {
					errs <- fmt.Errorf("register node %s: %w", n.name, err)
					return
				}
			}
		}()
	}
	var err error
loop:
	for _, name := range c.names {
		select {
		case work <- c.nodes[name]:
		case err = <-errs:
			break loop
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}
