package endpoint

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/controllers/endpoint/endpointutil"
)

// maxCapacity is upstream's limit of addresses in one Endpoints object;
// beyond it the object is truncated and annotated.
const maxCapacity = 1000

// desired computes the subsets of a Service's Endpoints from its pods.
// truncated reports that addresses beyond maxCapacity were dropped.
func desired(svc *corev1.Service, pods []*corev1.Pod) (subsets []corev1.EndpointSubset, truncated bool) {
	tolerate := svc.Spec.PublishNotReadyAddresses
	v6 := endpointutil.ServiceIPv6(svc)
	var raw []corev1.EndpointSubset
	for _, pod := range pods {
		if !endpointutil.ShouldInclude(pod, tolerate) {
			continue
		}
		ip := endpointutil.PodIPOf(pod, v6)
		if ip == "" {
			continue
		}
		addr := address(pod, svc, ip)
		ready := tolerate || endpointutil.IsReady(pod)
		if len(svc.Spec.Ports) == 0 {
			if endpointutil.Headless(svc) {
				raw = append(raw, subset(addr, nil, ready))
			}
			continue
		}
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			n, err := endpointutil.FindPort(pod, sp)
			if err != nil {
				continue // this pod does not serve this port
			}
			port := corev1.EndpointPort{Name: sp.Name, Port: n, Protocol: sp.Protocol, AppProtocol: sp.AppProtocol}
			raw = append(raw, subset(addr, []corev1.EndpointPort{port}, ready))
		}
	}
	return capacity(repack(raw))
}

func address(pod *corev1.Pod, svc *corev1.Service, ip string) corev1.EndpointAddress {
	a := corev1.EndpointAddress{IP: ip, Hostname: endpointutil.Hostname(pod, svc),
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}}
	if pod.Spec.NodeName != "" {
		node := pod.Spec.NodeName
		a.NodeName = &node
	}
	return a
}

func subset(a corev1.EndpointAddress, ports []corev1.EndpointPort, ready bool) corev1.EndpointSubset {
	if ready {
		return corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{a}, Ports: ports}
	}
	return corev1.EndpointSubset{NotReadyAddresses: []corev1.EndpointAddress{a}, Ports: ports}
}

// repack merges subsets so that each address appears once per port and
// addresses sharing the same set of ports share one subset, in a stable
// order (as upstream's RepackSubsets).
func repack(in []corev1.EndpointSubset) []corev1.EndpointSubset {
	type entry struct {
		addr  corev1.EndpointAddress
		ready bool
		ports map[string]corev1.EndpointPort
	}
	byAddr := map[string]*entry{}
	var order []string
	for _, s := range in {
		for _, list := range []struct {
			addrs []corev1.EndpointAddress
			ready bool
		}{{s.Addresses, true}, {s.NotReadyAddresses, false}} {
			for _, a := range list.addrs {
				k := addrKey(a, list.ready)
				e := byAddr[k]
				if e == nil {
					e = &entry{addr: a, ready: list.ready, ports: map[string]corev1.EndpointPort{}}
					byAddr[k] = e
					order = append(order, k)
				}
				for _, p := range s.Ports {
					e.ports[portKey(p)] = p
				}
			}
		}
	}
	groups := map[string]*corev1.EndpointSubset{}
	for _, k := range order {
		e := byAddr[k]
		ports := make([]corev1.EndpointPort, 0, len(e.ports))
		for _, p := range e.ports {
			ports = append(ports, p)
		}
		slices.SortFunc(ports, func(a, b corev1.EndpointPort) int { return strings.Compare(portKey(a), portKey(b)) })
		gk := ""
		for _, p := range ports {
			gk += portKey(p) + ";"
		}
		g := groups[gk]
		if g == nil {
			g = &corev1.EndpointSubset{Ports: ports}
			if len(ports) == 0 {
				g.Ports = nil
			}
			groups[gk] = g
		}
		if e.ready {
			g.Addresses = append(g.Addresses, e.addr)
		} else {
			g.NotReadyAddresses = append(g.NotReadyAddresses, e.addr)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]corev1.EndpointSubset, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		sortAddrs(g.Addresses)
		sortAddrs(g.NotReadyAddresses)
		out = append(out, *g)
	}
	return out
}

func addrKey(a corev1.EndpointAddress, ready bool) string {
	uid := ""
	if a.TargetRef != nil {
		uid = string(a.TargetRef.UID)
	}
	return fmt.Sprintf("%s/%s/%v", a.IP, uid, ready)
}

func portKey(p corev1.EndpointPort) string {
	app := ""
	if p.AppProtocol != nil {
		app = *p.AppProtocol
	}
	return fmt.Sprintf("%s/%d/%s/%s", p.Name, p.Port, p.Protocol, app)
}

func sortAddrs(a []corev1.EndpointAddress) {
	slices.SortFunc(a, func(x, y corev1.EndpointAddress) int {
		if c := cmp.Compare(x.IP, y.IP); c != 0 {
			return c
		}
		return cmp.Compare(addrKey(x, true), addrKey(y, true))
	})
}

// capacity keeps at most maxCapacity addresses, ready ones first.
func capacity(subsets []corev1.EndpointSubset) ([]corev1.EndpointSubset, bool) {
	total := 0
	for _, s := range subsets {
		total += len(s.Addresses) + len(s.NotReadyAddresses)
	}
	if total <= maxCapacity {
		return subsets, false
	}
	left := maxCapacity
	for i := range subsets {
		n := min(left, len(subsets[i].Addresses))
		subsets[i].Addresses = subsets[i].Addresses[:n]
		left -= n
	}
	for i := range subsets {
		n := min(left, len(subsets[i].NotReadyAddresses))
		subsets[i].NotReadyAddresses = subsets[i].NotReadyAddresses[:n]
		left -= n
	}
	return slices.DeleteFunc(subsets, func(s corev1.EndpointSubset) bool {
		return len(s.Addresses) == 0 && len(s.NotReadyAddresses) == 0
	}), true
}
