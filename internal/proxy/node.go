package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/agent/routes"
	"github.com/navarch/navarch/internal/dns"
)

// DNSService is the Service that names the cluster DNS, kept under its
// upstream name for compatibility.
var DNSService = types.NamespacedName{Namespace: metav1.NamespaceSystem, Name: "kube-dns"}

// NodeConfig configures a node's network services.
type NodeConfig struct {
	Client   kubernetes.Interface
	NodeName string
	NodeIP   net.IP
	// DataDir names the node's nftables tables (several agents may share
	// a network namespace in tests).
	DataDir string
	// ClusterCIDR is the pod network of the whole cluster.
	ClusterCIDR string
	// ClusterDomain is the DNS domain (cluster.local).
	ClusterDomain string
	// ClusterDNS are the pods' nameservers; empty uses the kube-dns
	// Service's IP.
	ClusterDNS []string
	// DNSPort is where the node's DNS server listens on NodeIP (53; a
	// free port when taken).
	DNSPort int
	// DeleteOnExit removes the node's nftables tables when it stops.
	DeleteOnExit bool
	Logger       *slog.Logger
}

// NodeNetwork runs the service proxy, the cluster DNS server and the
// host-gw routes of one node.
type NodeNetwork struct {
	cfg        NodeConfig
	log        *slog.Logger
	ctx        context.Context
	cidr       *net.IPNet
	dns        *dns.Server
	clusterDNS []string
	services   corelisters.ServiceLister
	wg         sync.WaitGroup
	routesOnce sync.Once
}

// StartNode starts the node's DNS server and proxy; routes start once the
// node's pod CIDR is known (SetPodCIDR). Everything stops with ctx; Wait
// waits for it.
func StartNode(ctx context.Context, cfg NodeConfig) (*NodeNetwork, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &NodeNetwork{cfg: cfg, log: cfg.Logger, ctx: ctx}
	if cfg.ClusterCIDR != "" {
		_, cidr, err := net.ParseCIDR(cfg.ClusterCIDR)
		if err != nil {
			return nil, fmt.Errorf("cluster CIDR: %w", err)
		}
		n.cidr = cidr
	}
	if err := n.startDNS(); err != nil {
		return nil, err
	}
	redirects := n.findDNSService(ctx)
	p, err := New(Config{Client: cfg.Client, NodeName: cfg.NodeName, ClusterCIDR: n.cidr, Table: TableName(cfg.DataDir),
		Redirects: redirects, DeleteOnExit: cfg.DeleteOnExit, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := n.startServiceLister(ctx); err != nil {
		return nil, err
	}
	n.goRun("proxy", p.Run)
	n.goRun("dns", n.dns.Run)
	return n, nil
}

func (n *NodeNetwork) goRun(name string, run func(context.Context) error) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := run(n.ctx); err != nil && n.ctx.Err() == nil {
			n.log.Error(name+" stopped", "err", err)
		}
	}()
}

// startDNS listens on NodeIP:DNSPort, or on a free port if that is taken
// (several nodes in one network namespace).
func (n *NodeNetwork) startDNS() error {
	port := n.cfg.DNSPort
	if port == 0 {
		port = 53
	}
	host := n.cfg.NodeIP.String()
	cfg := dns.Config{Client: n.cfg.Client, Domain: n.cfg.ClusterDomain, Listen: net.JoinHostPort(host, fmt.Sprint(port)), Logger: n.cfg.Logger}
	srv, err := dns.New(cfg)
	if err != nil && errors.Is(err, syscall.EADDRINUSE) {
		cfg.Listen = net.JoinHostPort(host, "0")
		srv, err = dns.New(cfg)
	}
	if err != nil {
		return err
	}
	n.dns = srv
	return nil
}

// findDNSService points the kube-dns Service's DNS ports at this node's
// server and, unless configured, makes its IP the pods' nameserver.
func (n *NodeNetwork) findDNSService(ctx context.Context) []Redirect {
	var svc *corev1.Service
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := n.cfg.Client.CoreV1().Services(DNSService.Namespace).Get(ctx, DNSService.Name, metav1.GetOptions{})
		if err == nil {
			svc = s
			break
		}
		if apierrors.IsNotFound(err) || time.Now().After(deadline) || ctx.Err() != nil {
			n.log.Warn("no kube-dns Service: pods get the node's DNS address", "err", err)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	addr := n.dns.Addr()
	n.clusterDNS = n.cfg.ClusterDNS
	if svc == nil {
		if len(n.clusterDNS) == 0 && addr.Port == 53 {
			n.clusterDNS = []string{addr.IP.String()}
		}
		return nil
	}
	if len(n.clusterDNS) == 0 && hasClusterIP(svc) {
		n.clusterDNS = []string{svc.Spec.ClusterIP}
	}
	var out []Redirect
	for _, p := range svc.Spec.Ports {
		if p.Port == 53 && (p.Protocol == corev1.ProtocolUDP || p.Protocol == corev1.ProtocolTCP) {
			out = append(out, Redirect{Service: DNSService, Protocol: p.Protocol, Port: 53, To: addr.IP, ToPort: int32(addr.Port)})
		}
	}
	return out
}

func hasClusterIP(s *corev1.Service) bool {
	return s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone
}

// startServiceLister caches Services for the pods' environment variables,
// synced before any pod starts (as the kubelet waits for its Services).
func (n *NodeNetwork) startServiceLister(ctx context.Context) error {
	f := informers.NewSharedInformerFactoryWithOptions(n.cfg.Client, 0, informers.WithTransform(stripManagedFields))
	inf := f.Core().V1().Services()
	n.services = inf.Lister()
	f.Start(ctx.Done())
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(sctx.Done(), inf.Informer().HasSynced) {
		return errors.New("services did not sync")
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		<-ctx.Done()
		f.Shutdown()
	}()
	return nil
}

// ClusterDNS are the nameservers of ClusterFirst pods.
func (n *NodeNetwork) ClusterDNS() []string { return n.clusterDNS }

// DNSAddr is the node's DNS server address.
func (n *NodeNetwork) DNSAddr() *net.UDPAddr { return n.dns.Addr() }

// ServiceEnv is the Service environment of a pod in namespace ns.
func (n *NodeNetwork) ServiceEnv(ns string, enableServiceLinks bool) []corev1.EnvVar {
	svcs, err := n.services.List(labels.Everything())
	if err != nil {
		return nil
	}
	vars := dns.ServiceEnv(svcs, ns, enableServiceLinks)
	out := make([]corev1.EnvVar, len(vars))
	for i, v := range vars {
		out[i] = corev1.EnvVar{Name: v.Name, Value: v.Value}
	}
	return out
}

// SetPodCIDR starts the routes to other nodes and the egress masquerade
// of this node's pods (once).
func (n *NodeNetwork) SetPodCIDR(podCIDR string) {
	n.routesOnce.Do(func() {
		_, pc, err := net.ParseCIDR(podCIDR)
		if err != nil {
			n.log.Error("pod CIDR", "err", err)
			return
		}
		k, err := routes.New(routes.Config{Client: n.cfg.Client, NodeName: n.cfg.NodeName, ClusterCIDR: n.cidr, PodCIDR: pc,
			Table: TableName(n.cfg.DataDir) + "-egress", Logger: n.cfg.Logger})
		if err != nil {
			n.log.Error("routes", "err", err)
			return
		}
		n.goRun("routes", k.Run)
	})
}

// Wait waits for everything to stop after ctx ended.
func (n *NodeNetwork) Wait() { n.wg.Wait() }
