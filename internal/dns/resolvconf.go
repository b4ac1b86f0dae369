package dns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Upstream's limits on what a pod's resolv.conf may hold.
const (
	MaxNameservers    = 3
	MaxSearchDomains  = 32
	MaxSearchListSize = 2048
)

// ResolvConf is the part of a resolv.conf that pods get.
type ResolvConf struct {
	Nameservers, Searches, Options []string
}

// ReadResolvConf reads a resolv.conf file.
func ReadResolvConf(path string) (ResolvConf, error) {
	f, err := os.Open(path)
	if err != nil {
		return ResolvConf{}, err
	}
	defer f.Close()
	return ParseResolvConf(f), nil
}

// ParseResolvConf parses nameserver, search/domain and options lines.
func ParseResolvConf(r io.Reader) ResolvConf {
	var rc ResolvConf
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			rc.Nameservers = append(rc.Nameservers, f[1])
		case "search", "domain":
			// The last search or domain line wins, as in glibc.
			rc.Searches = append([]string(nil), f[1:]...)
		case "options":
			rc.Options = append(rc.Options, f[1:]...)
		}
	}
	return rc
}

// PodDNS computes a pod's resolv.conf. ok is false when the runtime should
// copy the node's file unchanged (dnsPolicy Default without dnsConfig).
// warning is non-empty when ClusterFirst had to fall back to Default for
// want of a cluster DNS server.
func PodDNS(pod *corev1.Pod, clusterDNS []string, domain string, host ResolvConf) (rc ResolvConf, ok bool, warning string) {
	policy := pod.Spec.DNSPolicy
	switch {
	case policy == "":
		policy = corev1.DNSClusterFirst
		if pod.Spec.HostNetwork {
			policy = corev1.DNSDefault
		}
	case policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork:
		// Host-network pods need ClusterFirstWithHostNet for cluster DNS.
		policy = corev1.DNSDefault
	case policy == corev1.DNSClusterFirstWithHostNet:
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && len(clusterDNS) == 0 {
		warning = fmt.Sprintf("pod: %q. kubelet does not have ClusterDNS IP configured and cannot create Pod using %q policy. Falling back to %q policy.",
			pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")", corev1.DNSClusterFirst, corev1.DNSDefault)
		policy = corev1.DNSDefault
	}
	switch policy {
	case corev1.DNSClusterFirst:
		rc.Nameservers = append([]string(nil), clusterDNS...)
		rc.Searches = append([]string{pod.Namespace + ".svc." + domain, "svc." + domain, domain}, host.Searches...)
		rc.Options = []string{"ndots:5"}
	case corev1.DNSDefault:
		if pod.Spec.DNSConfig == nil {
			return ResolvConf{}, false, warning
		}
		rc = ResolvConf{Nameservers: slices.Clone(host.Nameservers), Searches: slices.Clone(host.Searches), Options: slices.Clone(host.Options)}
	}
	if c := pod.Spec.DNSConfig; c != nil {
		rc.Nameservers = dedupe(append(rc.Nameservers, c.Nameservers...))
		rc.Searches = dedupe(append(rc.Searches, c.Searches...))
		rc.Options = mergeOptions(rc.Options, c.Options)
	}
	return limit(rc), true, warning
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// mergeOptions lets the pod's options override same-named ones.
func mergeOptions(base []string, extra []corev1.PodDNSConfigOption) []string {
	out := slices.Clone(base)
	for _, o := range extra {
		opt := o.Name
		if o.Value != nil {
			opt += ":" + *o.Value
		}
		i := slices.IndexFunc(out, func(s string) bool { n, _, _ := strings.Cut(s, ":"); return n == o.Name })
		if i >= 0 {
			out[i] = opt
		} else {
			out = append(out, opt)
		}
	}
	return out
}

// limit applies upstream's bounds: 3 nameservers, 32 search domains in at
// most 2048 characters.
func limit(rc ResolvConf) ResolvConf {
	if len(rc.Nameservers) > MaxNameservers {
		rc.Nameservers = rc.Nameservers[:MaxNameservers]
	}
	if len(rc.Searches) > MaxSearchDomains {
		rc.Searches = rc.Searches[:MaxSearchDomains]
	}
	for len(rc.Searches) > 0 && len(strings.Join(rc.Searches, " ")) > MaxSearchListSize {
		rc.Searches = rc.Searches[:len(rc.Searches)-1]
	}
	return rc
}
