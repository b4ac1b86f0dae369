package printers

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func init() {
	register("", "services", typed[*corev1.Service]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("Type", "How the service is exposed."),
			str("Cluster-IP", "Cluster-internal IP of the service."),
			str("External-IP", "External IPs or load balancer ingress of the service."),
			str("Port(s)", "Ports exposed by the service."),
			ageCol(),
			wide("Selector", "Label selector of the pods backing the service."),
		},
		cells: serviceCells,
	})
}

func serviceCells(o *corev1.Service, now time.Time) ([]interface{}, error) {
	return []interface{}{
		o.Name, string(o.Spec.Type), orNone(o.Spec.ClusterIP), externalIP(o),
		servicePorts(o.Spec.Ports), age(o.ObjectMeta, now), mapSelector(o.Spec.Selector),
	}, nil
}

// externalIP follows upstream: explicit externalIPs for ClusterIP and
// NodePort, ingress (or "<pending>") for LoadBalancer, the DNS name for
// ExternalName. Server-side tables are always generated wide, so long
// ingress lists are not truncated here.
func externalIP(o *corev1.Service) string {
	switch o.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, "":
		if len(o.Spec.ExternalIPs) > 0 {
			return strings.Join(o.Spec.ExternalIPs, ",")
		}
		return none
	case corev1.ServiceTypeLoadBalancer:
		ips := ingressAddresses(o.Status.LoadBalancer.Ingress)
		ips = append(ips, o.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	case corev1.ServiceTypeExternalName:
		return o.Spec.ExternalName
	}
	return unknown
}

func ingressAddresses(ing []corev1.LoadBalancerIngress) []string {
	var out []string
	for _, i := range ing {
		switch {
		case i.IP != "":
			out = append(out, i.IP)
		case i.Hostname != "":
			out = append(out, i.Hostname)
		}
	}
	return out
}

// servicePorts renders "80/TCP" or, with a node port, "80:30080/TCP".
func servicePorts(ports []corev1.ServicePort) string {
	if len(ports) == 0 {
		return none
	}
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		if p.NodePort != 0 {
			out = append(out, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
			continue
		}
		out = append(out, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
	}
	return strings.Join(out, ",")
}
