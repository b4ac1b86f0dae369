package core

import (
	"context"
	"net"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/navarch/navarch/internal/registry"
)

// defaultSessionAffinityTimeout is upstream's ClientIP affinity timeout
// (three hours).
const defaultSessionAffinityTimeout int32 = 10800

// serviceStrategy also allocates cluster IPs and node ports.
type serviceStrategy struct {
	registry.BaseStrategy
	opts Options
}

var _ registry.Allocator = serviceStrategy{}

func serviceResource(opts Options) *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "services", Kind: "Service", Singular: "service",
		ShortNames: []string{"svc"}, Categories: []string{"all"}, Namespaced: true,
		New:      func() runtime.Object { return &corev1.Service{} },
		NewList:  func() runtime.Object { return &corev1.ServiceList{} },
		Strategy: serviceStrategy{opts: opts},
		Fields: func(obj runtime.Object) fields.Set {
			s := obj.(*corev1.Service)
			return fields.Set{"spec.clusterIP": s.Spec.ClusterIP, "spec.type": string(s.Spec.Type)}
		},
		HasStatus:    true,
		Subresources: []string{"proxy"},
	}
}

// Default applies the v1 Service defaults plus the IP family fields the
// upstream REST layer fills in on a single-stack cluster.
func (s serviceStrategy) Default(obj runtime.Object) {
	spec := &obj.(*corev1.Service).Spec
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP && spec.SessionAffinityConfig == nil {
		spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
			ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(defaultSessionAffinityTimeout)},
		}
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == (intstr.IntOrString{}) {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if isNodePortType(spec.Type) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer && spec.AllocateLoadBalancerNodePorts == nil {
		spec.AllocateLoadBalancerNodePorts = ptr(true)
	}
	if spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	if spec.InternalTrafficPolicy == nil {
		spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyCluster)
	}
	syncClusterIPs(spec)
	s.defaultIPFamilies(spec)
}

// syncClusterIPs keeps the legacy clusterIP equal to clusterIPs[0].
func syncClusterIPs(spec *corev1.ServiceSpec) {
	switch {
	case spec.ClusterIP != "" && len(spec.ClusterIPs) == 0:
		spec.ClusterIPs = []string{spec.ClusterIP}
	case spec.ClusterIP == "" && len(spec.ClusterIPs) > 0:
		spec.ClusterIP = spec.ClusterIPs[0]
	}
}

func (s serviceStrategy) defaultIPFamilies(spec *corev1.ServiceSpec) {
	headless := spec.ClusterIP == corev1.ClusterIPNone
	if spec.IPFamilyPolicy == nil {
		policy := corev1.IPFamilyPolicySingleStack
		if headless && len(spec.Selector) == 0 {
			policy = corev1.IPFamilyPolicyRequireDualStack
		}
		spec.IPFamilyPolicy = &policy
	}
	if len(spec.IPFamilies) > 0 {
		return
	}
	family := ipFamilyOf(s.opts.cidr().IP)
	if ip := net.ParseIP(spec.ClusterIP); ip != nil {
		family = ipFamilyOf(ip)
	}
	spec.IPFamilies = []corev1.IPFamily{family}
}

func ipFamilyOf(ip net.IP) corev1.IPFamily {
	if ip.To4() != nil {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

func isNodePortType(t corev1.ServiceType) bool {
	return t == corev1.ServiceTypeNodePort || t == corev1.ServiceTypeLoadBalancer
}

// PrepareForUpdate carries allocated values over from the stored object
// when the update omits them (kubectl replace of a hand-written manifest),
// and drops values the new type no longer uses.
func (serviceStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	spec, o := &obj.(*corev1.Service).Spec, &old.(*corev1.Service).Spec
	if spec.Type == corev1.ServiceTypeExternalName {
		if o.Type != corev1.ServiceTypeExternalName && sameClusterIPs(spec, o) {
			spec.ClusterIP, spec.ClusterIPs = "", nil
			spec.IPFamilies, spec.IPFamilyPolicy, spec.InternalTrafficPolicy = nil, nil, nil
		}
	} else if spec.ClusterIP == "" && len(spec.ClusterIPs) == 0 && o.Type != corev1.ServiceTypeExternalName {
		spec.ClusterIP, spec.ClusterIPs = o.ClusterIP, append([]string(nil), o.ClusterIPs...)
		if len(spec.IPFamilies) == 0 {
			spec.IPFamilies = append([]corev1.IPFamily(nil), o.IPFamilies...)
		}
	}
	if isNodePortType(spec.Type) {
		keepNodePorts(spec, o)
	} else if isNodePortType(o.Type) {
		dropNodePorts(spec, o)
	}
	if spec.Type != corev1.ServiceTypeLoadBalancer || spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		if spec.HealthCheckNodePort == o.HealthCheckNodePort {
			spec.HealthCheckNodePort = 0
		}
	} else if spec.HealthCheckNodePort == 0 {
		spec.HealthCheckNodePort = o.HealthCheckNodePort
	}
}

func sameClusterIPs(a, b *corev1.ServiceSpec) bool {
	return a.ClusterIP == b.ClusterIP || a.ClusterIP == ""
}

// keepNodePorts reuses the stored nodePort of a port with the same number
// and protocol when the update leaves it unset.
func keepNodePorts(spec, old *corev1.ServiceSpec) {
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.NodePort != 0 {
			continue
		}
		for _, op := range old.Ports {
			if op.Port == p.Port && op.Protocol == p.Protocol && op.NodePort != 0 {
				p.NodePort = op.NodePort
				break
			}
		}
	}
}

// dropNodePorts clears node ports left over from a NodePort or
// LoadBalancer type, unless the user changed them (then validation
// rejects them).
func dropNodePorts(spec, old *corev1.ServiceSpec) {
	held := map[int32]bool{}
	for _, op := range old.Ports {
		held[op.NodePort] = true
	}
	for i := range spec.Ports {
		if held[spec.Ports[i].NodePort] {
			spec.Ports[i].NodePort = 0
		}
	}
}
