package dns

import (
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Model is what the resolver reads: the informer caches in the server, a
// map in tests.
type Model interface {
	// Service returns the Service or nil.
	Service(ns, name string) *corev1.Service
	// Slices are the Service's EndpointSlices.
	Slices(ns, name string) []*discoveryv1.EndpointSlice
	// ServiceByIP finds the Service holding a cluster IP (for PTR).
	ServiceByIP(ip string) *corev1.Service
	// HasNamespace reports whether a namespace has any Service.
	HasNamespace(ns string) bool
}

// Resolver answers names in the cluster domain.
type Resolver struct {
	// Domain is the cluster domain ("cluster.local").
	Domain string
	Model  Model
	// TTL of every record (5 s, as CoreDNS's kubernetes plugin).
	TTL uint32
}

// Answer is a response to one question.
type Answer struct {
	Rcode  int
	Answer []dns.RR
	Extra  []dns.RR
	// Authoritative answers carry the zone's SOA when empty.
	NS []dns.RR
}

func (r *Resolver) zone() string { return strings.ToLower(dns.Fqdn(r.Domain)) }

// InZone reports whether name is the resolver's to answer.
func (r *Resolver) InZone(name string) bool {
	return dns.IsSubDomain(r.zone(), strings.ToLower(dns.Fqdn(name)))
}

// Resolve answers a question for a name in the zone.
func (r *Resolver) Resolve(q dns.Question) Answer {
	name := strings.ToLower(dns.Fqdn(q.Name))
	rel := strings.TrimSuffix(strings.TrimSuffix(name, r.zone()), ".")
	var labels []string
	if rel != "" {
		labels = strings.Split(rel, ".")
	}
	if q.Qtype == dns.TypeSOA && len(labels) == 0 {
		return Answer{Answer: []dns.RR{r.soa()}}
	}
	rrs, exists := r.lookup(name, labels, q.Qtype)
	if !exists {
		return Answer{Rcode: dns.RcodeNameError, NS: []dns.RR{r.soa()}}
	}
	a := Answer{}
	for _, rr := range rrs {
		if rr.Header().Rrtype == q.Qtype || rr.Header().Rrtype == dns.TypeCNAME || q.Qtype == dns.TypeANY {
			a.Answer = append(a.Answer, rr)
		}
	}
	if q.Qtype == dns.TypeSRV {
		a.Extra = r.srvTargets(a.Answer)
	}
	if len(a.Answer) == 0 {
		a.NS = []dns.RR{r.soa()}
	}
	return a
}

// lookup returns the records of a name (of all types) and whether the
// name exists at all (NODATA versus NXDOMAIN).
func (r *Resolver) lookup(name string, l []string, qtype uint16) ([]dns.RR, bool) {
	n := len(l)
	switch {
	case n == 0 || (n == 1 && (l[0] == "svc" || l[0] == "pod")):
		return nil, true
	case n == 2 && (l[1] == "svc" || l[1] == "pod"):
		return nil, r.Model.HasNamespace(l[0])
	case n == 3 && l[2] == "pod":
		return r.podRecord(name, l[0])
	case n == 3 && l[2] == "svc":
		return r.serviceRecords(name, l[1], l[0])
	case n == 4 && l[3] == "svc":
		return r.endpointRecords(name, l[2], l[1], l[0])
	case n == 5 && l[4] == "svc" && strings.HasPrefix(l[0], "_") && strings.HasPrefix(l[1], "_"):
		return r.srvRecords(name, l[3], l[2], l[0][1:], l[1][1:])
	}
	return nil, false
}

func (r *Resolver) hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: r.TTL}
}

func (r *Resolver) addr(name string, ip net.IP) dns.RR {
	if v4 := ip.To4(); v4 != nil {
		return &dns.A{Hdr: r.hdr(name, dns.TypeA), A: v4}
	}
	return &dns.AAAA{Hdr: r.hdr(name, dns.TypeAAAA), AAAA: ip}
}

func (r *Resolver) soa() dns.RR {
	z := r.zone()
	return &dns.SOA{Hdr: r.hdr(z, dns.TypeSOA), Ns: "ns.dns." + z, Mbox: "hostmaster." + z,
		Serial: 1, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: r.TTL}
}

// podRecord answers a-b-c-d.ns.pod.<zone> with a.b.c.d (CoreDNS's "pods
// insecure" mode, the default upstream).
func (r *Resolver) podRecord(name, dashed string) ([]dns.RR, bool) {
	ip := parseDashed(dashed)
	if ip == nil {
		return nil, false
	}
	return []dns.RR{r.addr(name, ip)}, true
}

func parseDashed(s string) net.IP {
	if strings.Count(s, "-") == 3 {
		return net.ParseIP(strings.ReplaceAll(s, "-", ".")).To4()
	}
	return net.ParseIP(strings.ReplaceAll(s, "-", ":"))
}

func dashed(ip net.IP) string {
	if ip.To4() != nil {
		return strings.ReplaceAll(ip.String(), ".", "-")
	}
	return strings.ReplaceAll(ip.String(), ":", "-")
}

func isHeadless(s *corev1.Service) bool { return s.Spec.ClusterIP == corev1.ClusterIPNone }

func (r *Resolver) serviceRecords(name, ns, svcName string) ([]dns.RR, bool) {
	svc := r.Model.Service(ns, svcName)
	if svc == nil {
		return nil, false
	}
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		return []dns.RR{&dns.CNAME{Hdr: r.hdr(name, dns.TypeCNAME), Target: dns.Fqdn(svc.Spec.ExternalName)}}, true
	case isHeadless(svc):
		var out []dns.RR
		for _, e := range r.endpoints(svc) {
			out = append(out, r.addr(name, e.ip))
		}
		return out, true
	}
	var out []dns.RR
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, s := range ips {
		if ip := net.ParseIP(s); ip != nil {
			out = append(out, r.addr(name, ip))
		}
	}
	return out, true
}

// endpoint is one address of a headless Service.
type endpoint struct {
	ip       net.IP
	hostname string
}

// label is the endpoint's name under the Service: its hostname, or its
// dashed address.
func (e endpoint) label() string {
	if e.hostname != "" {
		return e.hostname
	}
	return dashed(e.ip)
}

// endpoints are the ready addresses (all of them with
// publishNotReadyAddresses), deduplicated and sorted.
func (r *Resolver) endpoints(svc *corev1.Service) []endpoint {
	seen := map[string]bool{}
	var out []endpoint
	for _, s := range r.Model.Slices(svc.Namespace, svc.Name) {
		for _, e := range s.Endpoints {
			ready := e.Conditions.Ready == nil || *e.Conditions.Ready
			if !ready && !svc.Spec.PublishNotReadyAddresses {
				continue
			}
			for _, a := range e.Addresses {
				ip := net.ParseIP(a)
				if ip == nil || seen[a] {
					continue
				}
				seen[a] = true
				ep := endpoint{ip: ip}
				if e.Hostname != nil {
					ep.hostname = strings.ToLower(*e.Hostname)
				}
				out = append(out, ep)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ip.String() < out[j].ip.String() })
	return out
}

// endpointRecords answers <hostname>.<svc>.<ns>.svc.<zone> for headless
// Services: pods with hostname and subdomain, or dashed addresses.
func (r *Resolver) endpointRecords(name, ns, svcName, label string) ([]dns.RR, bool) {
	svc := r.Model.Service(ns, svcName)
	if svc == nil || !isHeadless(svc) {
		return nil, false
	}
	var out []dns.RR
	for _, e := range r.endpoints(svc) {
		if e.label() == label {
			out = append(out, r.addr(name, e.ip))
		}
	}
	return out, len(out) > 0
}

// srvRecords answers _port._proto.<svc>.<ns>.svc.<zone> for named ports.
func (r *Resolver) srvRecords(name, ns, svcName, port, proto string) ([]dns.RR, bool) {
	svc := r.Model.Service(ns, svcName)
	if svc == nil {
		return nil, false
	}
	base := svcName + "." + ns + ".svc." + r.zone()
	var out []dns.RR
	for _, p := range svc.Spec.Ports {
		pp := string(p.Protocol)
		if pp == "" {
			pp = string(corev1.ProtocolTCP)
		}
		if p.Name == "" || strings.ToLower(p.Name) != port || strings.ToLower(pp) != proto {
			continue
		}
		if !isHeadless(svc) {
			out = append(out, &dns.SRV{Hdr: r.hdr(name, dns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(p.Port), Target: base})
			continue
		}
		eps := r.endpoints(svc)
		for _, e := range eps {
			num := endpointPort(r.Model.Slices(ns, svcName), p.Name, pp)
			out = append(out, &dns.SRV{Hdr: r.hdr(name, dns.TypeSRV), Priority: 0, Weight: uint16(100 / len(eps)),
				Port: uint16(num), Target: e.label() + "." + base})
		}
	}
	return out, len(out) > 0
}

func endpointPort(slices []*discoveryv1.EndpointSlice, name, proto string) int32 {
	for _, s := range slices {
		for _, p := range s.Ports {
			pp := corev1.ProtocolTCP
			if p.Protocol != nil {
				pp = *p.Protocol
			}
			if p.Name != nil && *p.Name == name && string(pp) == proto && p.Port != nil {
				return *p.Port
			}
		}
	}
	return 0
}

// srvTargets are the addresses of SRV targets, for the additional section.
func (r *Resolver) srvTargets(answer []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range answer {
		srv, ok := rr.(*dns.SRV)
		if !ok {
			continue
		}
		rel := strings.TrimSuffix(strings.TrimSuffix(srv.Target, r.zone()), ".")
		rrs, _ := r.lookup(srv.Target, strings.Split(rel, "."), dns.TypeA)
		for _, a := range rrs {
			if t := a.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
				out = append(out, a)
			}
		}
	}
	return out
}

// Reverse answers PTR queries for Service cluster IPs; ok is false when
// the address is not one (the query is then forwarded).
func (r *Resolver) Reverse(q dns.Question) ([]dns.RR, bool) {
	if q.Qtype != dns.TypePTR {
		return nil, false
	}
	ip := reverseIP(strings.ToLower(dns.Fqdn(q.Name)))
	if ip == nil {
		return nil, false
	}
	svc := r.Model.ServiceByIP(ip.String())
	if svc == nil {
		return nil, false
	}
	return []dns.RR{&dns.PTR{Hdr: r.hdr(dns.Fqdn(q.Name), dns.TypePTR), Ptr: svc.Name + "." + svc.Namespace + ".svc." + r.zone()}}, true
}

func reverseIP(name string) net.IP {
	const v4 = ".in-addr.arpa."
	if !strings.HasSuffix(name, v4) {
		return nil
	}
	parts := strings.Split(strings.TrimSuffix(name, v4), ".")
	if len(parts) != 4 {
		return nil
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return nil
		}
	}
	return net.ParseIP(strings.Join(parts, ".")).To4()
}
