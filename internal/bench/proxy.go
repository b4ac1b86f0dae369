package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/proxy"
)

// ProxyOptions configure `navarch bench proxy`.
type ProxyOptions struct {
	// Services are the sizes to measure an endpoint change at; every
	// Service has EndpointsPer endpoints.
	Services     []int
	EndpointsPer int
	// Changes is how many endpoint changes are timed per size.
	Changes int
	// Duration and Concurrency shape each connection-rate round.
	Duration    time.Duration
	Concurrency int
	// Rounds alternate direct and ClusterIP measurements.
	Rounds int
	Out    io.Writer
}

// Proxy runs both parts of the proxy benchmark in network namespaces it
// creates (and deletes).
func Proxy(ctx context.Context, o ProxyOptions) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("bench proxy needs root (network namespaces, nftables)")
	}
	for _, n := range o.Services {
		if err := proxyChangeLatency(ctx, o, n); err != nil {
			return err
		}
	}
	return proxyThroughput(ctx, o)
}

// proxyChangeLatency programs n Services through the real proxy (informers
// over an in-memory clientset, so API latency is left out) and times
// EndpointSlice updates from the write to the end of the nftables
// transaction that carries them.
func proxyChangeLatency(ctx context.Context, o ProxyOptions, n int) error {
	ns, err := newNetns("nvbp")
	if err != nil {
		return err
	}
	defer ns.delete()
	fd, err := ns.fd()
	if err != nil {
		return err
	}
	defer closeFd(fd)
	client := fake.NewClientset()
	for i := range n {
		if err := createBenchService(ctx, client, i, o.EndpointsPer); err != nil {
			return err
		}
	}
	synced := make(chan []string, 1024)
	_, cidr, _ := net.ParseCIDR("10.244.0.0/16")
	p, err := proxy.New(proxy.Config{Client: client, NodeName: "node-0", ClusterCIDR: cidr, Table: "navarch-bench", NetNSFd: fd,
		AfterSync: func(keys []string) { synced <- keys }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); _ = p.Run(pctx) }()
	defer func() { cancel(); <-done }()
	if err := waitSynced(synced, n, 2*time.Minute); err != nil {
		return err
	}
	initial := time.Since(start)
	var lat latencies
	for i := range o.Changes {
		target := (i * 7919) % n
		key := fmt.Sprintf("bench/svc-%d", target)
		t0 := time.Now()
		if err := updateBenchSlice(ctx, client, target, i+1, o.EndpointsPer); err != nil {
			return err
		}
		if err := waitKey(synced, key, 10*time.Second); err != nil {
			return err
		}
		lat = append(lat, time.Since(t0))
	}
	fmt.Fprintf(o.Out, "endpoint change with %d Services x %d endpoints: p50 %s, p99 %s, max %s over %d changes (initial programming %s)\n",
		n, o.EndpointsPer, ms(lat.pct(0.5)), ms(lat.pct(0.99)), ms(lat.pct(1)), len(lat), initial.Round(time.Millisecond))
	return nil
}

func benchServiceIP(i int) string { return fmt.Sprintf("10.%d.%d.%d", 96+i/65536, (i/256)%256, i%256) }

func createBenchService(ctx context.Context, c *fake.Clientset, i, eps int) error {
	ip := benchServiceIP(i)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("svc-%d", i)},
		Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip}, Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}}
	if _, err := c.CoreV1().Services("bench").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	_, err := c.DiscoveryV1().EndpointSlices("bench").Create(ctx, benchSlice(i, 0, eps), metav1.CreateOptions{})
	return err
}

// benchSlice is Service i's slice; gen shifts the addresses so that every
// update changes one endpoint.
func benchSlice(i, gen, eps int) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("svc-%d-x", i),
		Labels: map[string]string{discoveryv1.LabelServiceName: fmt.Sprintf("svc-%d", i)}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}}}
	for e := range eps {
		host := (i*eps+e)%60000 + gen*(1-min(e, 1))
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.244.%d.%d", (host/250)%256, host%250+2)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	}
	return s
}

func updateBenchSlice(ctx context.Context, c *fake.Clientset, i, gen, eps int) error {
	_, err := c.DiscoveryV1().EndpointSlices("bench").Update(ctx, benchSlice(i, gen, eps), metav1.UpdateOptions{})
	return err
}

// waitSynced waits until n distinct Services were programmed.
func waitSynced(ch chan []string, n int, timeout time.Duration) error {
	seen := map[string]bool{}
	deadline := time.After(timeout)
	for len(seen) < n {
		select {
		case keys := <-ch:
			for _, k := range keys {
				seen[k] = true
			}
		case <-deadline:
			return fmt.Errorf("only %d of %d Services programmed after %s", len(seen), n, timeout)
		}
	}
	return nil
}

func waitKey(ch chan []string, key string, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		select {
		case keys := <-ch:
			for _, k := range keys {
				if k == key {
					return nil
				}
			}
		case <-deadline:
			return fmt.Errorf("%s not programmed after %s", key, timeout)
		}
	}
}
