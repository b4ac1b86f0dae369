package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Config configures the DNS server.
type Config struct {
	Client kubernetes.Interface
	// Domain is the cluster domain (cluster.local).
	Domain string
	// Listen is the UDP and TCP address; port 0 takes a free one.
	Listen string
	// Upstreams receive names outside the cluster domain ("ip:port");
	// empty reads the nameservers of /etc/resolv.conf.
	Upstreams []string
	Logger    *slog.Logger
}

// Server is a running cluster DNS server.
type Server struct {
	cfg       Config
	log       *slog.Logger
	resolver  *Resolver
	factory   informers.SharedInformerFactory
	synced    []cache.InformerSynced
	udp       net.PacketConn
	tcp       net.Listener
	upstreams []string
}

const (
	byNamespace = cache.NamespaceIndex
	byService   = "service"
	byClusterIP = "clusterIP"
)

// New binds the sockets (so Addr is known at once) and sets up the
// informers; Run serves.
func New(cfg Config) (*Server, error) {
	if cfg.Client == nil {
		return nil, errors.New("dns: a client is required")
	}
	if cfg.Domain == "" {
		cfg.Domain = "cluster.local"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "dns")}
	if err := s.listen(); err != nil {
		return nil, err
	}
	s.upstreams = cfg.Upstreams
	if len(s.upstreams) == 0 {
		rc, err := ReadResolvConf("/etc/resolv.conf")
		if err != nil {
			s.log.Warn("no upstream resolvers: reading /etc/resolv.conf failed", "err", err)
		}
		for _, ns := range rc.Nameservers {
			s.upstreams = append(s.upstreams, net.JoinHostPort(ns, "53"))
		}
	}
	model, err := s.informers()
	if err != nil {
		s.close()
		return nil, err
	}
	s.resolver = &Resolver{Domain: cfg.Domain, Model: model, TTL: 5}
	return s, nil
}

// listen binds UDP and TCP on one port, retrying when port 0 gave a UDP
// port whose TCP twin is taken.
func (s *Server) listen() error {
	var lastErr error
	for range 5 {
		pc, err := net.ListenPacket("udp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("dns: listen udp %s: %w", s.cfg.Listen, err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			s.udp, s.tcp = pc, l
			return nil
		}
		pc.Close()
		lastErr = err
		if _, port, _ := net.SplitHostPort(s.cfg.Listen); port != "0" {
			break
		}
	}
	return fmt.Errorf("dns: listen tcp: %w", lastErr)
}

func (s *Server) close() {
	s.udp.Close()
	s.tcp.Close()
}

// Addr is where the server listens.
func (s *Server) Addr() *net.UDPAddr { return s.udp.LocalAddr().(*net.UDPAddr) }

// Resolver is the server's resolver (tests).
func (s *Server) Resolver() *Resolver { return s.resolver }

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	s.factory.Start(ctx.Done())
	defer s.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), s.synced...) {
		s.close()
		return fmt.Errorf("dns: caches did not sync: %w", ctx.Err())
	}
	h := dns.HandlerFunc(s.serveDNS)
	servers := []*dns.Server{{PacketConn: s.udp, Handler: h}, {Listener: s.tcp, Handler: h}}
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errc <- srv.ActivateAndServe() }()
	}
	s.log.Info("cluster DNS serving", "addr", s.Addr().String(), "domain", s.cfg.Domain, "upstreams", s.upstreams)
	select {
	case <-ctx.Done():
	case err := <-errc:
		s.log.Error("DNS server stopped", "err", err)
	}
	for _, srv := range servers {
		_ = srv.Shutdown()
	}
	return nil
}

func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	if s.resolver.InZone(q.Name) {
		a := s.resolver.Resolve(q)
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative, m.RecursionAvailable = true, true
		m.Rcode, m.Answer, m.Extra, m.Ns = a.Rcode, a.Answer, a.Extra, a.NS
		s.write(w, req, m)
		return
	}
	if rrs, ok := s.resolver.Reverse(q); ok {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative, m.RecursionAvailable = true, true
		m.Answer = rrs
		s.write(w, req, m)
		return
	}
	s.write(w, req, s.forward(req))
}

// write truncates UDP answers that do not fit the client's buffer.
func (s *Server) write(w dns.ResponseWriter, req, m *dns.Msg) {
	if w.LocalAddr().Network() == "udp" {
		size := dns.MinMsgSize
		if o := req.IsEdns0(); o != nil {
			size = int(o.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

// forward asks the upstream resolvers in turn, over UDP and then TCP for
// truncated answers (a TCP client gets the whole answer); SERVFAIL when
// none answers.
func (s *Server) forward(req *dns.Msg) *dns.Msg {
	self := s.Addr().String()
	for _, up := range s.upstreams {
		if up == self {
			continue
		}
		c := &dns.Client{Net: "udp", Timeout: 2 * time.Second, UDPSize: dns.DefaultMsgSize}
		resp, _, err := c.Exchange(req, up)
		if err == nil && resp.Truncated {
			c.Net = "tcp"
			resp, _, err = c.Exchange(req, up)
		}
		if err == nil {
			return resp
		}
		s.log.Debug("upstream resolver failed", "upstream", up, "err", err)
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	return m
}

// informerModel serves the resolver from informer caches.
type informerModel struct {
	services cache.Indexer
	slices   cache.Indexer
}

func (s *Server) informers() (Model, error) {
	s.factory = informers.NewSharedInformerFactoryWithOptions(s.cfg.Client, 0, informers.WithTransform(func(obj any) (any, error) {
		if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
			a.GetObjectMeta().SetManagedFields(nil)
		}
		return obj, nil
	}))
	svc := s.factory.Core().V1().Services().Informer()
	sl := s.factory.Discovery().V1().EndpointSlices().Informer()
	// The shared informer already indexes by namespace.
	if err := svc.AddIndexers(cache.Indexers{byClusterIP: func(obj any) ([]string, error) {
		sv, ok := obj.(*corev1.Service)
		if !ok || !hasClusterIP(sv) {
			return nil, nil
		}
		return sv.Spec.ClusterIPs, nil
	}}); err != nil {
		return nil, err
	}
	if err := sl.AddIndexers(cache.Indexers{byService: func(obj any) ([]string, error) {
		es, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok || es.Labels[discoveryv1.LabelServiceName] == "" {
			return nil, nil
		}
		return []string{es.Namespace + "/" + es.Labels[discoveryv1.LabelServiceName]}, nil
	}}); err != nil {
		return nil, err
	}
	s.synced = []cache.InformerSynced{svc.HasSynced, sl.HasSynced}
	return &informerModel{services: svc.GetIndexer(), slices: sl.GetIndexer()}, nil
}

func (m *informerModel) Service(ns, name string) *corev1.Service {
	obj, ok, _ := m.services.GetByKey(ns + "/" + name)
	if !ok {
		return nil
	}
	return obj.(*corev1.Service)
}

func (m *informerModel) Slices(ns, name string) []*discoveryv1.EndpointSlice {
	objs, _ := m.slices.ByIndex(byService, ns+"/"+name)
	out := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*discoveryv1.EndpointSlice))
	}
	return out
}

func (m *informerModel) ServiceByIP(ip string) *corev1.Service {
	objs, _ := m.services.ByIndex(byClusterIP, ip)
	if len(objs) == 0 {
		return nil
	}
	return objs[0].(*corev1.Service)
}

func (m *informerModel) HasNamespace(ns string) bool {
	keys, _ := m.services.IndexKeys(byNamespace, ns)
	return len(keys) > 0
}

// Port is the server's port as a number.
func (s *Server) Port() int32 { return int32(s.Addr().Port) }
