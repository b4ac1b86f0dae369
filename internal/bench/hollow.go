package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/navarch/navarch/internal/hollow"
)

// HollowOptions configure `navarch bench hollow`.
type HollowOptions struct {
	// Kubeconfig reaches the server (empty: $KUBECONFIG or ~/.kube/config).
	Kubeconfig string
	Count      int
	NamePrefix string
	// RunPods reports bound pods Running.
	RunPods bool
	// CPU, Memory and Pods are each node's capacity.
	CPU, Memory string
	Pods        int
	// QPS bounds the nodes' writes together (0: enough for the Leases).
	QPS float64
	Out io.Writer
}

// Hollow runs hollow nodes against a server until ctx ends.
func Hollow(ctx context.Context, o HollowOptions) error {
	capacity := corev1.ResourceList{}
	for name, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: o.CPU, corev1.ResourceMemory: o.Memory, corev1.ResourcePods: fmt.Sprint(o.Pods)} {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return fmt.Errorf("node %s %q: %w", name, v, err)
		}
		capacity[name] = q
	}
	cfg, err := kubeconfig(o.Kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	c, err := hollow.Start(ctx, hollow.Config{Client: client, Count: o.Count, NamePrefix: o.NamePrefix,
		Capacity: capacity, RunPods: o.RunPods, QPS: o.QPS, Logger: slog.Default()})
	if err != nil {
		return err
	}
	defer c.Stop()
	fmt.Fprintf(o.Out, "%d hollow nodes registered in %v; running until interrupted\n", o.Count, time.Since(start).Round(time.Millisecond))
	<-ctx.Done()
	return nil
}

// kubeconfig loads a client config speaking protobuf, without client-side
// rate limits (the caller limits itself).
func kubeconfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return cfg, nil
}
