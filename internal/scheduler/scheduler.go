// Package scheduler is navarch's kube-scheduler: it watches pods that
// name one of its profiles in spec.schedulerName and have no node, picks a
// node for each through the profile's plugins (see package framework), and
// binds the pod through the pods/binding subresource. Pods that fit nowhere
// get a FailedScheduling event and a PodScheduled=False condition, may
// preempt lower-priority pods, and are retried with back-off when the
// cluster changes. With leader election only the holder of the Lease
// kube-system/kube-scheduler schedules.
//
// It talks to the API server only through client-go; it must not import
// the API server's packages.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	schedulinglisters "k8s.io/client-go/listers/scheduling/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/navarch/navarch/internal/gopool"
	schedcache "github.com/navarch/navarch/internal/scheduler/cache"
	"github.com/navarch/navarch/internal/scheduler/config"
	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/plugins"
	"github.com/navarch/navarch/internal/scheduler/queue"
)

// Config configures the scheduler.
type Config struct {
	// RestConfig reaches the API server (unless Client is set).
	RestConfig *rest.Config
	// Client, when set, is used instead of one built from RestConfig.
	Client kubernetes.Interface
	// ConfigFile is a KubeSchedulerConfiguration-shaped file; empty means
	// one "default-scheduler" profile with the default plugins.
	ConfigFile string
	// Configuration, when set, is used instead of ConfigFile.
	Configuration *config.Configuration
	// LeaderElect schedules only while holding the Lease
	// kube-system/kube-scheduler.
	LeaderElect bool
	// Identity names this candidate in the Lease (default: host_pid).
	Identity string
	// Registry replaces the in-tree plugins (tests).
	Registry framework.Registry
	Logger   *slog.Logger
}

// Scheduler is a running scheduler.
type Scheduler struct {
	client      kubernetes.Interface
	informers   informers.SharedInformerFactory
	podFactory  informers.SharedInformerFactory
	cache       *schedcache.Cache
	snapshot    *schedcache.Snapshot
	queue       *queue.Queue
	profiles    map[string]*framework.Framework
	recorders   map[string]events.EventRecorder
	broadcaster events.EventBroadcaster
	pods        corelisters.PodLister
	priorities  schedulinglisters.PriorityClassLister
	percentage  int32
	parallelism int
	log         *slog.Logger
	// nextStart rotates where the node scan begins, so that nodes are
	// considered evenly.
	nextStart int
	binding   sync.WaitGroup
	// binders run bindings, status patches and event sends: reused
	// goroutines keep the stack an API call grows to.
	binders *gopool.Pool
	// term is held by the scheduling loop of a leadership term, so that a
	// new term starts only once the lost one's loop has returned.
	term sync.Mutex
	cfg  *config.Configuration
	// statusBuf holds per-node filter results within one cycle.
	statusBuf []*framework.Status
}

// Run starts the scheduler and blocks until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.shutdown()
	if err := s.start(ctx); err != nil {
		return err
	}
	if !cfg.LeaderElect {
		s.schedule(ctx)
		return nil
	}
	return s.lead(ctx, cfg)
}

// New builds a scheduler without starting it.
func New(ctx context.Context, cfg Config) (*Scheduler, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	conf := cfg.Configuration
	if conf == nil {
		var err error
		if conf, err = config.Load(cfg.ConfigFile); err != nil {
			return nil, err
		}
	}
	client := cfg.Client
	if client == nil {
		if cfg.RestConfig == nil {
			return nil, errors.New("scheduler: Config.RestConfig or Config.Client is required")
		}
		var err error
		if client, err = kubernetes.NewForConfig(cfg.RestConfig); err != nil {
			return nil, err
		}
	}
	reg := cfg.Registry
	if reg == nil {
		reg = plugins.NewRegistry()
	}
	binders := gopool.New(10 * time.Second)
	s := &Scheduler{
		client: client, cache: schedcache.New(), snapshot: schedcache.NewEmptySnapshot(),
		informers: informers.NewSharedInformerFactory(client, 0),
		// Terminated pods hold no resources: upstream's scheduler does not
		// watch them either.
		podFactory: informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = "status.phase!=Succeeded,status.phase!=Failed"
		})),
		profiles: map[string]*framework.Framework{}, recorders: map[string]events.EventRecorder{}, binders: binders,
		broadcaster: events.NewBroadcaster(newEventSink(client, binders)),
		percentage:  *conf.PercentageOfNodesToScore, parallelism: int(*conf.Parallelism),
		log: cfg.Logger, cfg: conf,
	}
	if err := s.buildProfiles(reg, conf); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Scheduler) buildProfiles(reg framework.Registry, conf *config.Configuration) error {
	nominator := queue.NewNominator()
	var queueSort string
	var first *framework.Framework
	for _, p := range conf.Profiles {
		rec := s.broadcaster.NewRecorder(clientscheme.Scheme, p.SchedulerName)
		fwk, err := framework.New(reg, p.Resolve(), framework.Options{Client: s.client, Informers: s.informers,
			Recorder: rec, Snapshot: s.snapshot, Nominator: nominator, Parallelism: s.parallelism})
		if err != nil {
			return fmt.Errorf("profile %q: %w", p.SchedulerName, err)
		}
		if first == nil {
			first, queueSort = fwk, fwk.QueueSortName()
		} else if fwk.QueueSortName() != queueSort {
			return fmt.Errorf("profile %q: every profile must use the same queueSort plugin (%q), got %q", p.SchedulerName, queueSort, fwk.QueueSortName())
		}
		s.profiles[p.SchedulerName], s.recorders[p.SchedulerName] = fwk, rec
	}
	evs := map[string][]framework.ClusterEvent{}
	for _, fwk := range s.profiles {
		for name, e := range fwk.EnqueueEvents() {
			evs[name] = append(evs[name], e...)
		}
	}
	s.queue = queue.New(queue.Options{Less: first.QueueSortLess, Events: evs, Nominator: nominator,
		InitialBackoff: time.Duration(*conf.PodInitialBackoffSeconds) * time.Second,
		MaxBackoff:     time.Duration(*conf.PodMaxBackoffSeconds) * time.Second})
	return nil
}

// Profiles lists the profiles' frameworks by schedulerName (tests).
func (s *Scheduler) Profiles() map[string]*framework.Framework { return s.profiles }

// start registers the handlers, starts the informers and waits for them
// to sync, so that the first cycle sees the whole cluster.
func (s *Scheduler) start(ctx context.Context) error {
	if err := s.addHandlers(); err != nil {
		return err
	}
	if err := s.broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return err
	}
	s.informers.Start(ctx.Done())
	s.podFactory.Start(ctx.Done())
	for typ, ok := range s.informers.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("scheduler: %v informer did not sync: %w", typ, context.Cause(ctx))
		}
	}
	for typ, ok := range s.podFactory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("scheduler: %v informer did not sync: %w", typ, context.Cause(ctx))
		}
	}
	go s.queue.Run(ctx)
	return nil
}

func (s *Scheduler) shutdown() {
	s.queue.Close()
	s.binding.Wait()
	s.broadcaster.Shutdown()
	s.informers.Shutdown()
	s.podFactory.Shutdown()
}

// schedule runs scheduling cycles until ctx ends.
func (s *Scheduler) schedule(ctx context.Context) {
	s.log.Info("scheduler started", "profiles", len(s.profiles))
	for ctx.Err() == nil && s.scheduleOne(ctx) {
	}
}

// lead campaigns for the Lease and schedules while holding it; after
// losing it, it campaigns again (the caches stay warm meanwhile).
func (s *Scheduler) lead(ctx context.Context, cfg Config) error {
	id := cfg.Identity
	if id == "" {
		host, _ := os.Hostname()
		id = fmt.Sprintf("%s_%d", host, os.Getpid())
	}
	ns, name := "kube-system", "kube-scheduler"
	if le := s.cfg.LeaderElection; le != nil {
		if le.ResourceNamespace != "" {
			ns = le.ResourceNamespace
		}
		if le.ResourceName != "" {
			name = le.ResourceName
		}
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, ns, name,
		s.client.CoreV1(), s.client.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock: lock, ReleaseOnCancel: true, Name: name,
			LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					s.term.Lock()
					defer s.term.Unlock()
					s.schedule(ctx)
				},
				OnStoppedLeading: func() { s.log.Info("scheduler lost its lease") },
			},
		})
	}
	// RunOrDie does not wait for the term's loop; the caller's shutdown
	// must not race with its last cycle.
	s.term.Lock()
	s.term.Unlock()
	return nil
}

// podInformer is the informer of non-terminated pods.
func (s *Scheduler) podInformer() cache.SharedIndexInformer {
	return s.podFactory.Core().V1().Pods().Informer()
}
