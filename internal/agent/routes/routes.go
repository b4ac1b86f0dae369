package routes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"time"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Protocol marks navarch's routes (rtnetlink protocol numbers above 200
// are free for local use; see /etc/iproute2/rt_protos).
const Protocol = netlink.RouteProtocol(212)

// Config configures the route keeper.
type Config struct {
	Client kubernetes.Interface
	// NodeName is this node; its own pod CIDR is on its bridge already.
	NodeName string
	// ClusterCIDR is the pod network; pod traffic leaving it is
	// masqueraded.
	ClusterCIDR *net.IPNet
	// PodCIDR is this node's pod range (the masquerade source).
	PodCIDR *net.IPNet
	// Table is the nftables table for the masquerade rule.
	Table string
	// Resync is how often routes are checked even without Node events.
	Resync time.Duration
	Logger *slog.Logger
}

// Route is one wanted route: Dst via Gw.
type Route struct {
	Dst *net.IPNet
	Gw  net.IP
}

func (r Route) String() string { return r.Dst.String() + " via " + r.Gw.String() }

// Wanted computes the routes to the other nodes' pod CIDRs.
func Wanted(nodes []*corev1.Node, self string) []Route {
	var out []Route
	for _, n := range nodes {
		if n.Name == self {
			continue
		}
		gw := internalIP(n)
		if gw == nil {
			continue
		}
		cidrs := n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		for _, c := range cidrs {
			_, dst, err := net.ParseCIDR(c)
			if err != nil || (dst.IP.To4() == nil) != (gw.To4() == nil) {
				continue
			}
			out = append(out, Route{Dst: dst, Gw: gw})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dst.String() < out[j].Dst.String() })
	return out
}

func internalIP(n *corev1.Node) net.IP {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			if ip := net.ParseIP(a.Address); ip != nil {
				return ip
			}
		}
	}
	return nil
}

// Keeper keeps the routes and the masquerade rule.
type Keeper struct {
	cfg    Config
	log    *slog.Logger
	nodes  corelisters.NodeLister
	synced cache.InformerSynced
	kick   chan struct{}
	f      informers.SharedInformerFactory
}

// New builds a Keeper; Run starts it.
func New(cfg Config) (*Keeper, error) {
	if cfg.Client == nil || cfg.NodeName == "" {
		return nil, errors.New("routes: a client and a node name are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Resync == 0 {
		cfg.Resync = 30 * time.Second
	}
	k := &Keeper{cfg: cfg, log: cfg.Logger.With("component", "routes"), kick: make(chan struct{}, 1)}
	k.f = informers.NewSharedInformerFactory(cfg.Client, 0)
	inf := k.f.Core().V1().Nodes()
	k.nodes, k.synced = inf.Lister(), inf.Informer().HasSynced
	kick := func(any) {
		select {
		case k.kick <- struct{}{}:
		default:
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: kick, UpdateFunc: func(_, o any) { kick(o) }, DeleteFunc: kick}); err != nil {
		return nil, err
	}
	return k, nil
}

// Run keeps routes until ctx ends; the masquerade table is removed then
// (routes stay: traffic between running pods keeps flowing).
func (k *Keeper) Run(ctx context.Context) error {
	enableForwarding(k.log)
	if k.cfg.ClusterCIDR != nil && k.cfg.PodCIDR != nil && k.cfg.Table != "" {
		if err := programMasquerade(k.cfg.Table, k.cfg.PodCIDR, k.cfg.ClusterCIDR); err != nil {
			k.log.Error("pod egress masquerade", "err", err)
		} else {
			defer func() { _ = deleteTable(k.cfg.Table) }()
		}
	}
	k.f.Start(ctx.Done())
	defer k.f.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), k.synced) {
		return fmt.Errorf("routes: caches did not sync: %w", ctx.Err())
	}
	tick := time.NewTicker(k.cfg.Resync)
	defer tick.Stop()
	for {
		if err := k.sync(); err != nil {
			k.log.Warn("sync routes", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-k.kick:
		case <-tick.C:
		}
	}
}

func (k *Keeper) sync() error {
	nodes, err := k.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	return Apply(Wanted(nodes, k.cfg.NodeName), k.log)
}

// Apply makes navarch's routes exactly want: replaced when they differ,
// deleted when no longer wanted.
func Apply(want []Route, log *slog.Logger) error {
	have, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Protocol: Protocol}, netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	wanted := map[string]Route{}
	for _, r := range want {
		wanted[r.Dst.String()] = r
	}
	var errs []error
	for _, h := range have {
		if h.Dst == nil {
			continue
		}
		if w, ok := wanted[h.Dst.String()]; !ok || !w.Gw.Equal(h.Gw) {
			if err := netlink.RouteDel(&h); err != nil {
				errs = append(errs, fmt.Errorf("delete route %s: %w", h.Dst, err))
			} else if !ok {
				log.Info("removed route", "dst", h.Dst.String())
			}
			continue
		}
		delete(wanted, h.Dst.String())
	}
	for _, w := range wanted {
		r := &netlink.Route{Dst: w.Dst, Gw: w.Gw, Protocol: Protocol}
		if err := netlink.RouteReplace(r); err != nil {
			errs = append(errs, fmt.Errorf("route %s (the nodes must share a link): %w", w, err))
			continue
		}
		log.Info("added route", "route", w.String())
	}
	return errors.Join(errs...)
}

// enableForwarding turns on what a node router needs: IPv4 forwarding, and
// netfilter for bridged traffic (pod to pod on one bridge through a
// Service IP must be un-NATed on its way back).
func enableForwarding(log *slog.Logger) {
	for _, p := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/bridge/bridge-nf-call-iptables"} {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 && b[0] == '1' {
			continue
		}
		if err := os.WriteFile(p, []byte("1"), 0o644); err != nil {
			log.Warn("cannot enable "+p, "err", err)
		}
	}
}
