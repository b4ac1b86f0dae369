// Package manager runs navarch's controllers in one process: it builds the
// shared clients and informers, constructs every enabled controller, and
// runs them together while this process holds the controller-manager
// Lease, so that with several servers only one manager acts. It talks to
// the API server only through client-go.
package manager

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// Config configures the manager.
type Config struct {
	// RestConfig reaches the API server.
	RestConfig *rest.Config
	Options    controller.Options
	// Disabled names controllers not to run.
	Disabled []string
	// LeaderElect runs the controllers only while holding the Lease
	// kube-system/kube-controller-manager.
	LeaderElect bool
	// Identity is this candidate's name in the Lease (default: host name).
	Identity string
	Logger   *slog.Logger
}

// Constructor builds one controller.
type Constructor func(controller.Context) (controller.Controller, error)

// Run blocks until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client, err := kubernetes.NewForConfig(cfg.RestConfig)
	if err != nil {
		return err
	}
	if !cfg.LeaderElect {
		return runControllers(ctx, cfg, client)
	}
	return lead(ctx, cfg, client)
}

func lead(ctx context.Context, cfg Config, client kubernetes.Interface) error {
	id := cfg.Identity
	if id == "" {
		host, _ := os.Hostname()
		id = fmt.Sprintf("%s_%d", host, os.Getpid())
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, "kube-system", "kube-controller-manager",
		client.CoreV1(), client.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return err
	}
	// Losing the Lease stops the controllers; the manager then waits for
	// them to wind down and stands for election again, until ctx ends.
	for ctx.Err() == nil {
		if err := leadOnce(ctx, cfg, client, lock); err != nil {
			return err
		}
	}
	return nil
}

// leadOnce runs one term: it campaigns, runs the controllers while leading,
// and returns once they have stopped.
func leadOnce(ctx context.Context, cfg Config, client kubernetes.Interface, lock resourcelock.Interface) error {
	t := &term{done: make(chan error, 1)}
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock: lock, ReleaseOnCancel: true, Name: "kube-controller-manager",
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) { t.run(func() error { return runControllers(ctx, cfg, client) }) },
			OnStoppedLeading: func() { cfg.Logger.Info("controller manager lost its lease") },
		},
	})
	return t.wait()
}

// term joins the controllers of one leadership term: RunOrDie starts
// OnStartedLeading in a goroutine and does not wait for it.
type term struct {
	mu      sync.Mutex
	over    bool
	running bool
	done    chan error
}

func (t *term) run(f func() error) {
	t.mu.Lock()
	if t.over {
		t.mu.Unlock()
		return
	}
	t.running = true
	t.mu.Unlock()
	t.done <- f()
}

// wait ends the term and waits for its controllers if they started.
func (t *term) wait() error {
	t.mu.Lock()
	t.over = true
	running := t.running
	t.mu.Unlock()
	if !running {
		return nil
	}
	return <-t.done
}

// runControllers builds the enabled controllers, starts the informers they
// registered, and runs them until ctx ends.
func runControllers(ctx context.Context, cfg Config, client kubernetes.Interface) error {
	cc, stopEvents, err := newContext(ctx, cfg, client)
	if err != nil {
		return err
	}
	defer stopEvents()
	var ctrls []controller.Controller
	for _, c := range enabled(cfg.Disabled) {
		ctl, err := c.new(cc)
		if err != nil {
			return fmt.Errorf("controller %s: %w", c.name, err)
		}
		ctrls = append(ctrls, ctl)
	}
	cc.Informers.Start(ctx.Done())
	var wg sync.WaitGroup
	for _, ctl := range ctrls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ctl.Run(ctx); err != nil && ctx.Err() == nil {
				cfg.Logger.Error("controller stopped", "controller", ctl.Name(), "err", err)
			}
		}()
	}
	cfg.Logger.Info("controllers started", "count", len(ctrls))
	wg.Wait()
	cc.Informers.Shutdown()
	return nil
}

func newContext(ctx context.Context, cfg Config, client kubernetes.Interface) (controller.Context, func(), error) {
	md, err := metadata.NewForConfig(cfg.RestConfig)
	if err != nil {
		return controller.Context{}, nil, err
	}
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	opts := cfg.Options
	if opts.Workers == 0 {
		opts = controller.DefaultOptions()
	}
	return controller.Context{
		Client: client, Informers: informers.NewSharedInformerFactory(client, 0), Metadata: md,
		Recorder: func(component string) record.EventRecorder {
			return b.NewRecorder(clientscheme.Scheme, corev1.EventSource{Component: component})
		},
		Logger: cfg.Logger, Options: opts,
	}, b.Shutdown, nil
}
