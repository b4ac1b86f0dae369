package proxy_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/proxy"
	"github.com/navarch/navarch/internal/proxy/netnstest"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

// cluster is one node namespace running the proxy, three backend pods, a
// client pod and an outside host on a separate link.
type cluster struct {
	client   kubernetes.Interface
	node     *netnstest.NS
	pods     []*netnstest.NS
	inPod    *netnstest.NS
	outside  *netnstest.NS
	podIPs   []string
	nodeIP   string
	listings func() string
}

func startCluster(t *testing.T) *cluster {
	netnstest.Require(t)
	env := testserver.Start(t)
	c := &cluster{client: env.Client, nodeIP: "172.31.99.1"}
	c.node = netnstest.New(t, "nvpxn")
	c.node.Bridge("br0", "10.244.1.1/24")
	if err := c.node.Do(func() error { return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ip := fmt.Sprintf("10.244.1.%d", 10+i)
		p := netnstest.Attach(t, c.node, "br0", "nvpxp", ip+"/24", "10.244.1.1")
		p.Serve(":8080", fmt.Sprintf("pod-%d", i))
		c.pods, c.podIPs = append(c.pods, p), append(c.podIPs, ip)
	}
	c.inPod = netnstest.Attach(t, c.node, "br0", "nvpxc", "10.244.1.50/24", "10.244.1.1")
	c.outside = netnstest.New(t, "nvpxo")
	c.node.IP("link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", c.outside.Name)
	c.node.IP("addr", "add", c.nodeIP+"/24", "dev", "ext0")
	c.node.IP("link", "set", "ext0", "up")
	c.outside.IP("addr", "add", "172.31.99.2/24", "dev", "eth0")
	c.outside.IP("link", "set", "eth0", "up")
	c.outside.IP("route", "add", "default", "via", c.nodeIP)
	// Like a real node, one with a default route: unprogrammed Service
	// IPs would be forwarded there.
	c.node.IP("route", "add", "default", "via", "172.31.99.2")
	fd, err := c.node.Fd()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	_, cidr, _ := net.ParseCIDR("10.244.0.0/16")
	p, err := proxy.New(proxy.Config{Client: env.Client, NodeName: "node-1", ClusterCIDR: cidr, Table: "navarch-it", NetNSFd: fd})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	c.listings = func() string { out, _ := c.node.Exec("nft", "list", "table", "ip", "navarch-it"); return out }
	return c
}

func (c *cluster) createService(t *testing.T, mut func(*corev1.Service)) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "hello"},
		Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("web")}}}}
	if mut != nil {
		mut(svc)
	}
	svc, err := c.client.CoreV1().Services("default").Create(context.Background(), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// setEndpoints writes the Service's one slice; ready[i] is pod i's
// readiness, and pods beyond len(ready) are left out.
func (c *cluster) setEndpoints(t *testing.T, ready ...bool) {
	t.Helper()
	nodes := make([]string, len(ready))
	for i := range nodes {
		nodes[i] = "node-1"
	}
	c.writeSlice(t, 8080, ready, nodes)
}

// writeSlice writes the Service's one slice with target port port: pod i
// with readiness ready[i], on node nodes[i].
func (c *cluster) writeSlice(t *testing.T, port int32, ready []bool, nodes []string) {
	t.Helper()
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "hello-abc", Namespace: "default",
		Labels: map[string]string{discoveryv1.LabelServiceName: "hello"}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}}}
	for i, r := range ready {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{c.podIPs[i]}, NodeName: ptr.To(nodes[i]),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(r), Serving: ptr.To(r), Terminating: ptr.To(false)}})
	}
	ctx := context.Background()
	api := c.client.DiscoveryV1().EndpointSlices("default")
	old, err := api.Get(ctx, s.Name, metav1.GetOptions{})
	if err == nil {
		s.ResourceVersion = old.ResourceVersion
		_, err = api.Update(ctx, s, metav1.UpdateOptions{})
	} else {
		_, err = api.Create(ctx, s, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// replies sends n requests from ns to addr and counts the bodies.
func replies(ns *netnstest.NS, addr string, n int) (map[string]int, error) {
	seen := map[string]int{}
	for range n {
		body, err := ns.Get(addr)
		if err != nil {
			return seen, err
		}
		seen[body]++
	}
	return seen, nil
}

// waitReplies waits until n requests get replies from exactly want.
func (c *cluster) waitReplies(t *testing.T, from *netnstest.NS, addr string, n int, want ...string) {
	t.Helper()
	var last map[string]int
	var lastErr error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		last, lastErr = replies(from, addr, n)
		if lastErr == nil && len(last) == len(want) {
			ok := true
			for _, w := range want {
				ok = ok && last[w] > 0
			}
			if ok {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s from %s: replies %v (err %v), want all of %v\n%s", addr, from.Name, last, lastErr, want, c.listings())
}

func TestProxyServiceTraffic(t *testing.T) {
	c := startCluster(t)
	svc := c.createService(t, nil)
	vip := svc.Spec.ClusterIP + ":80"
	nodePort := fmt.Sprintf("%s:%d", c.nodeIP, svc.Spec.Ports[0].NodePort)

	// No endpoints yet: the connection is refused, not left hanging.
	testserver.Eventually(t, 10*time.Second, "connection refused without endpoints", func() (bool, error) {
		_, err := c.inPod.Get(vip)
		return err != nil && strings.Contains(err.Error(), "refused"), nil
	})

	c.setEndpoints(t, true, true, true)
	t.Run("ClusterIP balances over all backends", func(t *testing.T) {
		c.waitReplies(t, c.inPod, vip, 30, "pod-0", "pod-1", "pod-2")
	})
	t.Run("ClusterIP from the node itself", func(t *testing.T) {
		c.waitReplies(t, c.node, vip, 30, "pod-0", "pod-1", "pod-2")
	})
	t.Run("hairpin: a backend reaches itself through the ClusterIP", func(t *testing.T) {
		c.waitReplies(t, c.pods[0], vip, 30, "pod-0", "pod-1", "pod-2")
	})
	t.Run("NodePort from outside the node", func(t *testing.T) {
		c.waitReplies(t, c.outside, nodePort, 30, "pod-0", "pod-1", "pod-2")
	})
	t.Run("only ready endpoints receive traffic", func(t *testing.T) {
		c.setEndpoints(t, true, false, true)
		c.waitReplies(t, c.inPod, vip, 30, "pod-0", "pod-2")
		c.setEndpoints(t, true, true, true)
		c.waitReplies(t, c.inPod, vip, 30, "pod-0", "pod-1", "pod-2")
	})
	t.Run("session affinity ClientIP pins a client", func(t *testing.T) {
		ctx := context.Background()
		s, err := c.client.CoreV1().Services("default").Get(ctx, "hello", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](60)}}
		if _, err := c.client.CoreV1().Services("default").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		testserver.Eventually(t, 10*time.Second, "affinity rules", func() (bool, error) {
			return strings.Contains(c.listings(), "update @aff-60s-"), nil
		})
		seen, err := replies(c.inPod, vip, 20)
		if err != nil || len(seen) != 1 {
			t.Errorf("with affinity one client got %v (err %v), want one backend\n%s", seen, err, c.listings())
		}
	})
	t.Run("endpoints removed: refused again", func(t *testing.T) {
		if err := c.client.DiscoveryV1().EndpointSlices("default").Delete(context.Background(), "hello-abc", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		testserver.Eventually(t, 10*time.Second, "refused after the endpoints went", func() (bool, error) {
			_, err := c.inPod.Get(vip)
			return err != nil && strings.Contains(err.Error(), "refused"), nil
		})
	})
}

func TestProxySelectorlessServiceWithManualEndpoints(t *testing.T) {
	c := startCluster(t)
	svc := c.createService(t, func(s *corev1.Service) {
		s.Spec.Selector = nil
		s.Spec.Type = corev1.ServiceTypeClusterIP
		s.Spec.Ports[0].TargetPort = intstr.FromInt32(8080)
	})
	_, err := c.client.CoreV1().Endpoints("default").Create(context.Background(), &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: c.podIPs[1]}},
			Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.waitReplies(t, c.inPod, svc.Spec.ClusterIP+":80", 10, "pod-1")
}

func TestProxyExternalTrafficPolicyLocal(t *testing.T) {
	c := startCluster(t)
	// The backends answer with their name and the client address they see.
	for i, p := range c.pods {
		p.ServeFunc(":8081", func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			fmt.Fprintf(w, "pod-%d from %s", i, host)
		})
	}
	svc := c.createService(t, func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.Ports[0].TargetPort = intstr.FromInt32(8081)
	})
	vip := svc.Spec.ClusterIP + ":80"
	nodePort := fmt.Sprintf("%s:%d", c.nodeIP, svc.Spec.Ports[0].NodePort)
	// pod-0 is this node's; the others are labelled as another node's
	// (the bridge still reaches them).
	c.writeSlice(t, 8081, []bool{true, true, true}, []string{"node-1", "node-2", "node-2"})

	t.Run("outside clients reach only local endpoints, with their address kept", func(t *testing.T) {
		c.waitReplies(t, c.outside, nodePort, 20, "pod-0 from 172.31.99.2")
	})
	t.Run("pods reach every endpoint through the ClusterIP", func(t *testing.T) {
		c.waitReplies(t, c.inPod, vip, 30, "pod-0 from 10.244.1.50", "pod-1 from 10.244.1.50", "pod-2 from 10.244.1.50")
	})
	t.Run("the node reaches every endpoint through the NodePort, masqueraded", func(t *testing.T) {
		c.waitReplies(t, c.node, nodePort, 30, "pod-0 from 10.244.1.1", "pod-1 from 10.244.1.1", "pod-2 from 10.244.1.1")
	})
	t.Run("the local endpoint moves: outside traffic follows", func(t *testing.T) {
		c.writeSlice(t, 8081, []bool{true, true, true}, []string{"node-2", "node-1", "node-2"})
		c.waitReplies(t, c.outside, nodePort, 20, "pod-1 from 172.31.99.2")
	})
	t.Run("no local endpoint: outside traffic is dropped, pods still served", func(t *testing.T) {
		c.writeSlice(t, 8081, []bool{true, true, true}, []string{"node-2", "node-2", "node-2"})
		testserver.Eventually(t, 15*time.Second, "NodePort dropped without local endpoints", func() (bool, error) {
			_, err := c.outside.Get(nodePort)
			return err != nil && !strings.Contains(err.Error(), "refused"), nil
		})
		c.waitReplies(t, c.inPod, vip, 30, "pod-0 from 10.244.1.50", "pod-1 from 10.244.1.50", "pod-2 from 10.244.1.50")
	})
}
