package dns

import (
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EnvVar is one environment variable.
type EnvVar struct{ Name, Value string }

// ServiceEnv returns the Service environment variables of a pod in
// namespace ns, as the kubelet sets them: the `kubernetes` Service of the
// default namespace always, and every Service of ns when enableServiceLinks
// (the default). Services without a cluster IP are left out. Variables the
// container sets itself take precedence; that is the caller's job.
func ServiceEnv(services []*corev1.Service, ns string, enableServiceLinks bool) []EnvVar {
	picked := map[string]*corev1.Service{}
	for _, s := range services {
		if !hasClusterIP(s) {
			continue
		}
		switch {
		case s.Namespace == ns && enableServiceLinks:
			picked[s.Name] = s
		case s.Namespace == metav1.NamespaceDefault && s.Name == "kubernetes":
			if _, ok := picked[s.Name]; !ok {
				picked[s.Name] = s
			}
		}
	}
	names := make([]string, 0, len(picked))
	for n := range picked {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []EnvVar
	for _, n := range names {
		out = append(out, serviceVars(picked[n])...)
	}
	return out
}

func hasClusterIP(s *corev1.Service) bool {
	return s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone
}

// envName turns a Service or port name into a variable name part.
func envName(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }

func serviceVars(s *corev1.Service) []EnvVar {
	name, ip := envName(s.Name), s.Spec.ClusterIP
	out := []EnvVar{{name + "_SERVICE_HOST", ip}}
	if len(s.Spec.Ports) == 0 {
		return out
	}
	out = append(out, EnvVar{name + "_SERVICE_PORT", strconv.Itoa(int(s.Spec.Ports[0].Port))})
	for _, p := range s.Spec.Ports {
		if p.Name != "" {
			out = append(out, EnvVar{name + "_SERVICE_PORT_" + envName(p.Name), strconv.Itoa(int(p.Port))})
		}
	}
	for i, p := range s.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		port := strconv.Itoa(int(p.Port))
		url := strings.ToLower(proto) + "://" + net.JoinHostPort(ip, port)
		if i == 0 {
			out = append(out, EnvVar{name + "_PORT", url})
		}
		prefix := name + "_PORT_" + port + "_" + strings.ToUpper(proto)
		out = append(out, EnvVar{prefix, url}, EnvVar{prefix + "_PROTO", strings.ToLower(proto)},
			EnvVar{prefix + "_PORT", port}, EnvVar{prefix + "_ADDR", ip})
	}
	return out
}
