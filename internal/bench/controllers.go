package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/manager"
)

// ControllersOptions configure `navarch bench controllers`.
type ControllersOptions struct {
	// Binary is the navarch executable to start (default: this one).
	Binary string
	// Replicas is the Deployment's size after the scale-up.
	Replicas int32
	// Nodes is how many hollow nodes run the pods.
	Nodes int
	// NodeQPS bounds each hollow node's writes, as a kubelet's client is
	// bounded (the hollow process gets Nodes*NodeQPS in all).
	NodeQPS float64
	// QPS and Burst bound the controller manager's client, as in
	// `navarch server`.
	QPS   float32
	Burst int
	// Timeout bounds each phase.
	Timeout time.Duration
	// CPUProfile, if set, is where this process's CPU profile (the
	// controller manager's) over both phases is written.
	CPUProfile string
	// Progress prints, every second, how far the pods are (it lists all
	// pods, which costs the server: for diagnosis, not for figures).
	Progress bool
	Out      io.Writer
}

// Controllers measures the controller manager: a Deployment scaled from 0
// to Replicas until all are available, then a rolling update of all of
// them (maxSurge 25%), on hollow nodes with the scheduler on. The server
// (API, etcd, scheduler) and the hollow nodes run as child processes; the
// controller manager runs in this process, so that its CPU and memory are
// this process's.
func Controllers(ctx context.Context, o ControllersOptions) error {
	srv, err := startControllerBenchServer(ctx, o.Binary)
	if err != nil {
		return err
	}
	defer srv.stop()
	kc := filepath.Join(srv.dir, "kubeconfig.yaml")
	nodes, err := startHollowChild(ctx, o, kc)
	if err != nil {
		return err
	}
	defer stopChild(nodes)
	cs := srv.clients
	if err := waitNodesReady(ctx, cs, o.Nodes, o.Timeout); err != nil {
		return err
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- runManager(mgrCtx, kc, o) }()
	defer func() { stopMgr(); <-mgrDone }()

	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(o.Out, "navarch bench controllers: %d replicas on %d hollow nodes, scheduler on, controller manager in this process (client %g qps, burst %d)\n",
		o.Replicas, o.Nodes, o.QPS, o.Burst)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := cs.AppsV1().Deployments(benchNS).Create(ctx, benchDeployment(), metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := waitRollout(ctx, cs, o.Timeout, "1", nil); err != nil {
		return fmt.Errorf("empty deployment: %w", err)
	}
	scale := fmt.Sprintf(`{"spec":{"replicas":%d}}`, o.Replicas)
	up, err := measurePhase(srv, func() error {
		_, err := cs.AppsV1().Deployments(benchNS).Patch(ctx, "bench", types.MergePatchType, []byte(scale), metav1.PatchOptions{})
		return err
	}, func(m *meter) error {
		defer progress(ctx, o, cs)()
		_, err := waitRollout(ctx, cs, o.Timeout, "1", m.sample)
		return err
	})
	if err != nil {
		return fmt.Errorf("scale-up: %w", err)
	}
	up.report(o.Out, fmt.Sprintf("scale 0 -> %d, all available", o.Replicas))
	image := `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"busybox:1.37"}]}}}}`
	roll, err := measurePhase(srv, func() error {
		_, err := cs.AppsV1().Deployments(benchNS).Patch(ctx, "bench", types.StrategicMergePatchType, []byte(image), metav1.PatchOptions{})
		return err
	}, func(m *meter) error {
		defer progress(ctx, o, cs)()
		_, err := waitRollout(ctx, cs, o.Timeout, "2", m.sample)
		return err
	})
	if err != nil {
		return fmt.Errorf("rolling update: %w", err)
	}
	roll.report(o.Out, fmt.Sprintf("rolling update of %d (maxSurge 25%%)", o.Replicas))
	return nil
}

func benchDeployment() *appsv1.Deployment {
	zero := int32(0)
	surge, unavailable := intstr.FromString("25%"), intstr.FromString("25%")
	l := map[string]string{"app": "bench"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &zero, Selector: &metav1.LabelSelector{MatchLabels: l},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "busybox:1.36", Command: []string{"sleep", "3600"},
				}}},
			},
		},
	}
}

// startControllerBenchServer runs the API, etcd and the scheduler, but no
// controllers (this process runs them) and no node agent.
func startControllerBenchServer(ctx context.Context, binary string) (*child, error) {
	dir, err := os.MkdirTemp("", "navarch-bench-controllers-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &child{dir: dir, url: "https://127.0.0.1:" + strconv.Itoa(port)}
	c.cmd = exec.CommandContext(ctx, binary, "server", "--data-dir", dir, "--secure-port", strconv.Itoa(port),
		"--bind-address", "127.0.0.1", "--log-level", "warn", "--disable-controllers=*", "--disable-agent")
	c.cmd.Stderr = os.Stderr
	start := time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.stop()
		return nil, err
	}
	c.ready = time.Since(start)
	return c, c.connect(Options{ContentType: "application/vnd.kubernetes.protobuf"})
}

// startHollowChild runs the hollow nodes in their own process, so that
// their work is not counted as the controller manager's.
func startHollowChild(ctx context.Context, o ControllersOptions, kubeconfig string) (*exec.Cmd, error) {
	cmd := exec.CommandContext(ctx, o.Binary, "bench", "hollow", "--kubeconfig", kubeconfig,
		"--count", strconv.Itoa(o.Nodes), "--qps", strconv.FormatFloat(o.NodeQPS*float64(o.Nodes), 'f', -1, 64),
		"--pods", strconv.Itoa(int(o.Replicas)*2/o.Nodes+110))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hollow nodes: %w", err)
	}
	return cmd, nil
}

func stopChild(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
}

func waitNodesReady(ctx context.Context, cs kubernetes.Interface, n int, timeout time.Duration) error {
	return poll(ctx, timeout, func() (bool, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, node := range list.Items {
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= n, nil
	})
}

// runManager runs every controller as `navarch server` does, without
// leader election (the server runs none).
func runManager(ctx context.Context, path string, o ControllersOptions) error {
	cfg, err := kubeconfig(path)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return manager.Run(ctx, manager.Config{RestConfig: cfg, Options: controller.DefaultOptions(), Logger: log})
}

// waitRollout waits until the bench Deployment is rolled out at revision
// rev, as `kubectl rollout status` judges it.
func waitRollout(ctx context.Context, cs kubernetes.Interface, timeout time.Duration, rev string, tick func()) (*appsv1.Deployment, error) {
	var d *appsv1.Deployment
	err := poll(ctx, timeout, func() (bool, error) {
		if tick != nil {
			tick()
		}
		var err error
		d, err = cs.AppsV1().Deployments(benchNS).Get(ctx, "bench", metav1.GetOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err
		}
		s := d.Status
		return d.Generation <= s.ObservedGeneration && d.Annotations["deployment.kubernetes.io/revision"] == rev &&
			s.UpdatedReplicas == *d.Spec.Replicas && s.Replicas == s.UpdatedReplicas && s.AvailableReplicas == s.UpdatedReplicas, nil
	})
	if err != nil && d != nil {
		err = fmt.Errorf("%w (last status %+v)", err, d.Status)
	}
	return d, err
}

func poll(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("not done after %v", timeout), last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// progress prints pod counts every second until the returned stop is called.
func progress(ctx context.Context, o ControllersOptions, cs kubernetes.Interface) func() {
	if !o.Progress {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			list, err := cs.CoreV1().Pods(benchNS).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			if err != nil {
				continue
			}
			var bound, ready, dying int
			for _, p := range list.Items {
				if p.DeletionTimestamp != nil {
					dying++
				}
				if p.Spec.NodeName != "" {
					bound++
				}
				for _, c := range p.Status.Conditions {
					if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
			d, _ := cs.AppsV1().Deployments(benchNS).Get(ctx, "bench", metav1.GetOptions{ResourceVersion: "0"})
			fmt.Fprintf(o.Out, "  %5.1fs pods %d bound %d ready %d terminating %d | deployment updated %d available %d\n",
				time.Since(start).Seconds(), len(list.Items), bound, ready, dying, d.Status.UpdatedReplicas, d.Status.AvailableReplicas)
		}
	}()
	return func() { cancel(); <-done }
}
