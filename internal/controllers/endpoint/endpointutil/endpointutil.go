package endpointutil

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// LabelHeadless marks the Endpoints and EndpointSlices of a headless
// Service.
const LabelHeadless = corev1.IsHeadlessService

// Selects reports whether the Service has a selector, i.e. whether the
// controllers manage its endpoints. Services without one (and
// ExternalName ones) keep whatever endpoints their users write.
func Selects(svc *corev1.Service) bool {
	return len(svc.Spec.Selector) > 0 && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// Headless reports whether the Service has no cluster IP.
func Headless(svc *corev1.Service) bool { return svc.Spec.ClusterIP == corev1.ClusterIPNone }

// IsTerminal reports whether the pod's containers are done for good.
func IsTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// IsReady reports the pod's Ready condition.
func IsReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ShouldInclude reports whether the pod belongs in a Service's endpoints
// at all: it has an IP, is not terminal and, unless includeTerminating,
// is not being deleted.
func ShouldInclude(pod *corev1.Pod, includeTerminating bool) bool {
	if IsTerminal(pod) {
		return false
	}
	if pod.Status.PodIP == "" && len(pod.Status.PodIPs) == 0 {
		return false
	}
	return includeTerminating || pod.DeletionTimestamp == nil
}

// PodIPs returns the pod's addresses.
func PodIPs(pod *corev1.Pod) []string {
	var out []string
	for _, ip := range pod.Status.PodIPs {
		out = append(out, ip.IP)
	}
	if len(out) == 0 && pod.Status.PodIP != "" {
		out = append(out, pod.Status.PodIP)
	}
	return out
}

// PodIPOf returns the pod's address of one family ("" when it has none).
func PodIPOf(pod *corev1.Pod, v6 bool) string {
	for _, ip := range PodIPs(pod) {
		if a, err := netip.ParseAddr(ip); err == nil && a.Unmap().Is6() == v6 {
			return ip
		}
	}
	return ""
}

// ServiceIPv6 reports whether the Service's primary family is IPv6.
func ServiceIPv6(svc *corev1.Service) bool {
	if len(svc.Spec.IPFamilies) > 0 {
		return svc.Spec.IPFamilies[0] == corev1.IPv6Protocol
	}
	if a, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
		return a.Is6()
	}
	return false
}

// FindPort resolves a Service port's target port on a pod: a number is
// used as it is, a name is looked up among the pod's container ports of
// the same protocol.
func FindPort(pod *corev1.Pod, port *corev1.ServicePort) (int32, error) {
	tp := port.TargetPort
	switch {
	case tp.Type == intstr.String:
		name := tp.StrVal
		for _, c := range pod.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == name && protocolOr(p.Protocol) == protocolOr(port.Protocol) {
					return p.ContainerPort, nil
				}
			}
		}
		return 0, fmt.Errorf("no suitable port for manifest: %s", pod.UID)
	case tp.IntVal == 0:
		return port.Port, nil
	}
	return tp.IntVal, nil
}

func protocolOr(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// Hostname is the DNS hostname a pod gets in a Service's endpoints: its
// spec.hostname, when its subdomain is the Service.
func Hostname(pod *corev1.Pod, svc *corev1.Service) string {
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace {
		return pod.Spec.Hostname
	}
	return ""
}

// PodsFor lists the pods a Service selects.
func PodsFor(pods corelisters.PodLister, svc *corev1.Service) ([]*corev1.Pod, error) {
	return pods.Pods(svc.Namespace).List(labels.Set(svc.Spec.Selector).AsSelectorPreValidated())
}

// ServicesFor returns the keys of the Services in the pod's namespace
// whose selector matches any of the given label sets.
func ServicesFor(services corelisters.ServiceLister, ns string, sets ...labels.Set) []string {
	list, err := services.Services(ns).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []string
	for _, svc := range list {
		if !Selects(svc) {
			continue
		}
		sel := labels.Set(svc.Spec.Selector).AsSelectorPreValidated()
		if slices.ContainsFunc(sets, func(s labels.Set) bool { return sel.Matches(s) }) {
			out = append(out, svc.Namespace+"/"+svc.Name)
		}
	}
	return out
}

// PodChanged reports whether an update of a pod can change any endpoint:
// its labels (membership), addresses, readiness, deletion, node, hostname
// or container ports.
func PodChanged(old, cur *corev1.Pod) (labelsChanged, endpointsChanged bool) {
	labelsChanged = !labels.Equals(old.Labels, cur.Labels)
	endpointsChanged = !slices.Equal(PodIPs(old), PodIPs(cur)) ||
		IsReady(old) != IsReady(cur) ||
		IsTerminal(old) != IsTerminal(cur) ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		old.Spec.NodeName != cur.Spec.NodeName ||
		old.Spec.Hostname != cur.Spec.Hostname || old.Spec.Subdomain != cur.Spec.Subdomain ||
		!equality.Semantic.DeepEqual(containerPorts(old), containerPorts(cur))
	return labelsChanged, endpointsChanged
}

func containerPorts(p *corev1.Pod) [][]corev1.ContainerPort {
	out := make([][]corev1.ContainerPort, len(p.Spec.Containers))
	for i, c := range p.Spec.Containers {
		out[i] = c.Ports
	}
	return out
}
