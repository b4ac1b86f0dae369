package endpointslice

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/navarch/navarch/internal/controllers/endpoint/endpointutil"
)

// groupKey identifies the slices of one address type and port set.
type groupKey struct {
	addressType discoveryv1.AddressType
	ports       string
}

// group is the desired content of the slices of one key.
type group struct {
	ports     []discoveryv1.EndpointPort
	endpoints []discoveryv1.Endpoint
}

// addressTypes are the slice address types a Service needs, primary first.
func addressTypes(svc *corev1.Service) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	for _, f := range svc.Spec.IPFamilies {
		if f == corev1.IPv6Protocol {
			out = append(out, discoveryv1.AddressTypeIPv6)
		} else {
			out = append(out, discoveryv1.AddressTypeIPv4)
		}
	}
	if len(out) == 0 {
		if endpointutil.ServiceIPv6(svc) {
			return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv6}
		}
		return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
	}
	return slices.Compact(out)
}

// desired groups the endpoints a Service's pods give by address type and
// port set. Terminating pods are included, with their conditions.
func desired(svc *corev1.Service, pods []*corev1.Pod, nodes corelisters.NodeLister) map[groupKey]*group {
	out := map[groupKey]*group{}
	for _, pod := range pods {
		if !endpointutil.ShouldInclude(pod, true) {
			continue
		}
		ports := endpointPorts(svc, pod)
		if len(ports) == 0 && len(svc.Spec.Ports) > 0 {
			continue // serves none of the Service's ports
		}
		for _, at := range addressTypes(svc) {
			ip := endpointutil.PodIPOf(pod, at == discoveryv1.AddressTypeIPv6)
			if ip == "" {
				continue
			}
			k := groupKey{addressType: at, ports: portsKey(ports)}
			g := out[k]
			if g == nil {
				g = &group{ports: ports}
				out[k] = g
			}
			g.endpoints = append(g.endpoints, toEndpoint(svc, pod, ip, nodes))
		}
	}
	for _, g := range out {
		slices.SortFunc(g.endpoints, func(a, b discoveryv1.Endpoint) int { return cmp.Compare(endpointKey(a), endpointKey(b)) })
	}
	return out
}

func toEndpoint(svc *corev1.Service, pod *corev1.Pod, ip string, nodes corelisters.NodeLister) discoveryv1.Endpoint {
	serving := svc.Spec.PublishNotReadyAddresses || endpointutil.IsReady(pod)
	terminating := pod.DeletionTimestamp != nil
	// Ready is never true for a terminating pod, unless the Service
	// publishes not-ready addresses.
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses:  []string{ip},
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if h := endpointutil.Hostname(pod, svc); h != "" {
		ep.Hostname = &h
	}
	if pod.Spec.NodeName != "" {
		node := pod.Spec.NodeName
		ep.NodeName = &node
		if n, err := nodes.Get(node); err == nil && n.Labels[corev1.LabelTopologyZone] != "" {
			zone := n.Labels[corev1.LabelTopologyZone]
			ep.Zone = &zone
		}
	}
	return ep
}

// endpointPorts resolves the Service's ports on one pod, skipping those
// the pod does not serve.
func endpointPorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	var out []discoveryv1.EndpointPort
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		n, err := endpointutil.FindPort(pod, sp)
		if err != nil {
			continue
		}
		name, proto := sp.Name, sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		out = append(out, discoveryv1.EndpointPort{Name: &name, Port: &n, Protocol: &proto, AppProtocol: sp.AppProtocol})
	}
	return out
}

// portsKey is an order-independent identity of a port set.
func portsKey(ports []discoveryv1.EndpointPort) string {
	keys := make([]string, len(ports))
	for i, p := range ports {
		keys[i] = fmt.Sprintf("%s/%d/%s/%s", deref(p.Name), deref(p.Port), deref(p.Protocol), deref(p.AppProtocol))
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// endpointKey identifies an endpoint across updates: its pod, else its
// first address.
func endpointKey(ep discoveryv1.Endpoint) string {
	if ep.TargetRef != nil && ep.TargetRef.UID != "" {
		return "uid:" + string(ep.TargetRef.UID)
	}
	if len(ep.Addresses) > 0 {
		return "ip:" + ep.Addresses[0]
	}
	return ""
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// sliceLabels are the labels of a Service's slices.
func sliceLabels(svc *corev1.Service) map[string]string {
	out := maps.Clone(svc.Labels)
	if out == nil {
		out = map[string]string{}
	}
	out[discoveryv1.LabelServiceName] = svc.Name
	out[discoveryv1.LabelManagedBy] = ControllerName
	if endpointutil.Headless(svc) {
		out[endpointutil.LabelHeadless] = ""
	} else {
		delete(out, endpointutil.LabelHeadless)
	}
	return out
}
