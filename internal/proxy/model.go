package proxy

import (
	"fmt"
	"net"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ServicePort is one port of one Service as the proxy programs it.
type ServicePort struct {
	Service  types.NamespacedName
	PortName string
	Protocol corev1.Protocol
	// ClusterIP and Port are the virtual address; NodePort is 0 when the
	// Service has none.
	ClusterIP net.IP
	Port      int32
	NodePort  int32
	// ExternalIPs are spec.externalIPs and the LoadBalancer ingress IPs.
	ExternalIPs []net.IP
	// ExternalLocal is externalTrafficPolicy Local (external traffic goes
	// only to this node's endpoints, keeping the client's address).
	ExternalLocal bool
	// InternalLocal is internalTrafficPolicy Local.
	InternalLocal bool
	// AffinitySeconds > 0 is sessionAffinity ClientIP with that timeout.
	AffinitySeconds int32
	Endpoints       []Endpoint
}

// Endpoint is one backend of a ServicePort.
type Endpoint struct {
	IP   net.IP
	Port int32
	// Local is true for endpoints on this node, Remote for those known
	// to be on another (neither: the node is unknown).
	Local, Remote               bool
	Ready, Serving, Terminating bool
}

// Key names the ServicePort in chain names: ns/name/proto/port.
func (sp *ServicePort) Key() string {
	return sp.Service.Namespace + "/" + sp.Service.Name + "/" + strings.ToLower(string(sp.Protocol)) + "/" + sp.PortName
}

func (e Endpoint) String() string { return net.JoinHostPort(e.IP.String(), fmt.Sprint(e.Port)) }

// proto is the IP protocol number.
func (sp *ServicePort) proto() uint8 { return protoNumber(sp.Protocol) }

func protoNumber(p corev1.Protocol) uint8 {
	switch p {
	case corev1.ProtocolUDP:
		return unix.IPPROTO_UDP
	case corev1.ProtocolSCTP:
		return unix.IPPROTO_SCTP
	}
	return unix.IPPROTO_TCP
}

// clusterEndpoints are the endpoints that traffic to the ClusterIP may
// use; localEndpoints those external Local-policy traffic may use.
func (sp *ServicePort) clusterEndpoints() []Endpoint {
	return usable(sp.Endpoints, sp.InternalLocal)
}

func (sp *ServicePort) localEndpoints() []Endpoint { return usable(sp.Endpoints, true) }

// usable picks the ready endpoints; when none is ready it falls back to
// those serving while terminating, as upstream does, so that connections
// drain gracefully instead of failing.
func usable(eps []Endpoint, onlyLocal bool) []Endpoint {
	var ready, terminating []Endpoint
	for _, e := range eps {
		if onlyLocal && !e.Local {
			continue
		}
		switch {
		case e.Ready:
			ready = append(ready, e)
		case e.Serving && e.Terminating:
			terminating = append(terminating, e)
		}
	}
	if len(ready) > 0 {
		return ready
	}
	return terminating
}

// Sources are the objects that make up one Service for the proxy.
type Sources struct {
	Service *corev1.Service
	Slices  []*discoveryv1.EndpointSlice
	// Endpoints is used only when there are no slices (a selectorless
	// Service whose Endpoints are not mirrored).
	Endpoints *corev1.Endpoints
}

// ServicePorts turns a Service and its endpoints into the ports to
// program. Services without an IPv4 cluster IP (headless, ExternalName)
// have none.
func ServicePorts(src Sources, nodeName string) []ServicePort {
	svc := src.Service
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	cip := clusterIPv4(svc)
	if cip == nil {
		return nil
	}
	name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	external := externalIPs(svc)
	var out []ServicePort
	for _, p := range svc.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		sp := ServicePort{Service: name, PortName: p.Name, Protocol: proto, ClusterIP: cip, Port: p.Port, ExternalIPs: external}
		if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			sp.NodePort = p.NodePort
		}
		if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal && (sp.NodePort != 0 || len(external) > 0) {
			sp.ExternalLocal = true
		}
		if tp := svc.Spec.InternalTrafficPolicy; tp != nil && *tp == corev1.ServiceInternalTrafficPolicyLocal {
			sp.InternalLocal = true
		}
		if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
			sp.AffinitySeconds = corev1.DefaultClientIPServiceAffinitySeconds
			if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
				sp.AffinitySeconds = *c.ClientIP.TimeoutSeconds
			}
		}
		if len(src.Slices) > 0 {
			sp.Endpoints = sliceEndpoints(src.Slices, p.Name, proto, nodeName)
		} else if src.Endpoints != nil {
			sp.Endpoints = legacyEndpoints(src.Endpoints, p.Name, proto, nodeName)
		}
		out = append(out, sp)
	}
	return out
}

func clusterIPv4(svc *corev1.Service) net.IP {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, s := range ips {
		if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
			return ip.To4()
		}
	}
	return nil
}

func externalIPs(svc *corev1.Service) []net.IP {
	var out []net.IP
	seen := map[string]bool{}
	add := func(s string) {
		if ip := net.ParseIP(s); ip != nil && ip.To4() != nil && !seen[s] {
			seen[s] = true
			out = append(out, ip.To4())
		}
	}
	for _, s := range svc.Spec.ExternalIPs {
		add(s)
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, in := range svc.Status.LoadBalancer.Ingress {
			// ipMode Proxy means the load balancer does not deliver
			// packets with the VIP as destination: nothing to match.
			if in.IPMode != nil && *in.IPMode == corev1.LoadBalancerIPModeProxy {
				continue
			}
			add(in.IP)
		}
	}
	return out
}

// sliceEndpoints merges the IPv4 slices' endpoints for one port, matched
// by name and protocol, dropping duplicates (an endpoint moving between
// slices shows up in both for a moment).
func sliceEndpoints(slices []*discoveryv1.EndpointSlice, portName string, proto corev1.Protocol, nodeName string) []Endpoint {
	seen := map[string]bool{}
	var out []Endpoint
	for _, s := range slices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		port, ok := slicePort(s.Ports, portName, proto)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			if len(e.Addresses) == 0 {
				continue
			}
			ip := net.ParseIP(e.Addresses[0]).To4()
			if ip == nil {
				continue
			}
			ep := Endpoint{IP: ip, Port: port, Local: e.NodeName != nil && *e.NodeName == nodeName,
				Remote: nodeName != "" && e.NodeName != nil && *e.NodeName != "" && *e.NodeName != nodeName,
				Ready:  e.Conditions.Ready == nil || *e.Conditions.Ready, Terminating: e.Conditions.Terminating != nil && *e.Conditions.Terminating}
			ep.Serving = ep.Ready
			if e.Conditions.Serving != nil {
				ep.Serving = *e.Conditions.Serving
			}
			if k := ep.String(); !seen[k] {
				seen[k] = true
				out = append(out, ep)
			}
		}
	}
	sortEndpoints(out)
	return out
}

func slicePort(ports []discoveryv1.EndpointPort, name string, proto corev1.Protocol) (int32, bool) {
	for _, p := range ports {
		pn, pp := "", corev1.ProtocolTCP
		if p.Name != nil {
			pn = *p.Name
		}
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pn == name && pp == proto && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}

func legacyEndpoints(eps *corev1.Endpoints, portName string, proto corev1.Protocol, nodeName string) []Endpoint {
	var out []Endpoint
	seen := map[string]bool{}
	for _, ss := range eps.Subsets {
		var port int32
		for _, p := range ss.Ports {
			pp := p.Protocol
			if pp == "" {
				pp = corev1.ProtocolTCP
			}
			if p.Name == portName && pp == proto {
				port = p.Port
			}
		}
		if port == 0 {
			continue
		}
		add := func(a corev1.EndpointAddress, ready bool) {
			ip := net.ParseIP(a.IP).To4()
			if ip == nil {
				return
			}
			ep := Endpoint{IP: ip, Port: port, Ready: ready, Serving: ready, Local: a.NodeName != nil && *a.NodeName == nodeName,
				Remote: nodeName != "" && a.NodeName != nil && *a.NodeName != "" && *a.NodeName != nodeName}
			if k := ep.String(); !seen[k] {
				seen[k] = true
				out = append(out, ep)
			}
		}
		for _, a := range ss.Addresses {
			add(a, true)
		}
		for _, a := range ss.NotReadyAddresses {
			add(a, false)
		}
	}
	sortEndpoints(out)
	return out
}

func sortEndpoints(eps []Endpoint) {
	sort.Slice(eps, func(i, j int) bool {
		if c := compareIP(eps[i].IP, eps[j].IP); c != 0 {
			return c < 0
		}
		return eps[i].Port < eps[j].Port
	})
}

func compareIP(a, b net.IP) int { return strings.Compare(string(a.To16()), string(b.To16())) }
