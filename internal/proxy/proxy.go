package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Config configures the proxy.
type Config struct {
	Client kubernetes.Interface
	// NodeName is this node (endpoints on it are local).
	NodeName string
	// ClusterCIDR is the pod network (nil: masquerade all Service
	// traffic).
	ClusterCIDR *net.IPNet
	// Table is the nftables table's name (see TableName).
	Table string
	// NetNSFd programs another network namespace (tests); 0 is ours.
	NetNSFd int
	// Redirects send some Service ports to a listener on this node
	// instead of their endpoints (the node-local cluster DNS).
	Redirects []Redirect
	// DeleteOnExit removes the table when Run returns; otherwise the rules
	// stay for the next run, which replaces them.
	DeleteOnExit bool
	// AfterSync, when set, is called with the Services each successful
	// sync programmed (benchmarks).
	AfterSync func(services []string)
	Logger    *slog.Logger
}

// Redirect sends Service port Port/Protocol of Service to To.
type Redirect struct {
	Service  types.NamespacedName
	Protocol corev1.Protocol
	Port     int32
	To       net.IP
	ToPort   int32
}

// TableName derives a table name unique to an agent's data dir, so that
// several agents sharing a network namespace (tests) never share a table.
func TableName(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return "navarch-" + hex.EncodeToString(sum[:])[:8]
}

// Proxy keeps the table in step with Services and EndpointSlices.
type Proxy struct {
	cfg       Config
	log       *slog.Logger
	gen       Generator
	factory   informers.SharedInformerFactory
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
	slices    cache.Indexer
	synced    []cache.InformerSynced

	mu    sync.Mutex
	dirty map[string]bool
	kick  chan struct{}
}

const sliceByService = "service"

// New builds the proxy; Run starts it.
func New(cfg Config) (*Proxy, error) {
	if cfg.Client == nil || cfg.Table == "" {
		return nil, errors.New("proxy: a client and a table name are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Proxy{cfg: cfg, log: cfg.Logger.With("component", "proxy"), gen: Generator{ClusterCIDR: cfg.ClusterCIDR},
		dirty: map[string]bool{}, kick: make(chan struct{}, 1)}
	p.factory = informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithTransform(stripManagedFields))
	svc := p.factory.Core().V1().Services()
	eps := p.factory.Core().V1().Endpoints()
	sl := p.factory.Discovery().V1().EndpointSlices()
	p.services, p.endpoints = svc.Lister(), eps.Lister()
	if err := sl.Informer().AddIndexers(cache.Indexers{sliceByService: indexSlice}); err != nil {
		return nil, err
	}
	p.slices = sl.Informer().GetIndexer()
	for _, inf := range []cache.SharedIndexInformer{svc.Informer(), eps.Informer(), sl.Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: p.changed, UpdateFunc: func(_, o any) { p.changed(o) }, DeleteFunc: p.changed,
		}); err != nil {
			return nil, err
		}
		p.synced = append(p.synced, inf.HasSynced)
	}
	return p, nil
}

func stripManagedFields(obj any) (any, error) {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		a.GetObjectMeta().SetManagedFields(nil)
	}
	return obj, nil
}

func indexSlice(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + name}, nil
}

// changed marks the Service an object belongs to.
func (p *Proxy) changed(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	var key string
	switch o := obj.(type) {
	case *corev1.Service:
		key = o.Namespace + "/" + o.Name
	case *corev1.Endpoints:
		key = o.Namespace + "/" + o.Name
	case *discoveryv1.EndpointSlice:
		if n := o.Labels[discoveryv1.LabelServiceName]; n != "" {
			key = o.Namespace + "/" + n
		}
	}
	if key == "" {
		return
	}
	p.mu.Lock()
	p.dirty[key] = true
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run programs the table until ctx ends.
func (p *Proxy) Run(ctx context.Context) error {
	table, err := OpenTable(p.cfg.Table, p.cfg.NetNSFd)
	if err != nil {
		return err
	}
	defer table.Close()
	p.factory.Start(ctx.Done())
	defer p.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), p.synced...) {
		return fmt.Errorf("proxy: caches did not sync: %w", ctx.Err())
	}
	if p.cfg.DeleteOnExit {
		defer func() {
			if err := table.Delete(); err != nil {
				p.log.Warn("delete nftables table", "table", p.cfg.Table, "err", err)
			}
		}()
	}
	p.loop(ctx, table)
	return nil
}

// loop syncs whatever changed; after a failure it rebuilds the table
// from scratch, backing off up to 10 s.
func (p *Proxy) loop(ctx context.Context, table *Table) {
	backoff := 100 * time.Millisecond
	needReset := true
	for ctx.Err() == nil {
		if needReset {
			if err := p.resync(table); err != nil {
				p.log.Error("rebuild nftables table", "table", p.cfg.Table, "err", err)
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(2*backoff, 10*time.Second)
				continue
			}
			needReset, backoff = false, 100*time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		}
		if err := p.syncDirty(table); err != nil {
			p.log.Error("program nftables; rebuilding the table", "err", err)
			needReset = true
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// resync resets the table and programs every Service.
func (p *Proxy) resync(table *Table) error {
	start := time.Now()
	if err := table.Reset(); err != nil {
		return err
	}
	svcs, err := p.services.List(labels.Everything())
	if err != nil {
		return err
	}
	p.mu.Lock()
	for _, s := range svcs {
		p.dirty[s.Namespace+"/"+s.Name] = true
	}
	p.mu.Unlock()
	if err := p.syncDirty(table); err != nil {
		return err
	}
	p.log.Info("nftables table programmed", "table", p.cfg.Table, "services", len(svcs), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// syncDirty regenerates the marked Services and applies the difference.
// On failure they stay marked.
func (p *Proxy) syncDirty(table *Table) error {
	p.mu.Lock()
	keys := make([]string, 0, len(p.dirty))
	for k := range p.dirty {
		keys = append(keys, k)
	}
	p.dirty = map[string]bool{}
	p.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	changes := make(map[string]*Objects, len(keys))
	for _, k := range keys {
		changes[k] = p.objects(k)
	}
	if err := table.Apply(changes); err != nil {
		p.mu.Lock()
		for _, k := range keys {
			p.dirty[k] = true
		}
		p.mu.Unlock()
		return err
	}
	if p.cfg.AfterSync != nil {
		p.cfg.AfterSync(keys)
	}
	return nil
}

// objects generates one Service's objects (nil when it has none).
func (p *Proxy) objects(key string) *Objects {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	svc, err := p.services.Services(ns).Get(name)
	if err != nil {
		return nil
	}
	src := Sources{Service: svc}
	objs, _ := p.slices.ByIndex(sliceByService, key)
	for _, o := range objs {
		src.Slices = append(src.Slices, o.(*discoveryv1.EndpointSlice))
	}
	if len(src.Slices) == 0 {
		src.Endpoints, _ = p.endpoints.Endpoints(ns).Get(name)
	}
	ports := ServicePorts(src, p.cfg.NodeName)
	applyRedirects(ports, p.cfg.Redirects)
	if len(ports) == 0 {
		return nil
	}
	return p.gen.Service(ports)
}

// applyRedirects replaces the endpoints of redirected ports.
func applyRedirects(ports []ServicePort, rs []Redirect) {
	for i := range ports {
		sp := &ports[i]
		for _, r := range rs {
			if r.Service == sp.Service && r.Protocol == sp.Protocol && (r.Port == 0 || r.Port == sp.Port) {
				sp.Endpoints = []Endpoint{{IP: r.To.To4(), Port: r.ToPort, Local: true, Ready: true, Serving: true}}
			}
		}
	}
}
